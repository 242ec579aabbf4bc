//! E-form pieces shared by filing, resubmission and the back office: one input per field type,
//! and answers written out with their "verified by the state" marks.

use motcua_shared::{
    Lang,
    eform::{Field, FieldError, FieldKind, Form},
    procedure::Level,
    units::{self, Address},
};
use serde_json::{Map, Value};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::{hooks::use_lang, i18n::tr};

/// Whether `field` is asked, given the other answers.
pub fn is_asked(field: &Field, answers: &Map<String, Value>) -> bool {
    field
        .when
        .as_ref()
        .is_none_or(|c| answers.get(&c.field).and_then(Value::as_str) == Some(c.equals.as_str()))
}

/// The problems of `field` among the whole form's.
pub fn errors_of<'a>(errors: &'a [FieldError], field: &str) -> Vec<&'a FieldError> {
    errors
        .iter()
        .filter(|e| {
            e.field == field
                || e.field.starts_with(&format!("{field}["))
                || e.field.starts_with(&format!("{field}."))
        })
        .collect()
}

/// Today in Vietnam, for date rules.
pub fn today() -> motcua_shared::calendar::Day {
    motcua_shared::calendar::Day::of_instant(js_sys::Date::now() as i64)
}

/// An answer written out for reading.
pub fn written(field: &Field, value: Option<&Value>, lang: Lang) -> String {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return "—".into();
    };
    match (&field.kind, value) {
        (FieldKind::Choice { options }, Value::String(v)) => options
            .iter()
            .find(|o| &o.value == v)
            .map_or_else(|| v.clone(), |o| o.label.get(lang).to_owned()),
        (FieldKind::Date { .. }, Value::String(v)) => motcua_shared::time::format_vn_date(v),
        (FieldKind::Address, v) => Address::from_value(v).map_or_else(String::new, |a| a.written()),
        (_, Value::String(v)) => v.clone(),
        (_, Value::Number(n)) => n.as_i64().map_or_else(|| "—".into(), |n| n.to_string()),
        (_, Value::Bool(b)) => b.to_string(),
        _ => "—".into(),
    }
}

/// Where a pre-filled value came from, in words.
pub fn source_key(source: &str) -> &'static str {
    match source.split('.').next() {
        Some("population") => "form.source_population",
        Some("licences") => "form.source_licences",
        Some("health") => "form.source_health",
        _ => "form.source_identity",
    }
}

/// The answers as a description list; verified ones carry the state's mark. With `on_change`,
/// an unverified answer gets a "Change" button sending its field name; a document opens at
/// `document_href(item id)`.
pub fn answers(
    lang: Lang,
    form: &Form,
    answers: &Map<String, Value>,
    verified: &[String],
    on_change: Option<&Callback<String>>,
    // Where a document answer (a warehouse item id) opens, for the reader.
    document_href: &dyn Fn(&str) -> String,
) -> Html {
    html! {
        <dl class="answers">
            { for form.fields.iter().filter(|f| is_asked(f, answers)).map(|field| {
                let verified = verified.contains(&field.name);
                let change = on_change.filter(|_| !verified).map(|cb| {
                    let name = field.name.clone();
                    let onclick = cb.reform(move |_| name.clone());
                    html! {
                        <button type="button" class="link-button" {onclick}>
                            { tr(lang, "form.change") }
                            <span class="visually-hidden">{ format!(" {}", field.label.get(lang)) }</span>
                        </button>
                    }
                });
                html! {
                    <div class="answer">
                        <dt>{ field.label.get(lang) }</dt>
                        <dd>
                            if let (FieldKind::Document { .. }, Some(id)) = (&field.kind, answers.get(&field.name).and_then(Value::as_str)) {
                                <a href={document_href(id)} target="_blank" rel="noopener">{ tr(lang, "form.open_document") }</a>
                            } else {
                                <span>{ written(field, answers.get(&field.name), lang) }</span>
                            }
                            if verified {
                                <span class="badge badge-verified">{ tr(lang, "form.verified") }</span>
                            }
                            { for change }
                        </dd>
                    </div>
                }
            }) }
        </dl>
    }
}

#[derive(Properties, PartialEq)]
pub struct FieldInputProps {
    pub field: Field,
    pub value: Option<Value>,
    pub on_change: Callback<Value>,
    /// What to fix, already in the person's language.
    #[prop_or_default]
    pub error: Option<String>,
    /// Asked alone on its page: the question is the page's heading.
    #[prop_or_default]
    pub as_heading: bool,
}

/// One question: its label (as the page's heading when asked alone), hint, input and error.
#[component]
pub fn FieldInput(props: &FieldInputProps) -> Html {
    let lang = use_lang().lang;
    let field = &props.field;
    let id = format!("field-{}", field.name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [
        field.hint.as_ref().map(|_| hint_id.clone()),
        props.error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let described = (!described.is_empty()).then_some(described);
    let text = props
        .value
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let hint = field
        .hint
        .as_ref()
        .map(|h| html! { <p class="hint" id={hint_id.clone()}>{ h.get(lang) }</p> });
    let error = props.error.as_ref().map(|e| {
        html! { <p class="field-error" id={error_id.clone()}>{ e }</p> }
    });
    let invalid = props.error.as_ref().map(|_| "true");
    let on_text = props.on_change.reform(|e: InputEvent| {
        Value::String(e.target_unchecked_into::<HtmlInputElement>().value())
    });

    let input = match &field.kind {
        FieldKind::Choice { options } => {
            return html! {
                <fieldset class={classes!("field", props.error.is_some().then_some("has-error"))}
                    aria-describedby={described}>
                    <legend class="question">{ heading(props.as_heading, field.label.get(lang)) }</legend>
                    { for hint }
                    { for error }
                    { for options.iter().map(|o| {
                        let value = o.value.clone();
                        let onchange = props.on_change.reform(move |_| Value::String(value.clone()));
                        let option_id = format!("{id}-{}", o.value);
                        html! {
                            <div class="radio">
                                <input type="radio" id={option_id.clone()} name={id.clone()} value={o.value.clone()}
                                    checked={text == o.value} {onchange} />
                                <label for={option_id}>{ o.label.get(lang) }</label>
                            </div>
                        }
                    }) }
                </fieldset>
            };
        }
        FieldKind::Address => {
            let address = props
                .value
                .as_ref()
                .and_then(Address::from_value)
                .unwrap_or(Address {
                    province: String::new(),
                    district: String::new(),
                    commune: String::new(),
                    street: String::new(),
                });
            return html! {
                <fieldset class={classes!("field", props.error.is_some().then_some("has-error"))}
                    aria-describedby={described}>
                    <legend class="question">{ heading(props.as_heading, field.label.get(lang)) }</legend>
                    { for hint }
                    { for error }
                    <AddressInput {id} value={address} on_change={props.on_change.clone()} />
                </fieldset>
            };
        }
        FieldKind::Date { .. } => html! {
            <input id={id.clone()} class="input" type="date" value={text} oninput={on_text}
                aria-describedby={described} aria-invalid={invalid} />
        },
        FieldKind::Number { .. } => {
            let oninput = props.on_change.reform(|e: InputEvent| {
                let raw = e.target_unchecked_into::<HtmlInputElement>().value();
                raw.trim()
                    .parse::<i64>()
                    .map_or(Value::String(raw), Value::from)
            });
            let shown = props.value.as_ref().map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.as_i64().map(|n| n.to_string()).unwrap_or_default(),
                _ => String::new(),
            });
            html! {
                <input id={id.clone()} class="input" type="text" inputmode="numeric" value={shown.unwrap_or_default()}
                    {oninput} aria-describedby={described} aria-invalid={invalid} />
            }
        }
        FieldKind::Document { document } => {
            return html! {
                <fieldset class={classes!("field", props.error.is_some().then_some("has-error"))}
                    aria-describedby={described}>
                    <legend class="question">{ heading(props.as_heading, field.label.get(lang)) }</legend>
                    { for hint }
                    { for error }
                    <crate::components::document_input::DocumentInput id={id.clone()} field={field.clone()}
                        document={document.clone()} value={(!text.is_empty()).then(|| text.clone())}
                        on_change={props.on_change.clone()} />
                </fieldset>
            };
        }
        FieldKind::Group { .. } => html! {
            <p class="notice">{ tr(lang, "form.not_online") }</p>
        },
        kind => {
            let (kind_attr, mode, autocomplete) = match kind {
                FieldKind::Phone => ("tel", "tel", "tel"),
                FieldKind::Email => ("email", "email", "email"),
                FieldKind::Cccd | FieldKind::TaxCode => ("text", "numeric", "off"),
                _ => ("text", "text", "on"),
            };
            html! {
                <input id={id.clone()} class="input" type={kind_attr} inputmode={mode} autocomplete={autocomplete}
                    value={text} oninput={on_text} aria-describedby={described} aria-invalid={invalid} />
            }
        }
    };
    html! {
        <div class={classes!("field", props.error.is_some().then_some("has-error"))}>
            if props.as_heading {
                <h1 tabindex="-1"><label class="question" for={id.clone()}>{ field.label.get(lang) }</label></h1>
            } else {
                <label class="question" for={id.clone()}>{ field.label.get(lang) }</label>
            }
            { for hint }
            { for error }
            { input }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AddressInputProps {
    id: String,
    value: Address,
    on_change: Callback<Value>,
}

/// Province → district → commune, each list narrowed by the choice above it, then the street.
#[component]
fn AddressInput(props: &AddressInputProps) -> Html {
    let lang = use_lang().lang;
    let a = &props.value;
    let emit = {
        let on_change = props.on_change.clone();
        move |address: Address| {
            on_change.emit(serde_json::to_value(address).unwrap_or(Value::Null));
        }
    };
    let select = |level: Level, parent: Option<&str>, current: &str| {
        let (key, part) = match level {
            Level::Province => ("form.province", "province"),
            Level::District => ("form.district", "district"),
            Level::Commune => ("form.commune", "commune"),
        };
        let id = format!("{}-{part}", props.id);
        let base = a.clone();
        let emit = emit.clone();
        let onchange = Callback::from(move |e: Event| {
            let code = e.target_unchecked_into::<HtmlSelectElement>().value();
            let mut next = base.clone();
            match level {
                Level::Province => {
                    next.province = code;
                    next.district.clear();
                    next.commune.clear();
                }
                Level::District => {
                    next.district = code;
                    next.commune.clear();
                }
                Level::Commune => next.commune = code,
            }
            emit(next);
        });
        let disabled = parent.is_some_and(str::is_empty);
        html! {
            <div class="field">
                <label for={id.clone()}>{ tr(lang, key) }</label>
                <select {id} class="input" {onchange} {disabled}>
                    <option value="" selected={current.is_empty()}>{ tr(lang, "form.choose") }</option>
                    { for units::children(if level == Level::Province { None } else { parent })
                        .filter(|_| !disabled)
                        .map(|u| html! {
                            <option value={u.code} selected={current == u.code}>{ u.name }</option>
                        }) }
                </select>
            </div>
        }
    };
    let street_id = format!("{}-street", props.id);
    let on_street = {
        let emit = emit.clone();
        let base = a.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = base.clone();
            next.street = e.target_unchecked_into::<HtmlInputElement>().value();
            emit(next);
        })
    };
    html! {
        <>
            { select(Level::Province, None, &a.province) }
            { select(Level::District, Some(&a.province), &a.district) }
            { select(Level::Commune, Some(&a.district), &a.commune) }
            <div class="field">
                <label for={street_id.clone()}>{ tr(lang, "form.street") }</label>
                <input id={street_id} class="input" type="text" autocomplete="street-address"
                    value={a.street.clone()} oninput={on_street} />
            </div>
        </>
    }
}

/// The first problem of `field`, in `lang`.
pub fn first_error(errors: &[FieldError], field: &str, lang: Lang) -> Option<String> {
    errors_of(errors, field)
        .first()
        .map(|e| e.message.get(lang).to_owned())
}

fn heading(as_heading: bool, text: &str) -> Html {
    if as_heading {
        html! { <h1 tabindex="-1">{ text }</h1> }
    } else {
        html! { { text } }
    }
}

/// Where the person opens a document of their own warehouse.
pub fn own_document(id: &str) -> String {
    format!("/api/v1/me/warehouse/{}/content", crate::api::enc(id))
}
