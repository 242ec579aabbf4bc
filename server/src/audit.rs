//! The append-only, hash-chained audit log. [`append`] writes inside the caller's transaction, so
//! an event and its audit entry commit together or not at all; [`Store::verify_audit_chain`]
//! recomputes the chain and names the first broken entry.

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

/// Appends `event` to the chain inside `tx`.
pub async fn append(tx: &mut crate::store::WriteTx, event: &Event<'_>) -> anyhow::Result<()> {
    // Taking the head first serialises concurrent appenders; the head's hash is read after the
    // lock, so it is the previous entry's.
    let (seq, prev): (i64, String) =
        sqlx::query_as("update audit_head set seq = seq + 1 where id = 1 returning seq, hash")
            .fetch_one(&mut **tx)
            .await
            .context("taking the audit chain's head")?;
    let at = now_ms();
    let details = event.details.to_string();
    let hash = entry_hash(
        seq,
        at,
        event.actor,
        event.action,
        event.subject,
        &details,
        &prev,
    );
    sqlx::query(
        "insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(event.actor)
    .bind(event.action)
    .bind(event.subject)
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await
    .context("appending to the audit log")?;
    sqlx::query("update audit_head set hash = $1 where id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .context("moving the audit chain's head")?;
    Ok(())
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
    /// Walks the whole chain in order and recomputes every hash.
    pub async fn verify_audit_chain(&self) -> anyhow::Result<ChainReport> {
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
        sqlx::query_as("select action, actor from audit_log where subject = $1 order by seq desc")
            .bind(subject)
            .fetch_all(self.pool())
            .await
            .context("reading audit entries")
    }
}
