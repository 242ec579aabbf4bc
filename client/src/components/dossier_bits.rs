//! A dossier's status, clocks and timeline, shown the same way to the applicant and the officer.

use motcua_shared::{
    Lang,
    calendar::Calendar,
    dossier::DossierStatus,
    dossier_api::{DossierEvent, DossierView},
    time::format_vn_datetime,
};
use yew::prelude::*;

use crate::i18n::{tr, tr_count};

pub fn status_key(status: DossierStatus) -> String {
    format!("status.{}", status.as_str())
}

/// The status as a coloured badge with its words (colour is never the only signal). A plain
/// function, not a component: no state, and each component costs the bundle several KB.
pub fn status_badge(lang: Lang, status: DossierStatus) -> Html {
    let tone = match status {
        DossierStatus::Approved | DossierStatus::ResultIssued => "badge-full",
        DossierStatus::SupplementRequested => "badge-warn",
        DossierStatus::Rejected | DossierStatus::Withdrawn => "badge-muted",
        _ => "badge-partial",
    };
    html! { <span class={classes!("badge", tone)}>{ tr(lang, &status_key(status)) }</span> }
}

/// The receipt clock (8 office hours) and the legal deadline, or the paused clock.
pub fn clocks(lang: Lang, d: &DossierView) -> Html {
    let now = js_sys::Date::now() as i64;
    let calendar = Calendar::vietnam_shared().ok();
    let open = !d.status.is_final() && d.status != DossierStatus::Approved;
    let mut rows = Vec::new();
    if let Some(by) = d.receive_by.filter(|_| open) {
        let late = by < now;
        rows.push(html! {
            <div class={classes!(late.then_some("is-late"))}>
                <dt>{ tr(lang, "clock.receive_by") }</dt>
                <dd>{ format_vn_datetime(by) }{ if late { format!(" · {}", tr(lang, "clock.late")) } else { String::new() } }</dd>
            </div>
        });
    }
    if let Some(deadline) = d.deadline_at {
        let late = open && deadline < now;
        let left = calendar
            .as_ref()
            .filter(|_| open && !late)
            .map(|c| tr_count(lang, "clock.days_left", c.working_days_left(deadline, now)));
        rows.push(html! {
            <div class={classes!(late.then_some("is-late"))}>
                <dt>{ tr(lang, "clock.deadline") }</dt>
                <dd>
                    { format_vn_datetime(deadline) }
                    { for left.map(|l| format!(" · {l}")) }
                    { if late { format!(" · {}", tr(lang, "clock.late")) } else { String::new() } }
                </dd>
            </div>
        });
    } else if let Some(left) = d.paused_days_left {
        rows.push(html! {
            <div>
                <dt>{ tr(lang, "clock.paused") }</dt>
                <dd>{ tr_count(lang, "clock.paused_left", left) }</dd>
            </div>
        });
    }
    if let Some(at) = d.overdue_at {
        rows.push(html! {
            <div class="is-late">
                <dt>{ tr(lang, "clock.overdue_since") }</dt>
                <dd>{ format_vn_datetime(at) }</dd>
            </div>
        });
    }
    html! { <dl class="facts clocks">{ for rows }</dl> }
}

/// What happened, oldest first.
pub fn timeline(lang: Lang, events: &[DossierEvent]) -> Html {
    html! {
        <ol class="timeline">
            { for events.iter().map(|e| {
                let key = format!("event.{}", e.action);
                let text = tr(lang, &key);
                let text = if text.ends_with(&key) { e.action.clone() } else { text };
                html! {
                    <li>
                        <time>{ format_vn_datetime(e.at) }</time>
                        <strong>{ text }</strong>
                        { for e.reason.as_ref().map(|r| html! { <p class="reason">{ r }</p> }) }
                    </li>
                }
            }) }
        </ol>
    }
}
