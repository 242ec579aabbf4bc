//! Content-addressed storage of documents, named by the SHA-256 of the content (`ab/cdef…`), in
//! one of two places chosen by `MOTCUA_BLOB_URL`:
//!
//! - a folder (the default, `DATA_DIR/blobs`): a blob is written to a temporary file in its
//!   folder, synced, and renamed into place, so a reader never sees a partial blob and a crash
//!   leaves at most an unnamed temporary file;
//! - S3-compatible object storage (`s3://bucket/prefix`), through the `object_store` crate: a
//!   PUT is all or nothing, and every instance of the server reads what any of them wrote.
//!
//! The same content is stored once either way.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use object_store::{ObjectStore, path::Path as ObjectPath};

/// Where blobs are kept.
#[derive(Debug, Clone)]
pub enum BlobStore {
    Folder(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        /// What `MOTCUA_BLOB_URL` said, for messages.
        url: String,
    },
}

/// How to reach S3-compatible storage beyond its URL (credentials, an endpoint other than
/// Amazon's such as MinIO's, plain http for a local one).
#[derive(Debug, Clone, Default)]
pub struct ObjectOptions {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub allow_http: bool,
}

fn valid_digest(sha: &str) -> bool {
    sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    /// A folder of blobs.
    pub fn new(dir: PathBuf) -> BlobStore {
        BlobStore::Folder(dir)
    }

    /// The store `url` names: empty for `default_dir`, a path or `file://` URL for a folder,
    /// `s3://bucket[/prefix]` for object storage reached with `options`.
    pub fn open(
        url: &str,
        default_dir: PathBuf,
        options: &ObjectOptions,
    ) -> anyhow::Result<BlobStore> {
        if url.is_empty() {
            return Ok(BlobStore::Folder(default_dir));
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(BlobStore::Folder(PathBuf::from(path)));
        }
        if !url.contains("://") {
            return Ok(BlobStore::Folder(PathBuf::from(url)));
        }
        let parsed = url::Url::parse(url).with_context(|| format!("blob_url {url:?}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "s3" | "s3a"),
            "blob_url must be a folder, file://… or s3://bucket/prefix, not {url:?}"
        );
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_url(url)
            .with_allow_http(options.allow_http)
            .with_region(if options.region.is_empty() {
                "us-east-1"
            } else {
                &options.region
            });
        if !options.endpoint.is_empty() {
            builder = builder
                .with_endpoint(&options.endpoint)
                // A self-hosted store (MinIO, Ceph, a test server) names buckets in the path.
                .with_virtual_hosted_style_request(false);
        }
        if !options.access_key_id.is_empty() {
            builder = builder
                .with_access_key_id(&options.access_key_id)
                .with_secret_access_key(&options.secret_access_key);
        }
        let store = builder.build().context("object storage")?;
        Ok(BlobStore::Object {
            store: Arc::new(store),
            prefix: ObjectPath::from(parsed.path().trim_matches('/')),
            url: url.to_owned(),
        })
    }

    fn object_path(prefix: &ObjectPath, sha: &str) -> ObjectPath {
        let name = format!("{}/{}", &sha[..2], &sha[2..]);
        if prefix.as_ref().is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", prefix.as_ref()))
        }
    }

    /// Stores `bytes` and returns their SHA-256 (hex). Idempotent.
    pub async fn put(&self, bytes: &[u8]) -> anyhow::Result<String> {
        let sha = crate::security::sha256_hex_bytes(bytes);
        match self {
            BlobStore::Folder(dir) => put_in_folder(dir, &sha, bytes).await?,
            BlobStore::Object { store, prefix, url } => {
                let path = Self::object_path(prefix, &sha);
                match store.head(&path).await {
                    Ok(_) => {}
                    Err(object_store::Error::NotFound { .. }) => {
                        store
                            .put(&path, bytes.to_vec().into())
                            .await
                            .with_context(|| format!("storing blob {sha} in {url}"))?;
                    }
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context(format!("reaching {url}")));
                    }
                }
            }
        }
        Ok(sha)
    }

    /// The content stored under `sha`.
    pub async fn get(&self, sha: &str) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(valid_digest(sha), "not a SHA-256 digest: {sha}");
        match self {
            BlobStore::Folder(dir) => tokio::fs::read(dir.join(&sha[..2]).join(&sha[2..]))
                .await
                .with_context(|| format!("reading blob {sha}")),
            BlobStore::Object { store, prefix, url } => {
                let found = store
                    .get(&Self::object_path(prefix, sha))
                    .await
                    .with_context(|| format!("reading blob {sha} from {url}"))?;
                Ok(found
                    .bytes()
                    .await
                    .with_context(|| format!("reading blob {sha} from {url}"))?
                    .to_vec())
            }
        }
    }
}

async fn put_in_folder(dir: &std::path::Path, sha: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(&sha[..2]).join(&sha[2..]);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(());
    }
    let folder = path
        .parent()
        .context("a blob path has a folder")?
        .to_owned();
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&folder).context("creating a blob folder")?;
        let mut file =
            tempfile::NamedTempFile::new_in(&folder).context("creating a blob's temporary file")?;
        file.write_all(&bytes).context("writing a blob")?;
        file.as_file().sync_all().context("syncing a blob")?;
        file.persist(&path).context("naming a blob")?;
        Ok(())
    })
    .await
    .context("the blob writer stopped")?
}

#[cfg(test)]
mod tests {
    use super::{BlobStore, ObjectOptions};

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

    #[test]
    fn the_url_chooses_the_place() {
        let default = std::path::PathBuf::from("/data/blobs");
        let none = ObjectOptions::default();
        let folder = |url: &str| match BlobStore::open(url, default.clone(), &none) {
            Ok(BlobStore::Folder(dir)) => dir,
            other => panic!("{url}: {other:?}"),
        };
        assert_eq!(folder(""), default);
        assert_eq!(folder("/srv/blobs"), std::path::PathBuf::from("/srv/blobs"));
        assert_eq!(
            folder("file:///srv/blobs"),
            std::path::PathBuf::from("/srv/blobs")
        );
        match BlobStore::open("s3://documents/motcua", default.clone(), &none) {
            Ok(BlobStore::Object { prefix, .. }) => assert_eq!(prefix.as_ref(), "motcua"),
            other => panic!("{other:?}"),
        }
        assert!(BlobStore::open("ftp://host/x", default, &none).is_err());
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
