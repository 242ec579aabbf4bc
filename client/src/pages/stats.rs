//! Public statistics, no account needed: the service-quality index (Decision 766) of the whole
//! platform, a province, a district or commune, or one procedure, for a year; its trend by
//! month; and how long each procedure takes.

use std::rc::Rc;

use motcua_shared::{
    calendar::Day,
    procedure::ProcedureList,
    stats_api::{Scorecard, Trend},
    units,
};
use yew::prelude::*;

use crate::{
    api,
    components::{
        charts::{Line, Point},
        feedback::{Failure, Loading},
        scorecard::{ScorecardView, num, pct},
    },
    hooks::{Loadable, use_lang, use_load, use_title},
    i18n::tr,
};

/// What the page shows: a year and a scope.
#[derive(Clone, PartialEq, Default)]
struct Choice {
    year: i64,
    province: String,
    unit: String,
    procedure: String,
}

fn today() -> Day {
    Day::of_instant(js_sys::Date::now() as i64)
}

fn select_value(e: &Event) -> String {
    use wasm_bindgen::JsCast;
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

#[component]
pub fn StatsPage() -> Html {
    let lang = use_lang().lang;
    use_title(tr(lang, "stats.title"));
    let this_year = today().ymd().0;
    let choice = use_state(|| Choice {
        year: this_year,
        ..Choice::default()
    });
    let retries = use_state(|| 0u32);
    let procedures = use_load((), |()| api::procedures(String::new(), String::new()));
    let data = use_load(
        ((*choice).clone(), *retries, lang),
        |(c, _, _)| async move {
            let (y, m, d) = today().ymd();
            let last = if c.year == y {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{:04}-12-31", c.year)
            };
            let last_month = if c.year == y {
                format!("{y:04}-{m:02}")
            } else {
                format!("{:04}-12", c.year)
            };
            let first = format!("{:04}-01-01", c.year);
            let first_month = format!("{:04}-01", c.year);
            let mut scope: Vec<(&str, &str)> = Vec::new();
            for (name, value) in [
                ("province", c.province.as_str()),
                ("unit", c.unit.as_str()),
                ("procedure", c.procedure.as_str()),
            ] {
                if !value.is_empty() {
                    scope.push((name, value));
                }
            }
            let mut card_query = vec![("from", first.as_str()), ("to", last.as_str())];
            card_query.extend(scope.iter().copied());
            let mut trend_query = vec![("from", first_month.as_str()), ("to", last_month.as_str())];
            trend_query.extend(scope.iter().copied());
            let card: Scorecard = api::get("/api/v1/stats/scorecard", &card_query).await?;
            let trend: Trend = api::get("/api/v1/stats/trend", &trend_query).await?;
            Ok((card, trend))
        },
    );

    let on_year = {
        let choice = choice.clone();
        Callback::from(move |e: Event| {
            let year = select_value(&e).parse().unwrap_or(this_year);
            choice.set(Choice {
                year,
                ..(*choice).clone()
            });
        })
    };
    let on_province = {
        let choice = choice.clone();
        Callback::from(move |e: Event| {
            choice.set(Choice {
                province: select_value(&e),
                unit: String::new(),
                ..(*choice).clone()
            });
        })
    };
    let on_unit = {
        let choice = choice.clone();
        Callback::from(move |e: Event| {
            choice.set(Choice {
                unit: select_value(&e),
                ..(*choice).clone()
            });
        })
    };
    let on_procedure = {
        let choice = choice.clone();
        Callback::from(move |e: Event| {
            choice.set(Choice {
                procedure: select_value(&e),
                ..(*choice).clone()
            });
        })
    };
    // The districts and communes of the chosen province.
    let local_units: Vec<(String, String)> = if choice.province.is_empty() {
        Vec::new()
    } else {
        units::children(Some(&choice.province))
            .flat_map(|district| {
                std::iter::once((district.code.to_owned(), district.name.to_owned())).chain(
                    units::children(Some(district.code))
                        .map(|c| (c.code.to_owned(), format!("— {}", c.name))),
                )
            })
            .collect()
    };
    let procedure_options: Vec<(String, String)> = match &*procedures {
        Loadable::Loaded(list) => {
            let list: &ProcedureList = list;
            list.procedures
                .iter()
                .map(|p| (p.code.clone(), p.name.get(lang).to_owned()))
                .collect()
        }
        _ => Vec::new(),
    };
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match &*data {
        Loadable::Loading => html! { <Loading text={tr(lang, "stats.loading")} /> },
        Loadable::Failed(failure) => html! { <Failure failure={failure.clone()} {on_retry} /> },
        Loadable::Loaded(loaded) => {
            let (card, trend) = loaded.as_ref();
            html! {
                <>
                    <ScorecardView card={Rc::new(card.clone())} />
                    <TrendCharts trend={Rc::new(trend.clone())} />
                </>
            }
        }
    };
    let years = [this_year, this_year - 1, this_year - 2];
    html! {
        <div class="page page-wide stats">
            <h1>{ tr(lang, "stats.title") }</h1>
            <p class="lead">{ tr(lang, "stats.lead") }</p>
            <form class="filters stats-filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <div class="field">
                    <label for="stats-year">{ tr(lang, "stats.year") }</label>
                    <select id="stats-year" class="input" onchange={on_year}>
                        { for years.iter().map(|y| html! {
                            <option value={y.to_string()} selected={*y == choice.year}>{ y.to_string() }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="stats-province">{ tr(lang, "stats.province") }</label>
                    <select id="stats-province" class="input" onchange={on_province}>
                        <option value="" selected={choice.province.is_empty()}>{ tr(lang, "stats.whole_platform") }</option>
                        { for units::children(None).map(|p| html! {
                            <option value={p.code} selected={choice.province == p.code}>{ p.name }</option>
                        }) }
                    </select>
                </div>
                if !local_units.is_empty() {
                    <div class="field">
                        <label for="stats-unit">{ tr(lang, "stats.unit") }</label>
                        <select id="stats-unit" class="input" onchange={on_unit}>
                            <option value="" selected={choice.unit.is_empty()}>{ tr(lang, "stats.whole_province") }</option>
                            { for local_units.iter().map(|(code, name)| html! {
                                <option value={code.clone()} selected={choice.unit == *code}>{ name.clone() }</option>
                            }) }
                        </select>
                    </div>
                }
                <div class="field">
                    <label for="stats-procedure">{ tr(lang, "stats.procedure") }</label>
                    <select id="stats-procedure" class="input" onchange={on_procedure}>
                        <option value="" selected={choice.procedure.is_empty()}>{ tr(lang, "stats.all_procedures") }</option>
                        { for procedure_options.iter().map(|(code, name)| html! {
                            <option value={code.clone()} selected={choice.procedure == *code}>{ name.clone() }</option>
                        }) }
                    </select>
                </div>
            </form>
            <div aria-live="polite">{ body }</div>
            <p class="hint">{ tr(lang, "stats.method") }</p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct TrendProps {
    trend: Rc<Trend>,
}

#[component]
fn TrendCharts(props: &TrendProps) -> Html {
    let lang = use_lang().lang;
    let months = &props.trend.months;
    let label = |m: &str| m.get(5..7).unwrap_or(m).trim_start_matches('0').to_owned();
    let points: Vec<Point> = months
        .iter()
        .map(|m| Point {
            label: label(&m.month),
            value: (m.dossiers > 0).then_some(m.points),
            shown: if m.dossiers > 0 {
                num(lang, m.points, 2)
            } else {
                "–".into()
            },
        })
        .collect();
    let on_time: Vec<Point> = months
        .iter()
        .map(|m| Point {
            label: label(&m.month),
            value: m.on_time.map(|r| r * 100.0),
            shown: pct(lang, m.on_time),
        })
        .collect();
    let best = months
        .iter()
        .filter(|m| m.dossiers > 0)
        .max_by(|a, b| a.points.total_cmp(&b.points));
    let summary = match best {
        Some(best) => tr(lang, "stats.trend_summary")
            .replace(
                "%{month}",
                &format!(
                    "{}/{}",
                    best.month.get(5..7).unwrap_or(""),
                    best.month.get(..4).unwrap_or("")
                ),
            )
            .replace("%{points}", &num(lang, best.points, 2)),
        None => tr(lang, "stats.trend_empty"),
    };
    let late_months = months
        .iter()
        .filter(|m| m.on_time.is_some_and(|r| r < 1.0))
        .count();
    html! {
        <>
            <Line title={tr(lang, "stats.trend_title")} summary={summary} points={points} max={100.0}
                label_heading={tr(lang, "stats.month")} value_heading={tr(lang, "stats.points")} />
            <Line title={tr(lang, "stats.on_time_title")}
                summary={tr(lang, "stats.on_time_summary").replace("%{count}", &late_months.to_string())}
                points={on_time} max={100.0}
                label_heading={tr(lang, "stats.month")} value_heading={tr(lang, "stats.on_time")} />
        </>
    }
}
