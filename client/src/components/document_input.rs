//! A document answer: one of the person's warehouse items of the required kind (issued results
//! first, marked with their issuer), or a new upload with a progress bar.

use motcua_shared::{
    ErrorBody,
    eform::Field,
    warehouse::{Warehouse, WarehouseItem, sniff},
};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::{
    api,
    hooks::{Loadable, use_lang, use_load, use_session},
    i18n::tr,
};

#[wasm_bindgen(module = "/js/upload.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = uploadFile)]
    async fn upload_file(
        url: &str,
        csrf: &str,
        file: web_sys::File,
        on_progress: &Closure<dyn FnMut(f64)>,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_name = headOf)]
    async fn head_of(file: &web_sys::File) -> Result<JsValue, JsValue>;
}

#[derive(Properties, PartialEq)]
pub struct DocumentInputProps {
    pub id: String,
    pub field: Field,
    /// The document code the field asks for.
    pub document: String,
    pub value: Option<String>,
    pub on_change: Callback<Value>,
}

#[derive(serde::Deserialize)]
struct Answer {
    status: u16,
    body: String,
}

#[component]
pub fn DocumentInput(props: &DocumentInputProps) -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    let csrf = match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    }
    .unwrap_or_default();
    let generation = use_state(|| 0u32);
    let warehouse = use_load(
        (*generation, props.document.clone()),
        |(_, document)| async move {
            // The person's documents of this kind: a handful, so the largest page holds them all.
            api::get::<Warehouse>(
                "/api/v1/me/warehouse",
                &[("document", document.as_str()), ("limit", "200")],
            )
            .await
        },
    );
    // Upload progress from 0 to 1 while sending; the error of the last try.
    let progress = use_state(|| None::<f64>);
    let problem = use_state(|| None::<String>);

    let items: Vec<WarehouseItem> = match &*warehouse {
        Loadable::Loaded(w) => {
            let mut mine: Vec<WarehouseItem> = w
                .items
                .iter()
                .filter(|i| i.document_code == props.document)
                .cloned()
                .collect();
            mine.sort_by_key(|i| i.provenance != "issued");
            mine
        }
        _ => Vec::new(),
    };
    let on_file = {
        let (progress, problem, generation, on_change) = (
            progress.clone(),
            problem.clone(),
            generation.clone(),
            props.on_change.clone(),
        );
        let url = format!(
            "/api/v1/me/warehouse?document={}",
            api::enc(&props.document)
        );
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let url = format!("{url}&title={}", api::enc(&file.name()));
            let (progress, problem, generation, on_change, csrf) = (
                progress.clone(),
                problem.clone(),
                generation.clone(),
                on_change.clone(),
                csrf.clone(),
            );
            progress.set(Some(0.0));
            problem.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                // What the server would refuse is refused here, before a slow upload: the
                // same sniffer reads the file's first bytes.
                if let Ok(head) = head_of(&file).await {
                    let head = js_sys::Uint8Array::new(&head).to_vec();
                    let refused = match (head.is_empty(), sniff(&head)) {
                        (true, _) => Some("upload.empty_file"),
                        (false, None) => Some("upload.unsupported_media_type"),
                        (false, Some(_)) => None,
                    };
                    if let Some(key) = refused {
                        progress.set(None);
                        problem.set(Some(key.into()));
                        return;
                    }
                }
                let shown = progress.clone();
                let tick = Closure::<dyn FnMut(f64)>::new(move |p: f64| shown.set(Some(p)));
                let answer = upload_file(&url, &csrf, file, &tick).await;
                drop(tick);
                progress.set(None);
                let parsed = answer
                    .ok()
                    .and_then(|v| v.as_string())
                    .and_then(|t| serde_json::from_str::<Answer>(&t).ok());
                match parsed {
                    Some(a) if a.status == 201 => {
                        if let Ok(item) = serde_json::from_str::<WarehouseItem>(&a.body) {
                            on_change.emit(Value::String(item.id));
                            generation.set(*generation + 1);
                        }
                    }
                    Some(a) => {
                        let message = serde_json::from_str::<ErrorBody>(&a.body)
                            .map(|b| b.error)
                            .unwrap_or_default();
                        problem.set(Some(format!("upload.{message}")));
                    }
                    None => problem.set(Some("error.network".into())),
                }
            });
        })
    };
    let file_id = format!("{}-file", props.id);
    html! {
        <>
            { for items.iter().map(|item| {
                let value = item.id.clone();
                let onchange = props.on_change.reform(move |_| Value::String(value.clone()));
                let option_id = format!("{}-{}", props.id, item.id);
                html! {
                    <div class="radio">
                        <input type="radio" id={option_id.clone()} name={props.id.clone()}
                            checked={props.value.as_deref() == Some(item.id.as_str())} {onchange} />
                        <label for={option_id}>
                            { &item.title }
                            <span class="source">
                                { if item.provenance == "issued" {
                                    format!(" · {} {}", tr(lang, "document.issued_by"), item.issuer.clone().unwrap_or_default())
                                } else {
                                    format!(" · {}", tr(lang, "document.uploaded"))
                                } }
                            </span>
                        </label>
                    </div>
                }
            }) }
            <div class="field upload">
                <label for={file_id.clone()}>{ tr(lang, if items.is_empty() { "document.upload" } else { "document.upload_other" }) }</label>
                <p class="hint">{ tr(lang, "document.types") }</p>
                <input id={file_id} type="file" accept="application/pdf,image/jpeg,image/png" onchange={on_file}
                    disabled={progress.is_some()} />
                if let Some(p) = *progress {
                    // Whole percents (integer formatting keeps float printing out of the bundle).
                    <progress max="100" value={percent(p).to_string()} aria-label={tr(lang, "document.uploading")} />
                    <p role="status">{ format!("{} {}%", tr(lang, "document.uploading"), percent(p)) }</p>
                }
                if let Some(key) = (*problem).clone() {
                    <p class="field-error" role="alert">{ {
                        let text = tr(lang, &key);
                        if text.ends_with(&key) { tr(lang, "document.failed") } else { text }
                    } }</p>
                }
            </div>
        </>
    }
}

fn percent(fraction: f64) -> u32 {
    (fraction.clamp(0.0, 1.0) * 100.0).round() as u32
}
