//! Small charts drawn as SVG: horizontal bars and a line over months. Vector, so crisp on any
//! phone; each is a figure with a text summary for screen readers and the same figures as a
//! table to open.

use yew::prelude::*;

use crate::{hooks::use_lang, i18n::tr};

/// The chart's figures as a table, folded away until asked for.
fn table(
    lang: motcua_shared::Lang,
    title: &AttrValue,
    (label, value): (&AttrValue, &AttrValue),
    rows: impl Iterator<Item = (String, String)>,
) -> Html {
    html! {
        <details class="chart-table">
            <summary>{ tr(lang, "stats.show_table") }</summary>
            <div class="table-wrap">
                <table class="queue">
                    <caption class="visually-hidden">{ title.clone() }</caption>
                    <thead><tr><th scope="col">{ label.clone() }</th><th scope="col">{ value.clone() }</th></tr></thead>
                    <tbody>
                        { for rows.map(|(label, shown)| html! {
                            <tr><th scope="row">{ label }</th><td>{ shown }</td></tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </details>
    }
}

/// One bar: its label, its value out of `max`, and the value as shown.
#[derive(Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub max: f64,
    pub shown: String,
    /// Drawn in the warning colour (late, below target).
    pub warn: bool,
}

#[derive(Properties, PartialEq)]
pub struct BarsProps {
    pub title: AttrValue,
    /// One or two sentences saying what the chart shows, read instead of it.
    pub summary: AttrValue,
    pub bars: Vec<Bar>,
    /// The table's column headings: what is counted, and its value.
    pub label_heading: AttrValue,
    pub value_heading: AttrValue,
}

/// Horizontal bars, one per row, each with its label and value beside it.
#[component]
pub fn Bars(props: &BarsProps) -> Html {
    let lang = use_lang().lang;
    html! {
        <figure class="chart">
            <figcaption>
                <strong>{ props.title.clone() }</strong>
                <span class="chart-summary">{ props.summary.clone() }</span>
            </figcaption>
            <ul class="bars" aria-hidden="true">
                { for props.bars.iter().map(|bar| {
                    let share = if bar.max > 0.0 { (bar.value / bar.max).clamp(0.0, 1.0) } else { 0.0 };
                    let width = format!("{:.2}", share * 100.0);
                    html! {
                        <li class="bar-row">
                            <span class="bar-head">
                                <span class="bar-label">{ bar.label.clone() }</span>
                                <span class="bar-value">{ bar.shown.clone() }</span>
                            </span>
                            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false">
                                <rect class="bar-track" x="0" y="0" width="100" height="10" rx="2" />
                                <rect class={classes!("bar-fill", bar.warn.then_some("bar-warn"))} x="0" y="0" width={width} height="10" rx="2" />
                            </svg>
                        </li>
                    }
                }) }
            </ul>
            { table(lang, &props.title, (&props.label_heading, &props.value_heading),
                props.bars.iter().map(|b| (b.label.clone(), b.shown.clone()))) }
        </figure>
    }
}

/// One point of a line: its label (a month) and its value, if there was one.
#[derive(Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
    pub shown: String,
}

#[derive(Properties, PartialEq)]
pub struct LineProps {
    pub title: AttrValue,
    pub summary: AttrValue,
    pub points: Vec<Point>,
    /// The top of the scale.
    pub max: f64,
    pub label_heading: AttrValue,
    pub value_heading: AttrValue,
}

const W: f64 = 320.0;
const H: f64 = 150.0;
const LEFT: f64 = 28.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 8.0;

/// A line over months, with the scale's top and middle marked; gaps where there was nothing.
#[component]
pub fn Line(props: &LineProps) -> Html {
    let lang = use_lang().lang;
    let n = props.points.len().max(1);
    #[allow(clippy::cast_precision_loss)]
    let x = |i: usize| LEFT + (W - LEFT - 8.0) * (i as f64 + 0.5) / n as f64;
    let max = if props.max > 0.0 { props.max } else { 1.0 };
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v / max).clamp(0.0, 1.0));
    // Segments between consecutive months that both have a value.
    let mut path = String::new();
    let mut drawing = false;
    for (i, p) in props.points.iter().enumerate() {
        match p.value {
            Some(v) => {
                path.push_str(&format!(
                    "{}{:.1},{:.1} ",
                    if drawing { "L" } else { "M" },
                    x(i),
                    y(v)
                ));
                drawing = true;
            }
            None => drawing = false,
        }
    }
    let every = if n > 8 { 2 } else { 1 };
    html! {
        <figure class="chart">
            <figcaption>
                <strong>{ props.title.clone() }</strong>
                <span class="chart-summary">{ props.summary.clone() }</span>
            </figcaption>
            <svg class="line-chart" viewBox={format!("0 0 {W} {H}")} aria-hidden="true" focusable="false">
                { for [max, max / 2.0, 0.0].into_iter().map(|v| html! {
                    <>
                        <line class="grid" x1={LEFT.to_string()} x2={(W - 4.0).to_string()} y1={format!("{:.1}", y(v))} y2={format!("{:.1}", y(v))} />
                        <text class="axis" x={(LEFT - 4.0).to_string()} y={format!("{:.1}", y(v) + 3.5)} text-anchor="end">{ format!("{v:.0}") }</text>
                    </>
                }) }
                <path class="line" d={path} />
                { for props.points.iter().enumerate().filter_map(|(i, p)| p.value.map(|v| html! {
                    <circle class="dot" cx={format!("{:.1}", x(i))} cy={format!("{:.1}", y(v))} r="3" />
                })) }
                { for props.points.iter().enumerate().filter(|(i, _)| i % every == 0).map(|(i, p)| html! {
                    <text class="axis" x={format!("{:.1}", x(i))} y={(H - 6.0).to_string()} text-anchor="middle">{ p.label.clone() }</text>
                }) }
            </svg>
            { table(lang, &props.title, (&props.label_heading, &props.value_heading),
                props.points.iter().map(|p| (p.label.clone(), p.shown.clone()))) }
        </figure>
    }
}
