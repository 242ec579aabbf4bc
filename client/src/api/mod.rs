//! The API client: one generic request function that decodes either the expected body or the
//! shared error body. Paths are relative to the page's origin: no API root is baked in.

use gloo_net::http::Request;
use motcua_shared::{ErrorBody, procedure::ProcedureList};
use serde::de::DeserializeOwned;

/// Why a request gave no data.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No answer: offline, or the server is unreachable.
    Network,
    /// The server answered with its JSON error.
    Server { status: u16, body: ErrorBody },
    /// The answer was not what this version of the app understands.
    Unexpected,
}

/// Sends one request: JSON body and CSRF token when given. A non-2xx answer becomes
/// [`ApiFailure::Server`] with the shared error body.
async fn request(
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<&serde_json::Value>,
    csrf_token: Option<&str>,
) -> Result<gloo_net::http::Response, ApiFailure> {
    let builder = match method {
        "POST" => Request::post(path),
        "PUT" => Request::put(path),
        "DELETE" => Request::delete(path),
        _ => Request::get(path),
    };
    let mut builder = builder
        .query(params.iter().copied())
        .header("accept", "application/json")
        // The server writes its error messages in the person's language.
        .header("accept-language", crate::i18n::saved_lang().code());
    if let Some(token) = csrf_token {
        builder = builder.header("x-csrf-token", token);
    }
    let sent = match body {
        Some(body) => {
            builder
                .json(body)
                .map_err(|_| ApiFailure::Unexpected)?
                .send()
                .await
        }
        None => builder.send().await,
    };
    let response = sent.map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiFailure::Server { status, body }),
        Err(_) => Err(ApiFailure::Unexpected),
    }
}

async fn read<T: DeserializeOwned>(response: gloo_net::http::Response) -> Result<T, ApiFailure> {
    response
        .json::<T>()
        .await
        .map_err(|_| ApiFailure::Unexpected)
}

/// GET `path` with query `params`, decoding `T`.
pub async fn get<T: DeserializeOwned>(
    path: &str,
    params: &[(&str, &str)],
) -> Result<T, ApiFailure> {
    read(request("GET", path, params, None, None).await?).await
}

/// The catalogue narrowed by search text and level (empty strings mean no filter).
pub async fn procedures(text: String, level: String) -> Result<ProcedureList, ApiFailure> {
    let mut params = Vec::new();
    if !text.trim().is_empty() {
        params.push(("q", text.trim()));
    }
    if !level.is_empty() {
        params.push(("level", level.as_str()));
    }
    get("/api/v1/procedures", &params).await
}

/// The signed-in person, or `None` when nobody is signed in (401).
pub async fn me() -> Result<Option<motcua_shared::identity::Me>, ApiFailure> {
    match get::<motcua_shared::identity::Me>("/api/v1/me", &[]).await {
        Ok(me) => Ok(Some(me)),
        Err(ApiFailure::Server { status: 401, .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The signed-in person's devices.
pub async fn sessions() -> Result<motcua_shared::identity::SessionList, ApiFailure> {
    get("/api/v1/me/sessions", &[]).await
}

/// A state-changing request (`POST`/`DELETE`) carrying the session's CSRF token; no body back.
pub async fn send(method: &str, path: &str, csrf_token: &str) -> Result<(), ApiFailure> {
    request(method, path, &[], None, Some(csrf_token))
        .await
        .map(|_| ())
}

/// Who read the person's data, newest first.
pub async fn data_access() -> Result<motcua_shared::identity::DataAccessLog, ApiFailure> {
    get("/api/v1/me/data-access", &[]).await
}

/// `POST` a JSON body (with the CSRF token when signed in), decoding `T` from the answer.
pub async fn post_json<T: DeserializeOwned>(
    path: &str,
    body: &serde_json::Value,
    csrf_token: Option<&str>,
) -> Result<T, ApiFailure> {
    read(request("POST", path, &[], Some(body), csrf_token).await?).await
}

/// `PUT`/`POST` a JSON body with the CSRF token, decoding `T` from the answer.
pub async fn send_json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &serde_json::Value,
    csrf_token: &str,
) -> Result<T, ApiFailure> {
    read(request(method, path, &[], Some(body), Some(csrf_token)).await?).await
}

/// Starts a payment (`POST /api/v1/payments`) under `key`: the same key gives the same payment.
pub async fn start_payment(
    body: &serde_json::Value,
    key: &str,
    csrf_token: &str,
) -> Result<motcua_shared::payment_api::PaymentView, ApiFailure> {
    let response = Request::post("/api/v1/payments")
        .header("accept", "application/json")
        .header("accept-language", crate::i18n::saved_lang().code())
        .header("x-csrf-token", csrf_token)
        .header("idempotency-key", key)
        .json(body)
        .map_err(|_| ApiFailure::Unexpected)?
        .send()
        .await
        .map_err(|_| ApiFailure::Network)?;
    if !response.ok() {
        let status = response.status();
        return match response.json::<ErrorBody>().await {
            Ok(body) => Err(ApiFailure::Server { status, body }),
            Err(_) => Err(ApiFailure::Unexpected),
        };
    }
    read(response).await
}

/// What the gateway's return says, and the payment as the server knows it.
pub async fn return_check(
    query: &str,
) -> Result<motcua_shared::payment_api::ReturnCheck, ApiFailure> {
    let path = format!("/api/v1/payments/vnpay/return-check?{query}");
    get(&path, &[]).await
}

/// The person's passkeys.
pub async fn passkeys() -> Result<motcua_shared::identity::PasskeyList, ApiFailure> {
    get("/api/v1/me/passkeys", &[]).await
}

pub mod webauthn {
    //! The browser's WebAuthn API, through `client/js/webauthn.js`.

    use serde::Deserialize;
    use wasm_bindgen::prelude::*;

    use super::{ApiFailure, post_json};
    use motcua_shared::{ErrorBody, identity::PasskeyInfo};

    #[wasm_bindgen(module = "/js/webauthn.js")]
    extern "C" {
        #[wasm_bindgen(js_name = passkeysSupported)]
        pub fn supported() -> bool;
        #[wasm_bindgen(catch, js_name = createPasskey)]
        async fn create(options: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = getPasskey)]
        async fn get(options: &str) -> Result<JsValue, JsValue>;
    }

    #[derive(Deserialize)]
    struct Ceremony {
        ceremony_id: String,
        options: serde_json::Value,
    }

    /// The person closed the passkey prompt, or the device has none.
    fn cancelled() -> ApiFailure {
        ApiFailure::Server {
            status: 0,
            body: ErrorBody::new("passkey_cancelled", "The passkey prompt was closed."),
        }
    }

    fn credential(value: JsValue) -> Result<serde_json::Value, ApiFailure> {
        value
            .as_string()
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or(ApiFailure::Unexpected)
    }

    /// Registers a new passkey named `name` on this device.
    pub async fn register(name: &str, csrf_token: &str) -> Result<PasskeyInfo, ApiFailure> {
        let start: Ceremony = post_json(
            "/api/v1/me/passkeys/registration/start",
            &serde_json::json!({ "name": name }),
            Some(csrf_token),
        )
        .await?;
        let created = create(&start.options.to_string())
            .await
            .map_err(|_| cancelled())?;
        post_json(
            "/api/v1/me/passkeys/registration/finish",
            &serde_json::json!({ "ceremony_id": start.ceremony_id, "credential": credential(created)? }),
            Some(csrf_token),
        )
        .await
    }

    /// Confirms it is the person, on the current session, with a passkey of this device.
    pub async fn step_up(csrf_token: &str) -> Result<(), ApiFailure> {
        let start: Ceremony = post_json(
            "/api/v1/me/step-up/passkey/start",
            &serde_json::json!({}),
            Some(csrf_token),
        )
        .await?;
        let asserted = get(&start.options.to_string())
            .await
            .map_err(|_| cancelled())?;
        // 204: nothing to read back.
        super::request(
            "POST",
            "/api/v1/me/step-up/passkey/finish",
            &[],
            Some(&serde_json::json!({ "ceremony_id": start.ceremony_id, "credential": credential(asserted)? })),
            Some(csrf_token),
        )
        .await
        .map(|_| ())
    }

    /// Signs in with a passkey of this device (the device offers the person's passkeys).
    pub async fn sign_in() -> Result<(), ApiFailure> {
        let start: Ceremony =
            post_json("/auth/passkey/start", &serde_json::json!({}), None).await?;
        let asserted = get(&start.options.to_string())
            .await
            .map_err(|_| cancelled())?;
        let _: serde_json::Value = post_json(
            "/auth/passkey/finish",
            &serde_json::json!({ "ceremony_id": start.ceremony_id, "credential": credential(asserted)? }),
            None,
        )
        .await?;
        Ok(())
    }
}

/// Chooses whom this session acts for (`None`: the person themself).
pub async fn set_acting_for(tax_code: Option<&str>, csrf_token: &str) -> Result<(), ApiFailure> {
    let body = serde_json::json!({ "tax_code": tax_code });
    request(
        "PUT",
        "/api/v1/me/acting-for",
        &[],
        Some(&body),
        Some(csrf_token),
    )
    .await
    .map(|_| ())
}

/// The person's records, read now from the national registers (each read is logged).
pub async fn my_records() -> Result<motcua_shared::registry::MyRecords, ApiFailure> {
    get("/api/v1/me/records", &[]).await
}

/// One procedure with its e-form.
pub async fn procedure(
    code: String,
) -> Result<motcua_shared::procedure::ProcedureDetail, ApiFailure> {
    get(&format!("/api/v1/procedures/{}", enc(&code)), &[]).await
}

/// The procedure's form pre-filled from the national registers (each read is logged).
pub async fn prefill(code: String) -> Result<motcua_shared::registry::Prefill, ApiFailure> {
    get(&format!("/api/v1/procedures/{}/prefill", enc(&code)), &[]).await
}

/// The signed-in person's dossiers, newest first.
pub async fn dossiers() -> Result<motcua_shared::dossier_api::DossierList, ApiFailure> {
    get("/api/v1/dossiers", &[]).await
}

/// One of the person's dossiers with its timeline.
pub async fn dossier(id: String) -> Result<DossierView, ApiFailure> {
    get(&format!("/api/v1/dossiers/{}", enc(&id)), &[]).await
}

/// The officer's queue with `filters` (name, value) pairs.
pub async fn office_queue(
    filters: Vec<(&'static str, String)>,
) -> Result<motcua_shared::dossier_api::OfficerQueue, ApiFailure> {
    let params: Vec<(&str, &str)> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    get("/api/v1/officer/dossiers", &params).await
}

/// Opens a dossier of the officer's queue (recorded in the applicant's data-access log).
pub async fn office_dossier(id: String) -> Result<OfficerDossier, ApiFailure> {
    get(&format!("/api/v1/officer/dossiers/{}", enc(&id)), &[]).await
}

/// A path segment, percent-encoded.
pub fn enc(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

use motcua_shared::dossier_api::{DossierView, OfficerDossier};

/// Saves the person's draft of a procedure (their answers so far).
pub async fn save_draft(
    code: &str,
    answers: &serde_json::Map<String, serde_json::Value>,
    csrf_token: &str,
) -> Result<(), ApiFailure> {
    let body = serde_json::json!({ "answers": answers });
    request(
        "PUT",
        &format!("/api/v1/me/drafts/{}", enc(code)),
        &[],
        Some(&body),
        Some(csrf_token),
    )
    .await
    .map(|_| ())
}

/// The person's draft of a procedure, if they saved one.
pub async fn draft(code: &str) -> Result<Option<motcua_shared::warehouse::Draft>, ApiFailure> {
    match get(&format!("/api/v1/me/drafts/{}", enc(code)), &[]).await {
        Ok(draft) => Ok(Some(draft)),
        Err(ApiFailure::Server { status: 404, .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

pub mod screen {
    //! The screen wake lock, through `client/js/screen.js`.

    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/js/screen.js")]
    extern "C" {
        #[wasm_bindgen(js_name = keepAwake)]
        fn keep_awake_js(on: bool) -> js_sys::Promise;
    }

    /// Asks the browser to keep the screen on (or lets it sleep again).
    pub fn keep_awake(on: bool) {
        let _ = keep_awake_js(on);
    }
}

pub mod push {
    //! Web push and live updates in the browser, through `client/js/push.js`.

    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/js/push.js")]
    extern "C" {
        /// `supported`, `ios_install` or `unsupported`.
        #[wasm_bindgen(js_name = pushSupport)]
        pub fn support() -> String;
        /// `default`, `granted` or `denied`.
        #[wasm_bindgen(js_name = pushPermission)]
        pub fn permission() -> String;
        #[wasm_bindgen(catch, js_name = currentEndpoint)]
        async fn current_endpoint_js() -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = subscribePush)]
        async fn subscribe_js(vapid_key: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(catch, js_name = unsubscribePush)]
        async fn unsubscribe_js() -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_name = openLive)]
        fn open_live_js(on_event: &Closure<dyn FnMut(String, String)>);
        #[wasm_bindgen(js_name = closeLive)]
        pub fn close_live();
    }

    /// This device's push endpoint, when it is subscribed.
    pub async fn current_endpoint() -> Option<String> {
        current_endpoint_js()
            .await
            .ok()
            .and_then(|v| v.as_string())
            .filter(|e| !e.is_empty())
    }

    /// Asks permission and subscribes: `PushSubscription.toJSON()` as JSON text; `Err(true)`
    /// when permission was refused.
    pub async fn subscribe(vapid_key: &str) -> Result<String, bool> {
        match subscribe_js(vapid_key).await {
            Ok(v) => v.as_string().ok_or(false),
            Err(e) => {
                let denied = js_sys::Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .is_some_and(|m| m == "denied");
                Err(denied)
            }
        }
    }

    /// Unsubscribes this device; the endpoint it had.
    pub async fn unsubscribe() -> Option<String> {
        unsubscribe_js()
            .await
            .ok()
            .and_then(|v| v.as_string())
            .filter(|e| !e.is_empty())
    }

    /// Follows the signed-in person's live events for the life of the page.
    pub fn open_live(on_event: impl FnMut(String, String) + 'static) {
        let closure = Closure::<dyn FnMut(String, String)>::new(on_event);
        open_live_js(&closure);
        closure.forget();
    }
}
