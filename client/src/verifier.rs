//! The verifier: anyone checks a credential's QR (scanned with the camera, read from a picture,
//! or pasted) on their own device, in WebAssembly, against the trust list (signed by the
//! national root key built into this code) and the status lists, both kept for offline use. It
//! says how fresh that data is, and past the trust list's maximum age it asks to go online:
//! never "valid" on stale data.
//!
//! Written on the DOM directly, without Yew, and with its own few texts (generated from the
//! same `locales/*.yml` by `build.rs`): a verifier's first load is its whole cost, on any phone.

use motcua_shared::{
    Lang,
    credential::{
        self, Credential, Invalid, claim_rows,
        status::{self, Status},
        status_token,
        trust::{self, Freshness, SignedTrustList, TrustList},
    },
};
use wasm_bindgen::{JsCast, UnwrapThrowExt, prelude::*};
use web_sys::{Document, Element, HtmlInputElement, HtmlTextAreaElement};

use crate::i18n::{apply_lang, saved_lang};

mod texts {
    include!(concat!(env!("OUT_DIR"), "/verifier_texts.rs"));
}

#[wasm_bindgen(module = "/js/qrimage.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = detectQr)]
    async fn detect_qr(file: web_sys::File) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = scanCamera)]
    async fn scan_camera(video: web_sys::HtmlVideoElement) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = stopCamera)]
    fn stop_camera(video: Option<web_sys::HtmlVideoElement>);
    #[wasm_bindgen(js_name = hasCamera)]
    fn has_camera() -> bool;
    #[wasm_bindgen(js_name = isOnline)]
    fn is_online() -> bool;
    #[wasm_bindgen(catch, js_name = sha256Hex)]
    async fn sha256_hex(file: web_sys::File) -> Result<JsValue, JsValue>;
}

/// The verifier's text for `key` in `lang` (the key itself when missing, as rust-i18n does).
pub fn text(lang: Lang, key: &str) -> String {
    match texts::TEXTS.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
        Ok(at) => {
            let (_, vi, en) = texts::TEXTS[at];
            match lang {
                Lang::Vi => vi,
                Lang::En => en,
            }
            .to_owned()
        }
        Err(_) => key.to_owned(),
    }
}

fn text_count(lang: Lang, key: &str, count: i64) -> String {
    text(lang, key).replace("%{count}", &count.to_string())
}

/// The root public key this verifier trusts: set when the PWA is built, the demo root otherwise.
fn trusted_root() -> &'static str {
    option_env!("MOTCUA_TRUST_ROOT").unwrap_or(trust::DEMO_ROOT_PUBLIC)
}

const TRUST_KEY: &str = "motcua.verifier.trust";
const STATUS_PREFIX: &str = "motcua.verifier.status:";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The kept trust list, checked again against the built-in root.
fn cached_trust() -> Option<TrustList> {
    let text = storage()?.get_item(TRUST_KEY).ok().flatten()?;
    let signed: SignedTrustList = serde_json::from_str(&text).ok()?;
    trust::verify(&signed, trusted_root()).ok()
}

/// Fetches the trust list when online and keeps it if its signature holds, with every status
/// list it names (so revocations can be checked offline too).
async fn refresh_trust() -> Option<TrustList> {
    let signed: SignedTrustList = crate::api::get("/api/v1/trust-list", &[]).await.ok()?;
    let list = trust::verify(&signed, trusted_root()).ok()?;
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
    let token = status_token::verify(&bytes, trusted_root())?;
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
async fn status_of(credential: &Credential) -> Option<Status> {
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
            let token = status_token::verify(&credential::from_hex(&hex)?, trusted_root())?;
            if token.expires_at < now_secs() {
                return None;
            }
            token
        }
    };
    status::read(&token.list, reference.idx)
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
            let status = status_of(&credential).await;
            Outcome::Checked {
                credential: Box::new(credential),
                issuer,
                status,
                trust_age_secs,
            }
        }
    }
}

/// Milliseconds per verification of `qr` (decoding, signature, validity; not the status list)
/// over `n` runs against the kept trust list: the WebAssembly figure of `cargo xtask bench`.
/// `None` when there is no trust list or `qr` does not verify.
pub fn time_verifications(qr: &str, n: u32) -> Option<f64> {
    let list = cached_trust()?;
    let now = now_secs();
    credential::verify(qr, &list.keys, now).ok()?;
    let clock = web_sys::window()?.performance()?;
    let start = clock.now();
    for _ in 0..n {
        let _ = std::hint::black_box(credential::verify(
            std::hint::black_box(qr),
            &list.keys,
            now,
        ));
    }
    Some((clock.now() - start) / f64::from(n.max(1)))
}

fn age_text(lang: Lang, secs: i64) -> String {
    if secs < 3600 {
        text_count(lang, "verify.age_minutes", (secs / 60).max(1))
    } else if secs < 48 * 3600 {
        text_count(lang, "verify.age_hours", secs / 3600)
    } else {
        text_count(lang, "verify.age_days", secs / 86_400)
    }
}

// ---- The page, on the DOM ----

fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect_throw("a document")
}

/// `<tag attr=value…>` with `children` appended.
fn el(tag: &str, attrs: &[(&str, &str)], children: &[&web_sys::Node]) -> Element {
    let element = document().create_element(tag).expect_throw("an element");
    for (name, value) in attrs {
        let _ = element.set_attribute(name, value);
    }
    for child in children {
        let _ = element.append_child(child);
    }
    element
}

/// An element holding only `text`.
fn el_text(tag: &str, attrs: &[(&str, &str)], text: &str) -> Element {
    let element = el(tag, attrs, &[]);
    element.set_text_content(Some(text));
    element
}

fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document().get_element_by_id(id)?.dyn_into().ok()
}

/// Runs `handler` on every `event` of `target`, for the page's lifetime.
fn on(target: &Element, event: &str, handler: impl FnMut(web_sys::Event) + 'static) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

/// Starts the verifier in `#app`: the whole page, in the saved language.
pub fn start() {
    render(saved_lang());
    if is_online() {
        // Keep the trust data fresh while online, so a later check works offline.
        wasm_bindgen_futures::spawn_local(async {
            let _ = refresh_trust().await;
        });
    }
}

/// Draws the page in `lang`, keeping what was typed in (a language switch draws it again).
fn render(lang: Lang) {
    apply_lang(lang);
    let doc = document();
    doc.set_title(&format!(
        "{} · {}",
        text(lang, "verify.title"),
        text(lang, "app.name")
    ));
    let typed = by_id::<HtmlTextAreaElement>("qr-text").map(|t| t.value());
    stop_camera(by_id("camera-view"));
    let Some(app) = doc
        .get_element_by_id("app")
        .or_else(|| doc.body().map(Into::into))
    else {
        return;
    };
    app.set_text_content(None);

    let other = match lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    let switch = el_text(
        "button",
        &[
            ("type", "button"),
            ("class", "button button-quiet lang-switch"),
            ("lang", other.code()),
            ("aria-label", &text(lang, "app.switch_language_label")),
        ],
        &text(lang, "app.switch_language"),
    );
    on(&switch, "click", move |_| {
        render(other);
        if let Some(main) = by_id::<web_sys::HtmlElement>("main") {
            let _ = main.focus();
        }
    });
    let brand = el(
        "a",
        &[("class", "brand"), ("href", "/")],
        &[
            &el(
                "img",
                &[
                    ("src", "/icon.svg"),
                    ("alt", ""),
                    ("width", "32"),
                    ("height", "32"),
                ],
                &[],
            ),
            &el_text("span", &[], &text(lang, "app.name")),
        ],
    );
    let _ = app.append_child(&el_text(
        "a",
        &[("class", "skip-link"), ("href", "#main")],
        &text(lang, "app.skip_to_content"),
    ));
    let _ = app.append_child(&el("header", &[("class", "topbar")], &[&brand, &switch]));

    let page = el("div", &[("class", "page")], &[]);
    let _ = page.append_child(&el_text("h1", &[], &text(lang, "verify.title")));
    let _ = page.append_child(&el_text(
        "p",
        &[("class", "lead")],
        &text(lang, "verify.lead"),
    ));
    if has_camera() {
        let _ = page.append_child(&camera(lang));
    }
    let _ = page.append_child(&picture(lang));
    let _ = page.append_child(&paste_form(lang, typed.unwrap_or_default()));
    let _ = page.append_child(&el("div", &[("id", "outcome")], &[]));
    let _ = app.append_child(&el("main", &[("id", "main"), ("tabindex", "-1")], &[&page]));
    if let Some(outcome) = SHOWN.with(|shown| shown.borrow().clone()) {
        show(lang, &outcome);
    }
}

/// Shows `qr` in the text box and checks it.
fn run(lang: Lang, qr: String) {
    if let Some(area) = by_id::<HtmlTextAreaElement>("qr-text") {
        area.set_value(&qr);
    }
    set_busy(true);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = check(qr).await;
        show(lang, &outcome);
        set_busy(false);
    });
}

fn set_busy(busy: bool) {
    if let Some(button) = by_id::<web_sys::HtmlButtonElement>("check") {
        button.set_disabled(busy);
    }
}

fn camera(lang: Lang) -> Element {
    let field = el("div", &[("class", "field camera")], &[]);
    let video = el(
        "video",
        &[
            ("id", "camera-view"),
            ("class", "camera-view"),
            ("hidden", ""),
            ("aria-label", &text(lang, "verify.camera_view")),
        ],
        &[],
    );
    let status = el("p", &[("class", "hint"), ("role", "status")], &[]);
    let start = el_text(
        "button",
        &[("type", "button"), ("class", "button button-primary")],
        &text(lang, "verify.camera"),
    );
    let stop = el_text(
        "button",
        &[("type", "button"), ("class", "button"), ("hidden", "")],
        &text(lang, "verify.camera_stop"),
    );
    let failed = el("p", &[("class", "field-error"), ("role", "alert")], &[]);
    for child in [&video, &status, &start, &stop, &failed] {
        let _ = field.append_child(child);
    }
    let scanning = {
        let (video, status, start, stop) =
            (video.clone(), status.clone(), start.clone(), stop.clone());
        move |on: bool| {
            let _ = video.toggle_attribute_with_force("hidden", !on);
            let _ = start.toggle_attribute_with_force("hidden", on);
            let _ = stop.toggle_attribute_with_force("hidden", !on);
            status.set_text_content(on.then(|| text(lang, "verify.camera_scanning")).as_deref());
        }
    };
    {
        let (video, failed, scanning) = (video.clone(), failed.clone(), scanning.clone());
        on(&start, "click", move |_| {
            let Ok(element) = video.clone().dyn_into::<web_sys::HtmlVideoElement>() else {
                return;
            };
            let (failed, scanning) = (failed.clone(), scanning.clone());
            failed.set_text_content(None);
            scanning(true);
            wasm_bindgen_futures::spawn_local(async move {
                let found = scan_camera(element).await;
                scanning(false);
                match found.map(|v| v.as_string()) {
                    Ok(Some(qr)) => run(lang, qr),
                    Ok(None) => {}
                    Err(_) => failed.set_text_content(Some(&text(lang, "verify.camera_failed"))),
                }
            });
        });
    }
    on(&stop, "click", move |_| {
        stop_camera(video.clone().dyn_into().ok())
    });
    field
}

fn picture(lang: Lang) -> Element {
    let input = el(
        "input",
        &[
            ("id", "qr-picture"),
            ("class", "input"),
            ("type", "file"),
            ("accept", "image/*"),
            ("capture", "environment"),
        ],
        &[],
    );
    let error = el("p", &[("class", "field-error"), ("role", "alert")], &[]);
    let field = el(
        "div",
        &[("class", "field")],
        &[
            &el_text(
                "label",
                &[("for", "qr-picture")],
                &text(lang, "verify.picture"),
            ),
            &el_text(
                "p",
                &[("class", "hint")],
                &text(lang, "verify.picture_hint"),
            ),
            &input,
            &error,
        ],
    );
    {
        let input = input.clone();
        on(&input.clone(), "change", move |_| {
            let Some(file) = input
                .dyn_ref::<HtmlInputElement>()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                return;
            };
            let error = error.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match detect_qr(file).await.ok().and_then(|v| v.as_string()) {
                    Some(qr) => {
                        error.set_text_content(None);
                        run(lang, qr);
                    }
                    None => error.set_text_content(Some(&text(lang, "verify.unreadable"))),
                }
            });
        });
    }
    field
}

fn paste_form(lang: Lang, typed: String) -> Element {
    let area = el(
        "textarea",
        &[
            ("id", "qr-text"),
            ("class", "input"),
            ("rows", "4"),
            ("spellcheck", "false"),
        ],
        &[],
    );
    if let Some(area) = area.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(&typed);
    }
    let button = el_text(
        "button",
        &[
            ("id", "check"),
            ("type", "submit"),
            ("class", "button button-primary"),
        ],
        &text(lang, "verify.check"),
    );
    let form = el(
        "form",
        &[],
        &[
            &el(
                "div",
                &[("class", "field")],
                &[
                    &el_text("label", &[("for", "qr-text")], &text(lang, "verify.paste")),
                    &area,
                ],
            ),
            &button,
        ],
    );
    on(&form, "submit", move |e| {
        e.prevent_default();
        let qr = by_id::<HtmlTextAreaElement>("qr-text")
            .map(|t| t.value())
            .unwrap_or_default();
        if !qr.trim().is_empty() {
            run(lang, qr);
        }
    });
    form
}

thread_local! {
    /// The verdict on screen, drawn again after a language switch.
    static SHOWN: std::cell::RefCell<Option<Outcome>> = const { std::cell::RefCell::new(None) };
}

/// Puts the verdict in `#outcome`.
fn show(lang: Lang, outcome: &Outcome) {
    SHOWN.with(|shown| *shown.borrow_mut() = Some(outcome.clone()));
    let Some(place) = document().get_element_by_id("outcome") else {
        return;
    };
    place.set_text_content(None);
    let verdict = |class: &str, title: String, lines: &[String]| {
        let div = el("div", &[("class", class), ("role", "status")], &[]);
        let _ = div.append_child(&el_text("h2", &[], &title));
        for line in lines {
            let _ = div.append_child(&el_text("p", &[], line));
        }
        div
    };
    let trust_from = |secs| {
        format!(
            "{} {}",
            text(lang, "verify.trust_from"),
            age_text(lang, secs)
        )
    };
    let div = match outcome {
        Outcome::NoTrust => verdict(
            "verdict verdict-unknown",
            text(lang, "verify.no_trust"),
            &[text(lang, "verify.no_trust_hint")],
        ),
        Outcome::Stale { age_secs } => verdict(
            "verdict verdict-unknown",
            text(lang, "verify.stale"),
            &[trust_from(*age_secs), text(lang, "verify.go_online")],
        ),
        Outcome::Invalid(why) => verdict(
            "verdict verdict-invalid",
            text(
                lang,
                match why {
                    Invalid::Expired => "verify.expired",
                    Invalid::UnknownIssuer => "verify.unknown_issuer",
                    _ => "verify.invalid",
                },
            ),
            &[text(lang, &format!("verify.reason.{}", why.code()))],
        ),
        Outcome::Checked {
            credential,
            issuer,
            status,
            trust_age_secs,
        } => {
            let (class, title) = match status {
                Some(Status::Valid) => ("verdict verdict-valid", "verify.valid"),
                Some(Status::Revoked) => ("verdict verdict-invalid", "verify.revoked"),
                Some(Status::Suspended) => ("verdict verdict-invalid", "verify.suspended"),
                Some(Status::Replaced) => ("verdict verdict-invalid", "verify.replaced"),
                None => ("verdict verdict-unknown", "verify.status_unknown"),
            };
            let div = verdict(
                class,
                text(lang, title),
                &[
                    format!("{}: {issuer}", text(lang, "verify.issuer")),
                    trust_from(*trust_age_secs),
                ],
            );
            let list = el("dl", &[("class", "answers")], &[]);
            for (key, value) in claim_rows(&credential.fields) {
                let _ = list.append_child(&el(
                    "div",
                    &[("class", "answer")],
                    &[
                        &el_text("dt", &[], &text(lang, key)),
                        &el_text("dd", &[], &value),
                    ],
                ));
            }
            let _ = div.append_child(&list);
            if credential.certifies_file("").is_some() {
                let _ = div.append_child(&file_check(lang, (**credential).clone()));
            }
            div
        }
    };
    let _ = place.append_child(&div);
}

/// For a certified copy: is this file the certified one? (Its SHA-256, computed on the device.)
fn file_check(lang: Lang, credential: Credential) -> Element {
    let input = el(
        "input",
        &[
            ("id", "certified-file"),
            ("class", "input"),
            ("type", "file"),
        ],
        &[],
    );
    let answer = el("div", &[], &[]);
    let field = el(
        "div",
        &[("class", "field")],
        &[
            &el_text(
                "label",
                &[("for", "certified-file")],
                &text(lang, "verify.file"),
            ),
            &el_text("p", &[("class", "hint")], &text(lang, "verify.file_hint")),
            &input,
            &answer,
        ],
    );
    on(&input.clone(), "change", move |_| {
        let Some(file) = input
            .dyn_ref::<HtmlInputElement>()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        let (answer, credential) = (answer.clone(), credential.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let sha = sha256_hex(file).await.ok().and_then(|v| v.as_string());
            answer.set_text_content(None);
            let shown = match sha.and_then(|sha| credential.certifies_file(&sha)) {
                Some(true) => el_text(
                    "p",
                    &[("class", "badge badge-full"), ("role", "status")],
                    &text(lang, "verify.file_matches"),
                ),
                Some(false) => el_text(
                    "p",
                    &[("class", "field-error"), ("role", "alert")],
                    &text(lang, "verify.file_differs"),
                ),
                None => return,
            };
            let _ = answer.append_child(&shown);
        });
    });
    field
}
