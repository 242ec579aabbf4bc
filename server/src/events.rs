//! Domain events: what happened, typed. Every capability emits its events with [`emit`] inside
//! the transaction of what happened; the outbox dispatcher (`crate::outbox`) delivers each one to
//! every registered consumer. Consumers match on [`DomainEvent`], so a new variant is a compile
//! error in every consumer that has not decided what it means for it.

use anyhow::Context;
use motcua_shared::dossier::DossierStatus;
use serde::{Deserialize, Serialize};

use crate::store::{StoreResult, WriteTx, now_ms};

/// The version of the stored event shape. A consumer reading an older version upgrades it in
/// [`Envelope::decode`]; a newer one than it knows is refused (and retried after a deploy).
pub const SCHEMA_VERSION: i64 = 1;

/// Something that happened, as every consumer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A dossier changed: filed, acted on by an officer or its applicant, found late, claimed.
    Dossier(DossierEvent),
    /// A credential in someone's wallet was issued, or its status changed.
    Credential(CredentialEvent),
    /// A payment started, was paid, failed or expired; money going back, and its refund.
    Payment(PaymentEvent),
    /// A notice was written to a person's inbox (pushed to their devices, shown live).
    Notice(NoticeEvent),
    /// Something is due (an obligation, a supplement, a renewal): sent once per `key`.
    Reminder(ReminderEvent),
    /// Feedback was sent, answered by the desk, or its answer judged by the sender.
    Feedback(FeedbackEvent),
    /// A person rated the service of their dossier (or changed their rating).
    Rating(RatingEvent),
}

impl DomainEvent {
    /// The dotted name kept beside the payload, for operators and filters: `dossier.received`.
    pub fn topic(&self) -> String {
        match self {
            DomainEvent::Dossier(e) => format!("dossier.{}", e.change.as_str()),
            DomainEvent::Credential(e) => format!("credential.{}", e.change.as_str()),
            DomainEvent::Payment(e) => format!("payment.{}", e.change.as_str()),
            DomainEvent::Notice(_) => "notice.written".to_owned(),
            DomainEvent::Reminder(e) => format!("reminder.{}", e.template),
            DomainEvent::Feedback(e) => format!("feedback.{}", e.change.as_str()),
            DomainEvent::Rating(_) => "rating.given".to_owned(),
        }
    }

    /// What the event is about and its place in that subject's order, for consumers that must
    /// keep it: a dossier's transitions.
    pub fn subject(&self) -> Option<(String, i64)> {
        match self {
            DomainEvent::Dossier(e) => Some((format!("dossier:{}", e.dossier_id), e.seq)),
            _ => None,
        }
    }
}

/// A change of a dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DossierEvent {
    pub dossier_id: String,
    pub change: DossierChange,
    /// `None` for the filing itself.
    pub from: Option<DossierStatus>,
    pub to: DossierStatus,
    /// Given by an officer (a reason, a new date), shown to the applicant.
    pub reason: Option<String>,
    /// Who: `person:<id>`, `officer:<id>`, `system:<job>`.
    pub actor: String,
    /// Its place among the dossier's transitions (1 for the filing); 0 in events stored before
    /// it was kept.
    #[serde(default)]
    pub seq: i64,
}

/// What happened to a dossier. Also the `action` of its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierChange {
    Submitted,
    Received,
    SupplementRequested,
    Resubmitted,
    ProcessingStarted,
    Approved,
    Rejected,
    ResultIssued,
    Withdrawn,
    /// Its result is late: the applicant is sent an apology with a new date.
    Overdue,
    /// Not received within 8 office hours: escalated to the desk's lead.
    ReceiptOverdue,
    Claimed,
    Assigned,
    /// Its fee was paid; a dossier that waited for it starts its legal clock now.
    FeePaid,
    /// Filed with a fee due at filing, never paid: closed (as withdrawn) after the time allowed.
    Lapsed,
}

impl DossierChange {
    pub const ALL: [DossierChange; 15] = [
        DossierChange::Submitted,
        DossierChange::Received,
        DossierChange::SupplementRequested,
        DossierChange::Resubmitted,
        DossierChange::ProcessingStarted,
        DossierChange::Approved,
        DossierChange::Rejected,
        DossierChange::ResultIssued,
        DossierChange::Withdrawn,
        DossierChange::Overdue,
        DossierChange::ReceiptOverdue,
        DossierChange::Claimed,
        DossierChange::Assigned,
        DossierChange::FeePaid,
        DossierChange::Lapsed,
    ];

    /// The change a timeline's `action` names.
    pub fn parse(text: &str) -> Option<DossierChange> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DossierChange::Submitted => "submitted",
            DossierChange::Received => "received",
            DossierChange::SupplementRequested => "supplement_requested",
            DossierChange::Resubmitted => "resubmitted",
            DossierChange::ProcessingStarted => "processing_started",
            DossierChange::Approved => "approved",
            DossierChange::Rejected => "rejected",
            DossierChange::ResultIssued => "result_issued",
            DossierChange::Withdrawn => "withdrawn",
            DossierChange::Overdue => "overdue",
            DossierChange::ReceiptOverdue => "receipt_overdue",
            DossierChange::Claimed => "claimed",
            DossierChange::Assigned => "assigned",
            DossierChange::FeePaid => "fee_paid",
            DossierChange::Lapsed => "lapsed",
        }
    }
}

/// A change of a credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialEvent {
    pub credential_id: String,
    /// The holder.
    pub person_id: String,
    pub change: CredentialChange,
    pub reason: Option<String>,
    pub actor: String,
}

/// What happened to a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialChange {
    Issued,
    Revoked,
    Suspended,
    /// A suspension was lifted.
    Reinstated,
    /// A newer credential (a renewed licence) took its place.
    Replaced,
}

impl CredentialChange {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialChange::Issued => "issued",
            CredentialChange::Revoked => "revoked",
            CredentialChange::Suspended => "suspended",
            CredentialChange::Reinstated => "reinstated",
            CredentialChange::Replaced => "replaced",
        }
    }
}

/// A change of a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub payment_id: String,
    pub payer_id: String,
    /// The organisation paid for (tax code).
    pub payer_org: Option<String>,
    pub change: PaymentChange,
    pub amount_vnd: i64,
    pub dossier_id: Option<String>,
    /// What it pays: the dossier's receipt number, notice numbers (`/k` for an instalment).
    pub references: Vec<String>,
}

/// What happened to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentChange {
    Started,
    Paid,
    Failed,
    Expired,
    /// The gateway took money that must go back; its refund is to be asked for.
    ReturnStarted,
    /// The gateway accepted a refund.
    Refunded,
}

impl PaymentChange {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChange::Started => "started",
            PaymentChange::Paid => "paid",
            PaymentChange::Failed => "failed",
            PaymentChange::Expired => "expired",
            PaymentChange::ReturnStarted => "return_started",
            PaymentChange::Refunded => "refunded",
        }
    }
}

/// A notice written to a person's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeEvent {
    pub notice_id: String,
    pub person_id: String,
}

/// A reminder of something due, to each of `recipients`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderEvent {
    /// What it is about and at which stage (`land:<notice>/<k>:due7`): sent once.
    pub key: String,
    /// Its texts: `notice.<template>.title` and `.body`.
    pub template: String,
    pub params: serde_json::Value,
    pub recipients: Vec<String>,
    /// The page it opens.
    pub link: String,
    /// What a newer notice about the same thing replaces (`dossier:<id>`, `land:<notice>`).
    pub topic: String,
    pub dossier_id: Option<String>,
}

/// A change of feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackEvent {
    pub feedback_id: String,
    /// The sender.
    pub person_id: String,
    pub change: FeedbackChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackChange {
    Sent,
    Answered,
    /// The sender said whether the answer settled the matter.
    Judged,
}

impl FeedbackChange {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackChange::Sent => "sent",
            FeedbackChange::Answered => "answered",
            FeedbackChange::Judged => "judged",
        }
    }
}

/// A rating given or changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingEvent {
    pub dossier_id: String,
    pub satisfied: bool,
}

/// An event as stored: its schema version and the event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub v: i64,
    pub event: DomainEvent,
}

impl Envelope {
    /// Reads a stored payload of schema version `v`.
    pub fn decode(v: i64, payload: &str) -> anyhow::Result<DomainEvent> {
        anyhow::ensure!(
            v <= SCHEMA_VERSION,
            "event schema {v} is newer than this server's {SCHEMA_VERSION}"
        );
        let envelope: Envelope =
            serde_json::from_str(payload).context("an outbox payload does not decode")?;
        Ok(envelope.event)
    }
}

/// Writes `event` to the outbox inside `tx`, pending for every registered consumer; its
/// delivery starts as soon as `tx` commits. Returns the event's id.
pub async fn emit(tx: &mut WriteTx, event: &DomainEvent) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let payload = serde_json::to_string(&Envelope {
        v: SCHEMA_VERSION,
        event: event.clone(),
    })
    .context("encoding an event")?;
    let subject = event.subject();
    sqlx::query(
        "insert into outbox (id, topic, payload, created_at, schema_version, subject, subject_seq) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(event.topic())
    .bind(payload)
    .bind(now)
    .bind(SCHEMA_VERSION)
    .bind(subject.as_ref().map(|s| s.0.as_str()))
    .bind(subject.as_ref().map(|s| s.1))
    .execute(&mut **tx)
    .await
    .context("queueing an event")?;
    // Due at once (`next_attempt_at` 0) for every consumer registered now.
    sqlx::query(
        "insert into outbox_deliveries (event_id, consumer, created_at, next_attempt_at) \
         select $1, name, $2, 0 from outbox_consumers",
    )
    .bind(&id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("queueing an event for its consumers")?;
    tx.note_emitted();
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_stored_tagged_and_versioned_and_reads_back() {
        let event = DomainEvent::Dossier(DossierEvent {
            dossier_id: "d1".into(),
            change: DossierChange::SupplementRequested,
            from: Some(DossierStatus::InProcessing),
            to: DossierStatus::SupplementRequested,
            reason: Some("Ảnh nền trắng".into()),
            actor: "officer:o1".into(),
            seq: 4,
        });
        assert_eq!(event.subject(), Some(("dossier:d1".into(), 4)));
        assert_eq!(event.topic(), "dossier.supplement_requested");
        let stored = serde_json::to_value(Envelope {
            v: SCHEMA_VERSION,
            event: event.clone(),
        })
        .expect("encodes");
        assert_eq!(stored["v"], 1);
        assert_eq!(stored["event"]["type"], "dossier");
        assert_eq!(stored["event"]["change"], "supplement_requested");
        let back = Envelope::decode(1, &stored.to_string()).expect("decodes");
        assert_eq!(back, event);
        assert!(Envelope::decode(SCHEMA_VERSION + 1, &stored.to_string()).is_err());
    }
}
