//! The append-only, hash-chained audit log. [`append`] writes inside the caller's transaction, so
//! an event and its audit entry commit together or not at all; [`Store::verify_audit_chain`]
//! recomputes the chain and names the first broken entry.
//!
//! Appending is an insert into `audit_queue`, which concurrent transactions do not contend on
//! (the chain's single head row once serialised every audited transaction of a PostgreSQL
//! cluster). [`Store::seal_audit`] moves committed entries, in the order it finds them, into the
//! chain: each gets the next sequence number and its hash over the one before. Every instance
//! seals a few times a second ([`SEAL_EVERY`]), and whatever reads the chain seals first.

use anyhow::Context;

use crate::{
    security::sha256_hex,
    store::{Store, now_ms},
};

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub details: serde_json::Value,
}

fn entry_hash(
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
    prev: &str,
) -> String {
    // Lengths first, so that no two different entries serialise alike.
    sha256_hex(&format!(
        "{seq}|{at}|{}:{actor}|{}:{action}|{}:{subject}|{}:{details}|{prev}",
        actor.len(),
        action.len(),
        subject.len(),
        details.len()
    ))
}

/// How often each instance seals the queued entries into the chain.
pub const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Entries sealed in one transaction at most.
const SEAL_BATCH: i64 = 1000;

/// Appends `event` inside `tx`: queued, and sealed into the chain after `tx` commits.
pub async fn append(tx: &mut crate::store::WriteTx, event: &Event<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "insert into audit_queue (at, actor, action, subject, details) values ($1, $2, $3, $4, $5)",
    )
    .bind(now_ms())
    .bind(event.actor)
    .bind(event.action)
    .bind(event.subject)
    .bind(event.details.to_string())
    .execute(&mut **tx)
    .await
    .context("appending to the audit log")?;
    Ok(())
}

/// One queued entry.
type Queued = (i64, i64, String, String, String, String);

/// The chain's entries made of `queued` after the head `(seq, hash)`, in order: each row is
/// `(seq, at, actor, action, subject, details, prev_hash, hash)`; and the new head.
#[allow(clippy::type_complexity)]
fn seal(
    head: (i64, String),
    queued: &[Queued],
) -> (
    Vec<(i64, i64, &str, &str, &str, &str, String, String)>,
    (i64, String),
) {
    let (mut seq, mut prev) = head;
    let mut sealed = Vec::with_capacity(queued.len());
    for (_, at, actor, action, subject, details) in queued {
        seq += 1;
        let hash = entry_hash(seq, *at, actor, action, subject, details, &prev);
        sealed.push((
            seq,
            *at,
            actor.as_str(),
            action.as_str(),
            subject.as_str(),
            details.as_str(),
            prev,
            hash.clone(),
        ));
        prev = hash;
    }
    (sealed, (seq, prev))
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        entries: i64,
    },
    /// The first entry whose hash, link or sequence number does not hold.
    Broken {
        seq: i64,
        why: String,
    },
}

impl Store {
    /// Seals every committed queued entry into the chain; how many. Sealers on several
    /// instances take turns: on PostgreSQL the head's row is taken in a REPEATABLE READ
    /// transaction, so what one reads, chains and deletes is one snapshot, and a sealer that
    /// met another's change gives way (and the entries are left for the next turn).
    pub async fn seal_audit(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let mut tx = self.begin_snapshot_write().await?;
            let head: Result<(i64, String), _> =
                sqlx::query_as("update audit_head set seq = seq where id = 1 returning seq, hash")
                    .fetch_one(&mut *tx)
                    .await;
            let head = match head.context("taking the audit chain's head") {
                Ok(head) => head,
                // Another instance sealed meanwhile (a serialisation failure): it took these.
                Err(e) if crate::store::is_serialization_failure(&e) => return Ok(total),
                Err(e) => return Err(e),
            };
            let queued: Vec<Queued> = sqlx::query_as(
                "select id, at, actor, action, subject, details from audit_queue order by id limit $1",
            )
            .bind(SEAL_BATCH)
            .fetch_all(&mut *tx)
            .await
            .context("reading the queued audit entries")?;
            if queued.is_empty() {
                tx.rollback().await.context("ending a seal")?;
                return Ok(total);
            }
            let (sealed, (seq, hash)) = seal(head, &queued);
            for (seq, at, actor, action, subject, details, prev, hash) in &sealed {
                sqlx::query(
                    "insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(seq)
                .bind(at)
                .bind(*actor)
                .bind(*action)
                .bind(*subject)
                .bind(*details)
                .bind(prev)
                .bind(hash)
                .execute(&mut *tx)
                .await
                .context("sealing an audit entry")?;
            }
            // The rows read, and no other: the range holds nothing else in this snapshot.
            let (first, last) = (queued[0].0, queued[queued.len() - 1].0);
            sqlx::query("delete from audit_queue where id >= $1 and id <= $2")
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await
                .context("emptying the audit queue")?;
            sqlx::query("update audit_head set seq = $1, hash = $2 where id = 1")
                .bind(seq)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .context("moving the audit chain's head")?;
            tx.commit().await.context("sealing audit entries")?;
            total += queued.len();
            if (queued.len() as i64) < SEAL_BATCH {
                return Ok(total);
            }
        }
    }

    /// Walks the whole chain in order and recomputes every hash (after sealing what is queued).
    pub async fn verify_audit_chain(&self) -> anyhow::Result<ChainReport> {
        self.seal_audit().await?;
        type Row = (i64, i64, String, String, String, String, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "select seq, at, actor, action, subject, details, prev_hash, hash from audit_log order by seq",
        )
        .fetch_all(self.pool())
        .await
        .context("reading the audit log")?;
        let mut expected_prev = "genesis".to_owned();
        let mut expected_seq = 1;
        for (seq, at, actor, action, subject, details, prev, hash) in rows {
            let broken = |why: &str| ChainReport::Broken {
                seq,
                why: why.to_owned(),
            };
            if seq != expected_seq {
                return Ok(ChainReport::Broken {
                    seq: expected_seq,
                    why: format!("entry {expected_seq} is missing (next is {seq})"),
                });
            }
            if prev != expected_prev {
                return Ok(broken("it does not link to the entry before it"));
            }
            if entry_hash(seq, at, &actor, &action, &subject, &details, &prev) != hash {
                return Ok(broken("its content does not match its hash"));
            }
            expected_prev = hash;
            expected_seq += 1;
        }
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("select seq, hash from audit_head where id = 1")
                .fetch_one(self.pool())
                .await
                .context("reading the audit chain's head")?;
        if head_seq != expected_seq - 1 || head_hash != expected_prev {
            return Ok(ChainReport::Broken {
                seq: expected_seq,
                why: "entries after this one were removed".into(),
            });
        }
        Ok(ChainReport::Intact { entries: head_seq })
    }

    /// The latest entries about `subject`, newest first (for tests and support).
    pub async fn audit_entries_about(
        &self,
        subject: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        self.seal_audit().await?;
        sqlx::query_as("select action, actor from audit_log where subject = $1 order by seq desc")
            .bind(subject)
            .fetch_all(self.pool())
            .await
            .context("reading audit entries")
    }
}

/// A signed statement of the chain's head, kept outside the database: "after `seq` entries the
/// chain's hash was `hash`". Whoever can write the database can rebuild the whole chain with
/// new hashes; they cannot make these statements, kept in a file of the data folder and
/// served to any witness that polls `GET /api/v1/audit/checkpoint`, agree with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// Unix ms.
    pub at: i64,
    /// The checkpoint key's public half, hex (Ed25519).
    pub key: String,
    /// Ed25519 signature of [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: i64, hash: &str, at: i64) -> String {
        format!("motcua audit checkpoint\n{seq}\n{hash}\n{at}")
    }

    /// Whether the signature holds for the key it names.
    pub fn signed(&self) -> bool {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let key = motcua_shared::credential::from_hex(&self.key)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok());
        let signature = motcua_shared::credential::from_hex(&self.signature)
            .and_then(|b| Signature::from_slice(&b).ok());
        match (key, signature) {
            (Some(key), Some(signature)) => key
                .verify(
                    Self::message(self.seq, &self.hash, self.at).as_bytes(),
                    &signature,
                )
                .is_ok(),
            _ => false,
        }
    }
}

/// The key id of the checkpoint key in the key store.
pub const CHECKPOINT_KID: &str = "auditcheckpoint";

/// The file the checkpoints are appended to, one JSON line each.
pub fn checkpoints_file(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("audit").join("checkpoints.jsonl")
}

/// The checkpoints written so far, oldest first (an unreadable line is skipped, and reported by
/// [`verify_with_checkpoints`] as not matching).
pub fn read_checkpoints(data_dir: &std::path::Path) -> anyhow::Result<Vec<Checkpoint>> {
    let path = checkpoints_file(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Signs the chain's head now and appends it to the checkpoints file, unless the last
/// checkpoint already names this head. Returns the newest checkpoint.
pub async fn checkpoint(
    store: &Store,
    keys: &dyn crate::wallet::keys::KeyStore,
    data_dir: &std::path::Path,
) -> anyhow::Result<Checkpoint> {
    use ed25519_dalek::Signer;
    store.seal_audit().await?;
    let (seq, hash): (i64, String) =
        sqlx::query_as("select seq, hash from audit_head where id = 1")
            .fetch_one(store.pool())
            .await
            .context("reading the audit chain's head")?;
    let existing = read_checkpoints(data_dir)?;
    if let Some(last) = existing.last()
        && last.seq == seq
        && last.hash == hash
    {
        return Ok(last.clone());
    }
    let key = keys
        .load(CHECKPOINT_KID)
        .or_else(|_| keys.generate(CHECKPOINT_KID))?;
    let at = now_ms();
    let signed = Checkpoint {
        seq,
        key: motcua_shared::credential::public_hex(&key),
        signature: motcua_shared::credential::to_hex(
            &key.sign(Checkpoint::message(seq, &hash, at).as_bytes())
                .to_bytes(),
        ),
        hash,
        at,
    };
    let path = checkpoints_file(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut line = serde_json::to_string(&signed)?;
    line.push('\n');
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    Ok(signed)
}

/// Checks the chain, then every checkpoint against it: each must be signed by `key` (hex; the
/// key of the checkpoints file's first line when `None`) and name a hash the chain still has.
pub async fn verify_with_checkpoints(
    store: &Store,
    checkpoints: &[Checkpoint],
    key: Option<&str>,
) -> anyhow::Result<ChainReport> {
    let report = store.verify_audit_chain().await?;
    if let ChainReport::Broken { .. } = report {
        return Ok(report);
    }
    let ChainReport::Intact { entries } = report else {
        return Ok(report);
    };
    let Some(trusted) = key
        .map(str::to_owned)
        .or_else(|| checkpoints.first().map(|c| c.key.clone()))
    else {
        return Ok(report);
    };
    for checkpoint in checkpoints {
        if checkpoint.key != trusted || !checkpoint.signed() {
            return Ok(ChainReport::Broken {
                seq: checkpoint.seq,
                why: "a checkpoint's signature does not hold".into(),
            });
        }
        if checkpoint.seq > entries {
            return Ok(ChainReport::Broken {
                seq: entries + 1,
                why: format!(
                    "entries up to {} were signed at a checkpoint and are gone",
                    checkpoint.seq
                ),
            });
        }
        let at: Option<(String,)> = if checkpoint.seq == 0 {
            Some(("genesis".into(),))
        } else {
            sqlx::query_as("select hash from audit_log where seq = $1")
                .bind(checkpoint.seq)
                .fetch_optional(store.pool())
                .await
                .context("reading the audit log")?
        };
        if at.map(|(h,)| h) != Some(checkpoint.hash.clone()) {
            return Ok(ChainReport::Broken {
                seq: checkpoint.seq,
                why: "the chain was rewritten: it no longer matches the checkpoint signed then"
                    .into(),
            });
        }
    }
    Ok(report)
}

/// Writes a checkpoint every `every` until `stop`.
pub async fn run_checkpoints(
    state: crate::AppState,
    every: std::time::Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    crate::workers::every("writing the audit checkpoint", every, stop, || async {
        checkpoint(&state.store, state.keys.as_ref(), &state.config.data_dir)
            .await
            .map(drop)
    })
    .await;
}
