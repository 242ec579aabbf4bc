//! The service-quality index as people read it: the total out of 100, the six groups as bars,
//! each group's indicators with what they count, and how long each procedure takes.

use std::rc::Rc;

use motcua_shared::{Lang, stats_api::Scorecard};
use yew::prelude::*;

use crate::{
    components::charts::{Bar, Bars},
    hooks::use_lang,
    i18n::tr,
};

/// A number as the reader writes it (a decimal comma in Vietnamese).
pub fn num(lang: Lang, value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if decimals > 0 {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A ratio as a percentage, or a dash when there was nothing to count.
pub fn pct(lang: Lang, ratio: Option<f64>) -> String {
    ratio.map_or_else(
        || "–".to_owned(),
        |r| format!("{}%", num(lang, r * 100.0, 1)),
    )
}

#[derive(Properties, PartialEq)]
pub struct ScorecardProps {
    pub card: Rc<Scorecard>,
}

#[component]
pub fn ScorecardView(props: &ScorecardProps) -> Html {
    let lang = use_lang().lang;
    let card = &props.card;
    let points = num(lang, card.points, 2);
    let group_bars: Vec<Bar> = card
        .groups
        .iter()
        .map(|g| Bar {
            label: g.name.clone(),
            value: g.points,
            max: g.max_points,
            shown: format!(
                "{} / {}",
                num(lang, g.points, 2),
                num(lang, g.max_points, 0)
            ),
            warn: g.points < g.max_points * 0.5,
        })
        .collect();
    let weakest = card
        .groups
        .iter()
        .filter(|g| g.max_points > 0.0)
        .min_by(|a, b| (a.points / a.max_points).total_cmp(&(b.points / b.max_points)));
    let summary = tr(lang, "stats.groups_summary")
        .replace("%{points}", &points)
        .replace(
            "%{weakest}",
            &weakest.map(|g| g.name.clone()).unwrap_or_default(),
        );
    #[allow(clippy::cast_precision_loss)]
    let once_only = (card.answered_fields > 0)
        .then(|| card.prefilled_fields as f64 / card.answered_fields as f64);
    let processing: Vec<Bar> = card
        .processing
        .iter()
        .map(|p| {
            let median = p.median_working_days.unwrap_or(0.0);
            let p90 = p.p90_working_days.unwrap_or(0.0);
            #[allow(clippy::cast_precision_loss)]
            let limit = p.time_limit_working_days as f64;
            Bar {
                label: p.procedure_name.clone(),
                value: median,
                max: p90.max(limit).max(1.0),
                shown: tr(lang, "stats.days_shown")
                    .replace("%{median}", &num(lang, median, 1))
                    .replace("%{p90}", &num(lang, p90, 1))
                    .replace("%{limit}", &p.time_limit_working_days.to_string()),
                warn: p90 > limit,
            }
        })
        .collect();
    html! {
        <div class="scorecard">
            <div class="score-total">
                <p class="score-number"><span>{ points.clone() }</span><span class="score-of">{ " / 100" }</span></p>
                <p class="hint">{ tr(lang, "stats.dossiers_counted").replace("%{count}", &card.dossiers.to_string()) }</p>
                if let Some(share) = once_only {
                    <p class="hint">{ tr(lang, "stats.once_only").replace("%{share}", &pct(lang, Some(share))) }</p>
                }
            </div>
            <Bars title={tr(lang, "stats.groups_title")} summary={summary} bars={group_bars}
                label_heading={tr(lang, "stats.group")} value_heading={tr(lang, "stats.points")} />
            <h2>{ tr(lang, "stats.indicators_title") }</h2>
            { for card.groups.iter().map(|g| html! {
                <details class="group-detail">
                    <summary>{ format!("{} — {} / {}", g.name, num(lang, g.points, 2), num(lang, g.max_points, 0)) }</summary>
                    <div class="table-wrap">
                        <table class="queue">
                            <caption class="visually-hidden">{ g.name.clone() }</caption>
                            <thead><tr>
                                <th scope="col">{ tr(lang, "stats.indicator") }</th>
                                <th scope="col">{ tr(lang, "stats.counted") }</th>
                                <th scope="col">{ tr(lang, "stats.points") }</th>
                            </tr></thead>
                            <tbody>
                                { for g.indicators.iter().map(|i| html! {
                                    <tr>
                                        <th scope="row">{ format!("{} {}", i.code, i.name) }</th>
                                        <td>{ format!("{} / {} ({})", i.numerator, i.denominator, pct(lang, i.ratio)) }</td>
                                        <td>{ format!("{} / {}", num(lang, i.points, 2), num(lang, i.max_points, 0)) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                </details>
            }) }
            if !processing.is_empty() {
                <Bars title={tr(lang, "stats.processing_title")} summary={tr(lang, "stats.processing_summary")}
                    bars={processing} label_heading={tr(lang, "stats.procedure")} value_heading={tr(lang, "stats.working_days")} />
            }
        </div>
    }
}
