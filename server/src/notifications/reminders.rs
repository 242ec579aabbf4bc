//! Reminders, each sent once as a domain event (`reminder.<template>`), which the inbox turns
//! into notices and push delivers: land obligations due in 7 days, in 1 day, and overdue (to
//! each representative of the organisation); a supplement not sent within 3 working days; a
//! credential expiring within 30 days, with a link to renew it online (the form pre-filled from
//! the registers, as every filing is).

use std::time::Duration;

use anyhow::Context;
use motcua_shared::{TaxCode, Vnd, calendar::Day, time::format_vn_datetime};
use serde_json::{Value, json};

use super::decide;
use crate::{AppState, events::ReminderEvent, store::now_ms};

/// The procedure that renews a credential of `kind`, when there is one online.
fn renewal_procedure(kind: &str) -> Option<&'static str> {
    match kind {
        "driving_licence" => Some("1.002804"),
        _ => None,
    }
}

fn day_of_iso(text: &str) -> Option<Day> {
    let mut parts = text.splitn(3, '-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    Day::from_ymd(y, m, d)
}

fn iso_of(day: Day) -> String {
    let (y, m, d) = day.ymd();
    format!("{y:04}-{m:02}-{d:02}")
}

/// Finds every reminder due at `now` and sends those not sent before; how many were sent.
pub async fn sweep(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let mut sent = 0;
    for reminder in credential_reminders(state, now).await? {
        sent += usize::from(state.store.send_reminder(&reminder).await?);
    }
    for reminder in supplement_reminders(state, now).await? {
        sent += usize::from(state.store.send_reminder(&reminder).await?);
    }
    for reminder in land_reminders(state, now).await? {
        sent += usize::from(state.store.send_reminder(&reminder).await?);
    }
    Ok(sent)
}

async fn credential_reminders(state: &AppState, now: i64) -> anyhow::Result<Vec<ReminderEvent>> {
    let today = Day::of_instant(now);
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "select id, person_id, kind, title_vi, title_en, valid_until from credentials \
         where status = 'valid' and derived_from is null and valid_until is not null \
           and valid_until >= $1 and valid_until <= $2",
    )
    .bind(iso_of(today))
    .bind(iso_of(Day(today.0 + 30)))
    .fetch_all(state.store.pool())
    .await
    .context("finding credentials about to expire")?;
    Ok(rows
        .into_iter()
        .filter(|(.., until)| day_of_iso(until).is_some_and(|d| decide::expiring_soon(d, today)))
        .map(|(id, person, kind, vi, en, until)| {
            let link = renewal_procedure(&kind).map_or_else(
                || "/wallet".to_owned(),
                |code| format!("/procedures/{code}/file"),
            );
            ReminderEvent {
                key: format!("credential:{id}:expiring"),
                template: "reminder_credential_expiring".into(),
                params: json!({
                    "credential": { "vi": vi, "en": en },
                    "date": motcua_shared::time::format_vn_date(&until),
                }),
                recipients: vec![person],
                link,
                topic: format!("credential:{id}"),
                dossier_id: None,
            }
        })
        .collect())
}

async fn supplement_reminders(state: &AppState, now: i64) -> anyhow::Result<Vec<ReminderEvent>> {
    let calendar = motcua_shared::calendar::Calendar::vietnam_shared()
        .map_err(|e| anyhow::anyhow!("the calendar: {e}"))?;
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "select d.id, d.applicant_id, d.receipt_number, d.procedure_name, max(e.at) from dossiers d \
         join dossier_events e on e.dossier_id = d.id and e.action = 'supplement_requested' \
         where d.status = 'supplement_requested' \
         group by d.id, d.applicant_id, d.receipt_number, d.procedure_name",
    )
    .fetch_all(state.store.pool())
    .await
    .context("finding supplements not sent")?;
    Ok(rows
        .into_iter()
        .filter(|(.., asked)| decide::supplement_unanswered(calendar, *asked, now))
        .map(|(id, applicant, receipt, name, asked)| {
            let name: Value = serde_json::from_str(&name).unwrap_or(Value::Null);
            ReminderEvent {
                key: format!("supplement:{id}:{asked}"),
                template: "reminder_supplement".into(),
                params: json!({
                    "receipt": receipt,
                    "procedure": name,
                    "date": format_vn_datetime(asked),
                }),
                recipients: vec![applicant],
                link: format!("/dossiers/{id}"),
                topic: format!("dossier:{id}"),
                dossier_id: Some(id),
            }
        })
        .collect())
}

async fn land_reminders(state: &AppState, now: i64) -> anyhow::Result<Vec<ReminderEvent>> {
    let today = Day::of_instant(now);
    // Organisations some representative of which uses this service.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select r.tax_code, p.id from representatives r join people p on p.cccd = r.cccd \
         order by r.tax_code, p.id",
    )
    .fetch_all(state.store.pool())
    .await
    .context("finding the organisations to remind")?;
    let mut reminders = Vec::new();
    let mut index = 0;
    while index < rows.len() {
        let tax_code = rows[index].0.clone();
        let people: Vec<String> = rows[index..]
            .iter()
            .take_while(|(t, _)| *t == tax_code)
            .map(|(_, p)| p.clone())
            .collect();
        index += people.len();
        let Ok(parsed) = TaxCode::parse(&tax_code) else {
            continue;
        };
        let notices = match crate::payments::obligations::notices_of(state, &parsed).await {
            Ok(notices) => notices,
            Err(e) => {
                tracing::warn!(tax_code, error = %e, "no land notices for reminders this time");
                continue;
            }
        };
        for notice in notices {
            for instalment in notice.instalments.iter().filter(|i| !i.paid) {
                let Some(due) = day_of_iso(&instalment.due_on) else {
                    continue;
                };
                let Some(stage) = decide::land_stage(due, today) else {
                    continue;
                };
                let kind = crate::payments::obligations::kind_name(&notice.kind);
                reminders.push(ReminderEvent {
                    key: format!(
                        "land:{}/{}:{}",
                        notice.number,
                        instalment.number,
                        stage.as_str()
                    ),
                    template: format!("reminder_land_{}", stage.as_str()),
                    params: json!({
                        "notice": notice.number,
                        "kind": { "vi": kind.vi, "en": kind.en },
                        "amount": Vnd(instalment.amount_vnd).to_string(),
                        "date": motcua_shared::time::format_vn_date(&instalment.due_on),
                        "organisation": notice.payer_name,
                    }),
                    recipients: people.clone(),
                    link: "/business".into(),
                    topic: format!("land:{}/{}", notice.number, instalment.number),
                    dossier_id: None,
                });
            }
        }
    }
    Ok(reminders)
}

/// Sweeps for reminders every `every` until `stop` turns true.
pub async fn run(state: AppState, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        match sweep(&state, now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "reminders sent"),
            Err(e) => tracing::warn!(error = %e, "the reminder sweep failed; again at the next"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
