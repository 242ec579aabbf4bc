//! The verifier: anyone checks a credential's QR (pasted, or read from a picture) on their own
//! device, in WebAssembly, against the trust list (signed by the national root key built into
//! this code) and the status lists, both cached for offline use. It says how fresh that data
//! is, and past the trust list's maximum age it asks to go online: never "valid" on stale data.

use motcua_shared::{
    Lang,
    credential::{
        self, Credential, Invalid,
        status::{self, Status},
        status_token,
        trust::{self, Freshness, SignedTrustList, TrustList},
    },
};
use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::{
    hooks::{use_lang, use_title},
    i18n::{tr, tr_count},
    pages::wallet::claims_list,
};

#[wasm_bindgen(module = "/js/qrimage.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = detectQr)]
    async fn detect_qr(file: web_sys::File) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = isOnline)]
    fn is_online() -> bool;
    #[wasm_bindgen(catch, js_name = sha256Hex)]
    async fn sha256_hex(file: web_sys::File) -> Result<JsValue, JsValue>;
}

/// The root public key this verifier trusts: set when the PWA is built, the demo root otherwise.
fn trusted_root() -> String {
    option_env!("MOTCUA_TRUST_ROOT").map_or_else(trust::demo_root_public, str::to_owned)
}

const TRUST_KEY: &str = "motcua.verifier.trust";
const STATUS_PREFIX: &str = "motcua.verifier.status:";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The cached trust list, checked again against the built-in root.
fn cached_trust() -> Option<TrustList> {
    let text = storage()?.get_item(TRUST_KEY).ok().flatten()?;
    let signed: SignedTrustList = serde_json::from_str(&text).ok()?;
    trust::verify(&signed, &trusted_root()).ok()
}

/// Fetches the trust list when online and keeps it if its signature holds, with every status
/// list it names (so revocations can be checked offline too).
async fn refresh_trust() -> Option<TrustList> {
    let signed: SignedTrustList = crate::api::get("/api/v1/trust-list", &[]).await.ok()?;
    let list = trust::verify(&signed, &trusted_root()).ok()?;
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(&signed)) {
        let _ = s.set_item(TRUST_KEY, &text);
    }
    for uri in &list.status_lists {
        let _ = fetch_status_list(uri).await;
    }
    Some(list)
}

/// Fetches a status list token and keeps it when its signature holds.
async fn fetch_status_list(uri: &str) -> Option<status_token::StatusListToken> {
    let path = url_path(uri)?;
    let response = gloo_net::http::Request::get(&path).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let bytes = response.binary().await.ok()?;
    let token = status_token::verify(&bytes, &trusted_root())?;
    if let Some(s) = storage() {
        let _ = s.set_item(
            &format!("{STATUS_PREFIX}{path}"),
            &credential::to_hex(&bytes),
        );
    }
    Some(token)
}

/// The status of `credential`: from its status list, fetched now when online (and kept), or
/// the kept one while it has not expired. `None`: no usable status data.
async fn status_of(credential: &Credential) -> Option<(Status, i64)> {
    let reference = credential.status.as_ref()?;
    // Fetched from this site whatever host the reference names (the verifier's own origin).
    let fresh = if is_online() {
        fetch_status_list(&reference.uri).await
    } else {
        None
    };
    let token = match fresh {
        Some(token) => token,
        None => {
            let key = format!("{STATUS_PREFIX}{}", url_path(&reference.uri)?);
            let hex = storage()?.get_item(&key).ok().flatten()?;
            let token = status_token::verify(&credential::from_hex(&hex)?, &trusted_root())?;
            if token.expires_at < now_secs() {
                return None;
            }
            token
        }
    };
    Some((status::read(&token.list, reference.idx)?, token.issued_at))
}

fn url_path(uri: &str) -> Option<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let at = rest.find('/')?;
    Some(rest[at..].to_owned())
}

/// What a check found.
#[derive(Clone, PartialEq)]
enum Outcome {
    /// No trust data yet: the first visit must be online.
    NoTrust,
    /// The trust data is past its maximum age: cannot confirm offline.
    Stale {
        age_secs: i64,
    },
    Invalid(Invalid),
    /// The signature holds; the status says more.
    Checked {
        credential: Box<Credential>,
        issuer: String,
        status: Option<Status>,
        trust_age_secs: i64,
    },
}

async fn check(text: String) -> Outcome {
    let list = if is_online() {
        match refresh_trust().await {
            Some(list) => Some(list),
            None => cached_trust(),
        }
    } else {
        cached_trust()
    };
    let Some(list) = list else {
        return Outcome::NoTrust;
    };
    let now = now_secs();
    let trust_age_secs = match trust::freshness(&list, now) {
        Freshness::Stale { age_secs } => return Outcome::Stale { age_secs },
        Freshness::Fresh { age_secs } => age_secs,
    };
    match credential::verify(text.trim(), &list.keys, now) {
        Err(e) => Outcome::Invalid(e),
        Ok(credential) => {
            let issuer = list
                .keys
                .iter()
                .find(|k| k.agency == credential.issuer)
                .map_or_else(|| credential.issuer.clone(), |k| k.agency_name.clone());
            let status = status_of(&credential).await.map(|(s, _)| s);
            Outcome::Checked {
                credential: Box::new(credential),
                issuer,
                status,
                trust_age_secs,
            }
        }
    }
}

/// Reads the QR in a picture: the browser's detector, or rqrr on its grey levels.
async fn read_picture(file: web_sys::File) -> Option<String> {
    let found = detect_qr(file).await.ok()?;
    let get = |name: &str| js_sys::Reflect::get(&found, &JsValue::from_str(name)).ok();
    if let Some(text) = get("text").and_then(|t| t.as_string()) {
        return Some(text);
    }
    let width = get("width")?.as_f64()? as usize;
    let height = get("height")?.as_f64()? as usize;
    let grey = js_sys::Uint8Array::new(&get("grey")?).to_vec();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        grey.get(y * width + x).copied().unwrap_or(255)
    });
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

fn age_text(lang: Lang, secs: i64) -> String {
    if secs < 3600 {
        tr_count(lang, "verify.age_minutes", (secs / 60).max(1))
    } else if secs < 48 * 3600 {
        tr_count(lang, "verify.age_hours", secs / 3600)
    } else {
        tr_count(lang, "verify.age_days", secs / 86_400)
    }
}

fn outcome_view(lang: Lang, outcome: &Outcome) -> Html {
    match outcome {
        Outcome::NoTrust => html! {
            <div class="verdict verdict-unknown" role="status">
                <h2>{ tr(lang, "verify.no_trust") }</h2>
                <p>{ tr(lang, "verify.no_trust_hint") }</p>
            </div>
        },
        Outcome::Stale { age_secs } => html! {
            <div class="verdict verdict-unknown" role="status">
                <h2>{ tr(lang, "verify.stale") }</h2>
                <p>{ format!("{} {}", tr(lang, "verify.trust_from"), age_text(lang, *age_secs)) }</p>
                <p>{ tr(lang, "verify.go_online") }</p>
            </div>
        },
        Outcome::Invalid(why) => html! {
            <div class="verdict verdict-invalid" role="status">
                <h2>{ if *why == Invalid::Expired { tr(lang, "verify.expired") } else if *why == Invalid::UnknownIssuer { tr(lang, "verify.unknown_issuer") } else { tr(lang, "verify.invalid") } }</h2>
                <p>{ tr(lang, &format!("verify.reason.{}", why.code())) }</p>
            </div>
        },
        Outcome::Checked {
            credential,
            issuer,
            status,
            trust_age_secs,
        } => {
            let (class, title) = match status {
                Some(Status::Valid) => ("verdict verdict-valid", tr(lang, "verify.valid")),
                Some(Status::Revoked) => ("verdict verdict-invalid", tr(lang, "verify.revoked")),
                Some(Status::Suspended) => {
                    ("verdict verdict-invalid", tr(lang, "verify.suspended"))
                }
                Some(Status::Replaced) => ("verdict verdict-invalid", tr(lang, "verify.replaced")),
                None => ("verdict verdict-unknown", tr(lang, "verify.status_unknown")),
            };
            let certifies_a_file = credential.certifies_file("").is_some();
            html! {
                <div class={class} role="status">
                    <h2>{ title }</h2>
                    <p>{ format!("{}: {issuer}", tr(lang, "verify.issuer")) }</p>
                    <p>{ format!("{} {}", tr(lang, "verify.trust_from"), age_text(lang, *trust_age_secs)) }</p>
                    { claims_list(lang, &credential.fields) }
                    if certifies_a_file {
                        <FileCheck credential={(**credential).clone()} />
                    }
                </div>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct FileCheckProps {
    credential: Credential,
}

/// For a certified copy: is this file the certified one? (Its SHA-256, computed on the device.)
#[component]
fn FileCheck(props: &FileCheckProps) -> Html {
    let lang = use_lang().lang;
    let matches = use_state(|| None::<bool>);
    let onchange = {
        let (matches, credential) = (matches.clone(), props.credential.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let (matches, credential) = (matches.clone(), credential.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let sha = sha256_hex(file).await.ok().and_then(|v| v.as_string());
                matches.set(sha.and_then(|sha| credential.certifies_file(&sha)));
            });
        })
    };
    html! {
        <div class="field">
            <label for="certified-file">{ tr(lang, "verify.file") }</label>
            <p class="hint">{ tr(lang, "verify.file_hint") }</p>
            <input id="certified-file" class="input" type="file" {onchange} />
            { match *matches {
                Some(true) => html! { <p class="badge badge-full" role="status">{ tr(lang, "verify.file_matches") }</p> },
                Some(false) => html! { <p class="field-error" role="alert">{ tr(lang, "verify.file_differs") }</p> },
                None => Html::default(),
            } }
        </div>
    }
}

#[component]
pub fn VerifyPage() -> Html {
    let lang = use_lang().lang;
    use_title(tr(lang, "verify.title"));
    let text = use_state(String::new);
    let outcome = use_state(|| None::<Outcome>);
    let busy = use_state(|| false);
    let unreadable = use_state(|| false);
    // Keep the trust list fresh while online, so a later check works offline.
    use_effect_with((), |()| {
        if is_online() {
            wasm_bindgen_futures::spawn_local(async {
                let _ = refresh_trust().await;
            });
        }
    });
    let run = {
        let (outcome, busy) = (outcome.clone(), busy.clone());
        Callback::from(move |qr: String| {
            let (outcome, busy) = (outcome.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                outcome.set(Some(check(qr).await));
                busy.set(false);
            });
        })
    };
    let onsubmit = {
        let (text, run) = (text.clone(), run.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run.emit((*text).clone());
        })
    };
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            );
        })
    };
    let onpicture = {
        let (text, run, unreadable) = (text.clone(), run.clone(), unreadable.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let (text, run, unreadable) = (text.clone(), run.clone(), unreadable.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match read_picture(file).await {
                    Some(qr) => {
                        unreadable.set(false);
                        text.set(qr.clone());
                        run.emit(qr);
                    }
                    None => unreadable.set(true),
                }
            });
        })
    };
    html! {
        <div class="page">
            <h1>{ tr(lang, "verify.title") }</h1>
            <p class="lead">{ tr(lang, "verify.lead") }</p>
            <div class="field">
                <label for="qr-picture">{ tr(lang, "verify.picture") }</label>
                <p class="hint">{ tr(lang, "verify.picture_hint") }</p>
                <input id="qr-picture" class="input" type="file" accept="image/*" capture="environment" onchange={onpicture} />
                if *unreadable {
                    <p class="field-error" role="alert">{ tr(lang, "verify.unreadable") }</p>
                }
            </div>
            <form {onsubmit}>
                <div class="field">
                    <label for="qr-text">{ tr(lang, "verify.paste") }</label>
                    <textarea id="qr-text" class="input" rows="4" value={(*text).clone()} {oninput} spellcheck="false" />
                </div>
                <button type="submit" class="button button-primary" disabled={*busy || text.trim().is_empty()}>
                    { tr(lang, "verify.check") }
                </button>
            </form>
            if let Some(outcome) = (*outcome).as_ref() {
                { outcome_view(lang, outcome) }
            }
        </div>
    }
}
