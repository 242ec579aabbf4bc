//! The agencies' signing keys and the national root key. Private keys live behind [`KeyStore`]
//! (files in the data folder, mode 0600, today; an HSM over PKCS#11 can take its place), never
//! in the database; the database holds each key's public half, agency and validity, which is
//! what the trust list publishes. Old keys keep verifying what they signed until withdrawn.

use std::path::PathBuf;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use motcua_shared::credential::{TrustedKey, from_hex, public_hex, to_hex};

use crate::store::{Store, StoreResult, now_ms};

/// Where private keys are kept.
pub trait KeyStore: Send + Sync {
    /// Makes a new key and keeps it under `kid`.
    fn generate(&self, kid: &str) -> anyhow::Result<SigningKey>;
    /// The private key kept under `kid`.
    fn load(&self, kid: &str) -> anyhow::Result<SigningKey>;
}

/// Keys as files `DIR/<kid>.key` (hex), readable by this user only.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    dir: PathBuf,
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= 16 && kid.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl FileKeyStore {
    pub fn new(dir: PathBuf) -> FileKeyStore {
        FileKeyStore { dir }
    }

    fn path(&self, kid: &str) -> anyhow::Result<PathBuf> {
        anyhow::ensure!(valid_kid(kid), "not a key id: {kid:?}");
        Ok(self.dir.join(format!("{kid}.key")))
    }
}

fn random_key() -> SigningKey {
    let mut seed = [0u8; 32];
    // The OS random source failing is not recoverable; a predictable key would be worse.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut seed).expect("the operating system's random source is unavailable");
    SigningKey::from_bytes(&seed)
}

impl KeyStore for FileKeyStore {
    fn generate(&self, kid: &str) -> anyhow::Result<SigningKey> {
        let path = self.path(kid)?;
        anyhow::ensure!(!path.exists(), "key {kid} exists already");
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let key = random_key();
        crate::security::write_private_file(&path, to_hex(key.as_bytes()).as_bytes())?;
        Ok(key)
    }

    fn load(&self, kid: &str) -> anyhow::Result<SigningKey> {
        let path = self.path(kid)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the key {}", path.display()))?;
        let bytes: [u8; 32] = from_hex(text.trim())
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{} is not an Ed25519 key", path.display()))?;
        Ok(SigningKey::from_bytes(&bytes))
    }
}

/// The root key's id in the key store.
pub const ROOT_KID: &str = "root";

/// The national root key, made on first use.
pub fn root_key(store: &dyn KeyStore) -> anyhow::Result<SigningKey> {
    store.load(ROOT_KID).or_else(|_| store.generate(ROOT_KID))
}

/// An agency's key, ready to sign.
pub struct IssuerKey {
    pub kid: String,
    pub agency: String,
    pub key: SigningKey,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuerKey({}, {})", self.kid, self.agency)
    }
}

/// A key as listed by `motcua-server keys list`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRecord {
    pub kid: String,
    pub agency_code: String,
    pub public_key: String,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub withdrawn_at: Option<i64>,
}

impl Store {
    /// Every issuer key with its agency's name (from `names`), as the trust list publishes them.
    pub async fn trusted_keys(
        &self,
        names: &std::collections::HashMap<String, motcua_shared::Localized>,
    ) -> StoreResult<Vec<TrustedKey>> {
        let rows: Vec<KeyRecord> = sqlx::query_as(
            "select kid, agency_code, public_key, valid_from, valid_until, withdrawn_at \
             from issuer_keys order by agency_code, valid_from",
        )
        .fetch_all(self.pool())
        .await
        .context("reading the issuer keys")?;
        Ok(rows
            .into_iter()
            .map(|r| TrustedKey {
                agency_name: names
                    .get(&r.agency_code)
                    .map(|n| n.vi.clone())
                    .unwrap_or_default(),
                kid: r.kid,
                agency: r.agency_code,
                public_key: r.public_key,
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                withdrawn: r.withdrawn_at.is_some(),
            })
            .collect())
    }

    /// Every issuer key, for the operator.
    pub async fn issuer_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        Ok(sqlx::query_as(
            "select kid, agency_code, public_key, valid_from, valid_until, withdrawn_at \
             from issuer_keys order by agency_code, valid_from",
        )
        .fetch_all(self.pool())
        .await
        .context("reading the issuer keys")?)
    }

    /// The agency's newest key that signs now, made (and recorded) when it has none: a new
    /// key for `rotate`.
    pub async fn signing_key(
        &self,
        keys: &dyn KeyStore,
        agency: &str,
        rotate: bool,
    ) -> StoreResult<IssuerKey> {
        let now = now_ms() / 1000;
        if !rotate {
            let current: Option<(String,)> = sqlx::query_as(
                "select kid from issuer_keys where agency_code = $1 and withdrawn_at is null \
                   and valid_from <= $2 and (valid_until is null or valid_until > $2) \
                 order by valid_from desc limit 1",
            )
            .bind(agency)
            .bind(now)
            .fetch_optional(self.pool())
            .await
            .context("finding an agency's key")?;
            if let Some((kid,)) = current {
                return Ok(IssuerKey {
                    key: keys.load(&kid)?,
                    kid,
                    agency: agency.to_owned(),
                });
            }
        }
        // Two random bytes name a key (they are in every QR); a clash is drawn again.
        for _ in 0..32 {
            let mut id = [0u8; 2];
            getrandom::fill(&mut id).context("the random source")?;
            let kid = to_hex(&id);
            if kid == ROOT_KID {
                continue;
            }
            let mut tx = self.begin_write().await?;
            let taken: Option<(String,)> =
                sqlx::query_as("select kid from issuer_keys where kid = $1")
                    .bind(&kid)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("checking a key id")?;
            if taken.is_some() {
                continue;
            }
            let key = keys.generate(&kid)?;
            // A rotation retires the keys before it: they verify what they signed, sign no more.
            sqlx::query(
                "update issuer_keys set valid_until = $1 where agency_code = $2 and valid_until is null",
            )
            .bind(now)
            .bind(agency)
            .execute(&mut *tx)
            .await
            .context("retiring an agency's keys")?;
            sqlx::query(
                "insert into issuer_keys (kid, agency_code, public_key, valid_from, created_at) \
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(&kid)
            .bind(agency)
            .bind(public_hex(&key))
            .bind(now)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context("recording a key")?;
            crate::audit::append(
                &mut tx,
                &crate::audit::Event {
                    actor: "system:keys",
                    action: "credential.key_created",
                    subject: &format!("key:{kid}"),
                    details: serde_json::json!({ "agency": agency, "rotation": rotate }),
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(IssuerKey {
                kid,
                agency: agency.to_owned(),
                key,
            });
        }
        Err(anyhow::anyhow!("no free key id after 32 draws").into())
    }

    /// Withdraws a key: what it signed verifies no more. False when there is no such key.
    pub async fn withdraw_key(&self, kid: &str, actor: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update issuer_keys set withdrawn_at = $1 where kid = $2 and withdrawn_at is null",
        )
        .bind(now_ms() / 1000)
        .bind(kid)
        .execute(&mut *tx)
        .await
        .context("withdrawing a key")?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor,
                action: "credential.key_withdrawn",
                subject: &format!("key:{kid}"),
                details: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_for_this_user_only_and_reads_back() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = FileKeyStore::new(dir.path().join("keys"));
        let key = store.generate("ab12").expect("made");
        assert_eq!(store.load("ab12").expect("read").to_bytes(), key.to_bytes());
        assert!(store.generate("ab12").is_err(), "never overwritten");
        assert!(store.load("../etc").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("keys/ab12.key"))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
