//! Content-addressed storage of documents on disk: `blobs/ab/cdef…` named by the SHA-256 of the
//! content. A blob is written to a temporary file in the same folder and renamed into place, so
//! a reader never sees a partial blob and a crash leaves at most an unnamed temporary file. The
//! same content is stored once. (Object storage can take this place behind the same two calls.)

use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

fn valid_digest(sha: &str) -> bool {
    sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    pub fn new(dir: PathBuf) -> BlobStore {
        BlobStore { dir }
    }

    fn path(&self, sha: &str) -> PathBuf {
        self.dir.join(&sha[..2]).join(&sha[2..])
    }

    /// Stores `bytes` and returns their SHA-256 (hex). Idempotent.
    pub async fn put(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let sha = crate::security::sha256_hex_bytes(bytes);
        let path = self.path(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        let folder = path
            .parent()
            .context("a blob path has a folder")?
            .to_owned();
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            use std::io::Write;
            std::fs::create_dir_all(&folder).context("creating a blob folder")?;
            let mut file = tempfile::NamedTempFile::new_in(&folder)
                .context("creating a blob's temporary file")?;
            file.write_all(&bytes).context("writing a blob")?;
            file.as_file().sync_all().context("syncing a blob")?;
            file.persist(&path).context("naming a blob")?;
            Ok(())
        })
        .await
        .context("the blob writer stopped")??;
        Ok(sha)
    }

    /// The content stored under `sha`.
    pub async fn get(&self, sha: &str) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(valid_digest(sha), "not a SHA-256 digest: {sha}");
        tokio::fs::read(self.path(sha))
            .await
            .with_context(|| format!("reading blob {sha}"))
    }
}

#[cfg(test)]
mod tests {
    use super::BlobStore;

    #[tokio::test]
    async fn content_is_stored_once_under_its_digest_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::new(dir.path().to_path_buf());
        let sha = store.put(b"%PDF-1.7 hello").await.expect("stored");
        assert_eq!(sha.len(), 64);
        assert_eq!(store.put(b"%PDF-1.7 hello").await.expect("stored"), sha);
        assert_eq!(store.get(&sha).await.expect("read"), b"%PDF-1.7 hello");
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "one file, no temporary left: {files:?}");
        assert!(store.get("../../etc/passwd").await.is_err());
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("reads").flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
