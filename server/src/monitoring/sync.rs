//! The link to the national systems as outbox consumers: every change of a dossier the
//! national portal and EMC are told of goes out after its transaction commits, is retried until
//! acknowledged, and its acknowledgement is recorded with its delay. A dossier's changes reach
//! the portal in their order: a change waits while an earlier one of the same dossier is still
//! pending. `reconcile` compares what they hold with what this system sent.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use motcua_shared::{calendar::Day, dossier::DossierStatus, procedure::OnlineLevel};

use super::{
    decide,
    national::{
        EmcAction, National, PortalDossier, PortalFee, PortalProgress, PortalResult, SendError,
    },
    storage::{Ack, SyncFacts, System, record_ack},
};
use crate::{
    events::{DomainEvent, DossierEvent},
    outbox::{Consumer, Delivery, DeliveryError},
    payments::vnpay::gmt7,
    store::{Store, WriteTx, now_ms},
};

/// Tells one national system of dossier changes.
pub struct SyncConsumer {
    pub system: System,
    pub store: Store,
    pub national: Arc<National>,
    pub metrics: super::Metrics,
    /// Events this instance had acknowledged whose delivery is not yet committed (the rest of
    /// their batch is still being sent): they do not hold back later changes. Event id → when.
    acked: Mutex<HashMap<String, i64>>,
}

impl SyncConsumer {
    pub fn new(
        system: System,
        store: Store,
        national: Arc<National>,
        metrics: super::Metrics,
    ) -> SyncConsumer {
        SyncConsumer {
            system,
            store,
            national,
            metrics,
            acked: Mutex::new(HashMap::new()),
        }
    }

    fn acked(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.acked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn delivery_error(err: &SendError, now: i64) -> DeliveryError {
    let mut e = DeliveryError::new(err.to_string());
    if let SendError::Refused {
        retry_after: Some(value),
        ..
    } = err
    {
        e.retry_after_ms = crate::notifications::decide::retry_after_ms(value, now);
    }
    e
}

#[async_trait::async_trait]
impl Consumer for SyncConsumer {
    fn name(&self) -> &'static str {
        self.system.consumer()
    }

    /// Several dossiers' changes at once; one dossier's still in order (a change waits for the
    /// earlier ones' acknowledgements).
    fn concurrency(&self) -> usize {
        16
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let DomainEvent::Dossier(event) = &delivery.event else {
            return Ok(());
        };
        if !decide::syncs(event.change, event.from, event.to) {
            return Ok(());
        }
        let now = now_ms();
        // Forget acknowledgements long committed (or abandoned with their batch).
        self.acked().retain(|_, at| now - *at < 600_000);
        if let Some((subject, seq)) = delivery.event.subject()
            && seq > 0
        {
            let earlier = self
                .store
                .earlier_pending(self.name(), &subject, seq)
                .await
                .map_err(|e| DeliveryError::new(e.to_string()))?;
            let acked = self.acked();
            if let Some(next) = earlier
                .iter()
                .filter(|(id, _)| !acked.contains_key(id))
                .map(|(_, next)| *next)
                .min()
            {
                return Err(DeliveryError::later(
                    "an earlier change of the dossier is not acknowledged yet",
                    (next - now).clamp(200, 3_600_000),
                ));
            }
        }
        let facts = self
            .store
            .sync_facts(&event.dossier_id, &event.actor)
            .await
            .map_err(DeliveryError::from)?
            .ok_or_else(|| DeliveryError::new("the dossier is gone"))?;
        let sent = match self.system {
            System::Portal => {
                let dossier = portal_dossier(&facts, event, &delivery.id);
                match self.national.sync_dossier(&dossier).await {
                    Ok(()) => {
                        self.national
                            .update_progress(&portal_progress(
                                &facts,
                                event,
                                &delivery.id,
                                delivery.created_at,
                            ))
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
            System::Emc => {
                self.national
                    .emc_action(&emc_action(
                        &facts,
                        event,
                        &delivery.id,
                        &self.national.site_id,
                    ))
                    .await
            }
        };
        if let Err(e) = sent {
            self.metrics
                .sync_failures
                .with_label_values(&[self.system.as_str()])
                .inc();
            return Err(delivery_error(&e, now));
        }
        let acked_at = now_ms();
        #[allow(clippy::cast_precision_loss)]
        self.metrics
            .sync_ack
            .with_label_values(&[self.system.as_str()])
            .observe((acked_at - delivery.created_at).max(0) as f64 / 1000.0);
        self.acked().insert(delivery.id.clone(), acked_at);
        Ok(())
    }

    async fn apply(&self, tx: &mut WriteTx, delivery: &Delivery) -> Result<(), DeliveryError> {
        let DomainEvent::Dossier(event) = &delivery.event else {
            return Ok(());
        };
        let Some(acked_at) = self.acked().get(&delivery.id).copied() else {
            return Ok(());
        };
        record_ack(
            tx,
            &Ack {
                system: self.system,
                event_id: &delivery.id,
                dossier_id: &event.dossier_id,
                seq: event.seq,
                change: event.change,
                status: event.to,
                changed_at: delivery.created_at,
                acked_at,
                attempts: delivery.attempt,
            },
        )
        .await
        .map_err(|e| DeliveryError::new(e.to_string()))?;
        Ok(())
    }
}

/// The dossier as the portal keeps it, at `event`.
pub fn portal_dossier(facts: &SyncFacts, event: &DossierEvent, event_id: &str) -> PortalDossier {
    let d = &facts.dossier.view;
    let procedure = facts.procedure.as_ref().map(|p| &p.procedure);
    let fee_paid = d.fee.as_ref().is_some_and(|f| f.paid_at.is_some());
    let (kind, subject_id, holder) = match &facts.organisation {
        Some((tax_code, name)) => (2, tax_code.clone(), name.clone()),
        None => (
            1,
            facts.applicant_cccd.clone(),
            facts.applicant_name.clone(),
        ),
    };
    PortalDossier {
        message_id: format!("{event_id}/dossier"),
        MaHoSo: d.receipt_number.clone(),
        MaTTHC: d.procedure_code.clone(),
        TenTTHC: d.procedure_name.vi.clone(),
        MaLinhVuc: procedure.map(|p| p.category.vi.clone()).unwrap_or_default(),
        ChuHoSo: holder,
        LoaiDoiTuong: kind,
        MaDoiTuong: subject_id,
        NgayNopHoSo: gmt7(d.submitted_at),
        NgayTiepNhan: facts.dossier.received_at.map(gmt7),
        NgayHenTra: d.rescheduled_to.or(d.deadline_at).map(gmt7),
        NgayTra: (event.to == DossierStatus::ResultIssued)
            .then_some(facts.finished_at)
            .flatten()
            .map(gmt7),
        TrangThaiHoSo: decide::portal_status(event.to, facts.dossier.received_at.is_some()),
        KenhThucHien: 2,
        HinhThuc: 0,
        CoQuanXuLy: d.agency_code.clone(),
        DonViXuLy: d.unit_code.clone(),
        DanhSachLePhi: d
            .fee
            .as_ref()
            .map(|f| {
                vec![PortalFee {
                    TenPhiLePhi: format!("Lệ phí {}", d.procedure_name.vi),
                    MaPhiLePhi: d.procedure_code.clone(),
                    HinhThucThu: 1,
                    Gia: f.amount_vnd.0,
                    DaThu: f.paid_at.is_some(),
                }]
            })
            .unwrap_or_default(),
        DaThanhToanTrucTuyen: fee_paid,
        // Every account here is made by a sign-in with the national e-identity.
        XacThucVNeID: true,
        ThanhPhanThayTheBangDuLieu: facts
            .procedure
            .as_ref()
            .map(|p| super::scorecard::replaced_documents(p, &d.verified_fields))
            .unwrap_or_default(),
        DanhSachGiayToKetQua: facts
            .results
            .iter()
            .map(|(code, title, legal)| PortalResult {
                MaGiayTo: code.clone(),
                TenGiayTo: title.clone(),
                CoGiaTriPhapLy: *legal,
            })
            .collect(),
    }
}

/// One step of the dossier's processing, as the portal's progress shows it.
pub fn portal_progress(
    facts: &SyncFacts,
    event: &DossierEvent,
    event_id: &str,
    at: i64,
) -> PortalProgress {
    let d = &facts.dossier.view;
    let what = decide::progress_text(event.change);
    PortalProgress {
        message_id: format!("{event_id}/progress"),
        MaHoSo: d.receipt_number.clone(),
        ThuTu: event.seq,
        NguoiXuLy: facts
            .actor_name
            .clone()
            .unwrap_or_else(|| match event.actor.split_once(':') {
                Some(("person", _)) => facts.applicant_name.clone(),
                _ => "Hệ thống một cửa".to_owned(),
            }),
        ChucDanh: decide::actor_title(&event.actor).to_owned(),
        ThoiDiemXuLy: gmt7(at),
        PhongBanXuLy: format!("{} {}", d.agency_code, d.unit_code),
        NoiDungXuLy: match &event.reason {
            Some(reason) => format!("{what}: {reason}"),
            None => what.to_owned(),
        },
        TrangThai: decide::portal_status(event.to, facts.dossier.received_at.is_some()),
        NgayBatDau: facts.dossier.received_at.map(gmt7),
        NgayKetThucTheoQuyDinh: d.rescheduled_to.or(d.deadline_at).map(gmt7),
    }
}

/// The action as EMC counts it.
pub fn emc_action(
    facts: &SyncFacts,
    event: &DossierEvent,
    event_id: &str,
    site_id: &str,
) -> EmcAction {
    let d = &facts.dossier.view;
    let online = facts
        .procedure
        .as_ref()
        .map_or(OnlineLevel::Partial, |p| p.procedure.online_level);
    EmcAction {
        action_id: event_id.to_owned(),
        code_profile: d.receipt_number.clone(),
        site_id: site_id.to_owned(),
        code_tthc: d.procedure_code.clone(),
        name_tthc: d.procedure_name.vi.clone(),
        status: decide::emc_status(event.change, event.to),
        forms_reception: 1,
        forms_payments: if d.fee.as_ref().is_some_and(|f| f.paid_at.is_some()) {
            1
        } else {
            2
        },
        level: decide::emc_level(online),
        is_from_dvcqg: 0,
        is_dvcbc: 0,
    }
}

/// The consumers of the national systems that are configured (or sandboxed).
pub fn consumers(state: &crate::AppState) -> Vec<Arc<dyn Consumer>> {
    let national = &state.national;
    [
        (System::Portal, national.portal_url.is_some()),
        (System::Emc, national.emc_url.is_some()),
    ]
    .into_iter()
    .filter(|(_, configured)| *configured)
    .map(|(system, _)| -> Arc<dyn Consumer> {
        Arc::new(SyncConsumer::new(
            system,
            state.store.clone(),
            national.clone(),
            state.metrics.clone(),
        ))
    })
    .collect()
}

/// One system's reconciliation for a period.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub system: System,
    /// Dossiers filed in the period that it should hold, and that it holds.
    pub expected: usize,
    pub held: usize,
    pub changes_expected: i64,
    pub changes_held: i64,
    pub differences: Vec<decide::Difference>,
}

/// A period of Vietnam's calendar: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, or `FROM..TO` (days,
/// both included). Unix ms, end excluded.
pub fn parse_period(text: &str) -> Option<(i64, i64)> {
    let day = |s: &str| Day::parse_iso(s);
    let (first, last) = match text.split_once("..") {
        Some((a, b)) => (day(a)?, day(b)?),
        None => match text.len() {
            10 => (day(text)?, day(text)?),
            7 => {
                let first = day(&format!("{text}-01"))?;
                let (y, m, _) = first.ymd();
                let next = if m == 12 {
                    Day::from_ymd(y + 1, 1, 1)?
                } else {
                    Day::from_ymd(y, m + 1, 1)?
                };
                (first, Day(next.0 - 1))
            }
            4 => (
                day(&format!("{text}-01-01"))?,
                day(&format!("{text}-12-31"))?,
            ),
            _ => return None,
        },
    };
    (first.0 <= last.0).then(|| (first.start_ms(), Day(last.0 + 1).start_ms()))
}

/// Compares what each configured national system holds of the dossiers filed in `[from, to)`
/// with what this system sent it.
pub async fn reconcile(
    store: &Store,
    national: &National,
    from: i64,
    to: i64,
) -> anyhow::Result<Vec<Reconciliation>> {
    let mut reports = Vec::new();
    for (system, base) in [
        (System::Portal, national.portal_url.as_deref()),
        (System::Emc, national.emc_url.as_deref()),
    ] {
        let Some(base) = base else { continue };
        let expected = store.expected_held(system, from, to).await?;
        let held = national.held(base, from, to).await?.dossiers;
        reports.push(Reconciliation {
            system,
            expected: expected.len(),
            held: held.len(),
            changes_expected: expected.iter().map(|d| d.changes).sum(),
            changes_held: held.iter().map(|d| d.changes).sum(),
            differences: decide::differences(&expected, &held),
        });
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_days_months_years_or_ranges_of_vietnamese_days() {
        let (from, to) = parse_period("2026-11-30").expect("a day");
        assert_eq!(to - from, 86_400_000);
        assert_eq!(gmt7(from), "20261130000000");
        let (from, to) = parse_period("2026-02").expect("a month");
        assert_eq!(gmt7(from), "20260201000000");
        assert_eq!(gmt7(to), "20260301000000");
        let (from, to) = parse_period("2026").expect("a year");
        assert_eq!((to - from) / 86_400_000, 365);
        let (from, to) = parse_period("2026-12-30..2027-01-02").expect("a range");
        assert_eq!((to - from) / 86_400_000, 4);
        assert!(parse_period("2026-13").is_none());
        assert!(parse_period("2027-01-02..2026-12-30").is_none());
        assert!(parse_period("yesterday").is_none());
    }
}
