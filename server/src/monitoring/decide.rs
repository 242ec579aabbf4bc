//! The link to the national systems, as pure decisions: which dossier changes they are told
//! of, in their codes, and what a reconciliation finds.

use motcua_shared::{dossier::DossierStatus, procedure::OnlineLevel};

use super::national::HeldDossier;
use crate::events::DossierChange;

/// A change acknowledged by the national portal within this long counts as synced in real
/// time (indicator 1.4).
pub const REAL_TIME_MS: i64 = 15 * 60 * 1000;

/// Whether the national systems are told of a change: the filing, every change of status, and
/// a fee paid. Claims, assignments and lateness flags stay inside the one-stop system.
pub fn syncs(change: DossierChange, from: Option<DossierStatus>, to: DossierStatus) -> bool {
    match change {
        DossierChange::Submitted | DossierChange::FeePaid => true,
        DossierChange::Claimed
        | DossierChange::Assigned
        | DossierChange::Overdue
        | DossierChange::ReceiptOverdue => false,
        _ => from != Some(to),
    }
}

/// The portal's status code (`TrangThaiHoSo`), as one-stop systems map theirs: 1 newly filed,
/// 2 received, 3 not received, 4 in processing, 5 supplement asked, 7 withdrawn, 8 processing
/// stopped (refused), 9 processed, 10 result returned.
pub fn portal_status(status: DossierStatus, received: bool) -> u8 {
    match status {
        DossierStatus::Submitted => 1,
        DossierStatus::Received => 2,
        DossierStatus::Rejected if !received => 3,
        DossierStatus::Rejected => 8,
        DossierStatus::InProcessing => 4,
        DossierStatus::SupplementRequested => 5,
        DossierStatus::Withdrawn => 7,
        DossierStatus::Approved => 9,
        DossierStatus::ResultIssued => 10,
    }
}

/// EMC's status of an action: 1 received (the filing), 3 done (a final status), 2 processing.
pub fn emc_status(change: DossierChange, to: DossierStatus) -> u8 {
    match change {
        DossierChange::Submitted => 1,
        _ if to.is_final() => 3,
        _ => 2,
    }
}

/// EMC's online level of a procedure: 4 full process online, 3 partly online.
pub fn emc_level(level: OnlineLevel) -> u8 {
    match level {
        OnlineLevel::Full => 4,
        OnlineLevel::Partial => 3,
    }
}

/// What was done, as the portal's progress shows it (Vietnamese, as the portal keeps it).
pub fn progress_text(change: DossierChange) -> &'static str {
    match change {
        DossierChange::Submitted => "Nộp hồ sơ trực tuyến",
        DossierChange::Received => "Tiếp nhận hồ sơ",
        DossierChange::SupplementRequested => "Yêu cầu bổ sung hồ sơ",
        DossierChange::Resubmitted => "Bổ sung hồ sơ",
        DossierChange::ProcessingStarted => "Xử lý hồ sơ",
        DossierChange::Approved => "Phê duyệt kết quả",
        DossierChange::Rejected => "Từ chối giải quyết",
        DossierChange::ResultIssued => "Trả kết quả điện tử",
        DossierChange::Withdrawn => "Rút hồ sơ",
        DossierChange::Lapsed => "Hủy hồ sơ do không nộp lệ phí",
        DossierChange::FeePaid => "Thanh toán lệ phí trực tuyến",
        DossierChange::Overdue => "Hồ sơ quá hạn",
        DossierChange::ReceiptOverdue => "Tiếp nhận quá hạn",
        DossierChange::Claimed | DossierChange::Assigned => "Phân công xử lý",
    }
}

/// Who acted, as the portal shows it: the officer's name and title, the applicant, or the
/// system.
pub fn actor_title(actor: &str) -> &'static str {
    match actor.split_once(':').map(|(kind, _)| kind) {
        Some("officer") => "Cán bộ bộ phận một cửa",
        Some("person") => "Người nộp hồ sơ",
        _ => "Hệ thống",
    }
}

/// One difference between this system and a national system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub number: String,
    /// `missing` (not held there), `unknown` (held there, not here), `changes` (another count
    /// of changes), `status` (another last status).
    pub kind: &'static str,
    pub here: Option<i64>,
    pub there: Option<i64>,
}

/// Every difference between what this system says a national system should hold and what it
/// holds, in dossier-number order.
pub fn differences(expected: &[HeldDossier], held: &[HeldDossier]) -> Vec<Difference> {
    use std::collections::BTreeMap;
    let ours: BTreeMap<&str, &HeldDossier> =
        expected.iter().map(|d| (d.number.as_str(), d)).collect();
    let theirs: BTreeMap<&str, &HeldDossier> =
        held.iter().map(|d| (d.number.as_str(), d)).collect();
    let mut found = Vec::new();
    for (number, here) in &ours {
        match theirs.get(number) {
            None => found.push(Difference {
                number: (*number).to_owned(),
                kind: "missing",
                here: Some(here.changes),
                there: None,
            }),
            Some(there) if there.changes != here.changes => found.push(Difference {
                number: (*number).to_owned(),
                kind: "changes",
                here: Some(here.changes),
                there: Some(there.changes),
            }),
            Some(there) if there.status != here.status => found.push(Difference {
                number: (*number).to_owned(),
                kind: "status",
                here: Some(i64::from(here.status)),
                there: Some(i64::from(there.status)),
            }),
            Some(_) => {}
        }
    }
    for (number, there) in &theirs {
        if !ours.contains_key(number) {
            found.push(Difference {
                number: (*number).to_owned(),
                kind: "unknown",
                here: None,
                there: Some(there.changes),
            });
        }
    }
    found.sort_by(|a, b| a.number.cmp(&b.number));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filing_status_changes_and_a_fee_paid_are_synced_desk_work_is_not() {
        use DossierStatus::*;
        assert!(syncs(DossierChange::Submitted, None, Submitted));
        assert!(syncs(DossierChange::Received, Some(Submitted), Received));
        assert!(syncs(DossierChange::FeePaid, Some(Submitted), Submitted));
        assert!(syncs(DossierChange::Lapsed, Some(Submitted), Withdrawn));
        assert!(!syncs(DossierChange::Claimed, Some(Submitted), Submitted));
        assert!(!syncs(
            DossierChange::Overdue,
            Some(InProcessing),
            InProcessing
        ));
        assert!(!syncs(
            DossierChange::ReceiptOverdue,
            Some(Submitted),
            Submitted
        ));
    }

    #[test]
    fn statuses_map_to_the_portal_and_emc_codes() {
        use DossierStatus::*;
        assert_eq!(portal_status(Submitted, false), 1);
        assert_eq!(portal_status(Rejected, false), 3);
        assert_eq!(portal_status(Rejected, true), 8);
        assert_eq!(portal_status(ResultIssued, true), 10);
        assert_eq!(emc_status(DossierChange::Submitted, Submitted), 1);
        assert_eq!(emc_status(DossierChange::Received, Received), 2);
        assert_eq!(emc_status(DossierChange::ResultIssued, ResultIssued), 3);
        assert_eq!(emc_status(DossierChange::Lapsed, Withdrawn), 3);
        assert_eq!(emc_level(OnlineLevel::Full), 4);
        assert_eq!(actor_title("officer:o1"), "Cán bộ bộ phận một cửa");
        assert_eq!(actor_title("system:deadlines"), "Hệ thống");
    }

    #[test]
    fn reconciliation_lists_missing_unknown_and_differing_dossiers() {
        let d = |number: &str, changes: i64, status: u8| HeldDossier {
            number: number.into(),
            changes,
            status,
        };
        let here = [d("A", 3, 4), d("B", 2, 2), d("C", 5, 10), d("D", 1, 1)];
        let there = [d("A", 3, 4), d("B", 1, 1), d("C", 5, 9), d("E", 1, 1)];
        let found = differences(&here, &there);
        let kinds: Vec<(&str, &str)> = found.iter().map(|f| (f.number.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("B", "changes"),
                ("C", "status"),
                ("D", "missing"),
                ("E", "unknown")
            ]
        );
        assert!(differences(&here, &here).is_empty());
    }
}
