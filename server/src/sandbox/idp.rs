//! The sandbox national e-identity: an OpenID Provider (discovery, JWKS, authorization code with
//! PKCE S256, token, userinfo) signing ES256 ID tokens with a key kept in the data folder. It
//! refuses what a real provider refuses: unknown clients, unregistered redirect URIs, missing
//! PKCE, wrong client secrets, reused or expired codes and wrong PKCE verifiers.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{Arc, Mutex},
};

use anyhow::Context;
use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::{
    ecdsa::{Signature, SigningKey, signature::Signer},
    pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding},
};
use serde::Deserialize;
use serde_json::json;

use super::people::DemoPerson;
use crate::{
    Config,
    security::{random_token, same_secret, sha256_b64url, sha256_hex},
    store::now_ms,
};

/// How long an authorization code and an access token live.
const CODE_LIFETIME_MS: i64 = 60_000;
const TOKEN_LIFETIME_MS: i64 = 300_000;

/// The one client registered with the sandbox: this server.
#[derive(Debug, Clone)]
pub struct SandboxClient {
    pub id: String,
    pub secret: String,
    pub redirect_uris: Vec<String>,
}

struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: String,
    cccd: String,
    expires_at: i64,
}

pub struct SandboxIdp {
    pub issuer: String,
    pub client: SandboxClient,
    key: SigningKey,
    kid: String,
    people: Vec<DemoPerson>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    tokens: Mutex<HashMap<String, (String, i64)>>,
}

impl SandboxIdp {
    /// Loads the signing key from `data_dir/sandbox/idp-signing-key.pem`, creating it on first use.
    pub fn load(config: &Config, people: Vec<DemoPerson>) -> anyhow::Result<SandboxIdp> {
        let dir = config.data_dir.join("sandbox");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("idp-signing-key.pem");
        let key = if path.exists() {
            let pem = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            SigningKey::from_pkcs8_pem(&pem)
                .context("the sandbox IdP key is not a P-256 PKCS#8 key")?
        } else {
            let key = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .context("encoding the sandbox IdP key")?;
            crate::security::write_private_file(&path, pem.as_bytes())?;
            key
        };
        let public = key.verifying_key().to_encoded_point(false);
        let kid = sha256_hex(&URL_SAFE_NO_PAD.encode(public.as_bytes()))[..16].to_owned();
        // The client secret is derived from the key so that every instance sharing the data
        // folder agrees on it without another file.
        let secret = sha256_hex(&format!("sandbox-client-secret:{}", key_fingerprint(&key)));
        let public_url = config.public_url.trim_end_matches('/');
        Ok(SandboxIdp {
            issuer: format!("{public_url}/sandbox/idp"),
            client: SandboxClient {
                id: "motcua-sandbox".into(),
                secret,
                redirect_uris: vec![format!("{public_url}/auth/callback")],
            },
            key,
            kid,
            people,
            codes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub fn people(&self) -> &[DemoPerson] {
        &self.people
    }

    fn jwk(&self) -> serde_json::Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": point.x().map(|x| URL_SAFE_NO_PAD.encode(x)),
            "y": point.y().map(|y| URL_SAFE_NO_PAD.encode(y)),
        })
    }

    fn sign_jwt(&self, claims: &serde_json::Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    fn client_ok(&self, client_id: &str, redirect_uri: &str) -> bool {
        client_id == self.client.id && self.client.redirect_uris.iter().any(|u| u == redirect_uri)
    }
}

impl SandboxIdp {
    /// A secret every instance sharing the data folder derives alike, for another sandbox.
    pub fn derived_secret(&self, label: &str) -> String {
        sha256_hex(&format!("sandbox-{label}:{}", key_fingerprint(&self.key)))
    }
}

fn key_fingerprint(key: &SigningKey) -> String {
    sha256_hex(&URL_SAFE_NO_PAD.encode(key.to_bytes()))
}

pub fn routes(idp: Arc<SandboxIdp>) -> Router<crate::AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize_page).post(authorize_submit))
        .route("/token", axum::routing::post(token))
        .route("/userinfo", get(userinfo))
        .route("/style.css", get(style))
        .with_state(idp)
}

async fn discovery(State(idp): State<Arc<SandboxIdp>>) -> Json<serde_json::Value> {
    let i = &idp.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["vneid:level1", "vneid:level2"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "name", "birthdate", "cccd"],
    }))
}

async fn jwks(State(idp): State<Arc<SandboxIdp>>) -> Json<serde_json::Value> {
    Json(json!({ "keys": [idp.jwk()] }))
}

#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    cccd: String,
    password: String,
}

/// Where an authorization request stands: refused without a redirect (the redirect URI cannot be
/// trusted), refused back to the client, or acceptable.
enum Checked {
    Unsafe(Response),
    Refused(Redirect),
    Ok {
        client_id: String,
        redirect_uri: String,
        code_challenge: String,
    },
}

fn check_request(idp: &SandboxIdp, p: &AuthorizeParams) -> Checked {
    let (Some(client_id), Some(redirect_uri)) = (p.client_id.as_deref(), p.redirect_uri.as_deref())
    else {
        return Checked::Unsafe(error_page(
            "Yêu cầu đăng nhập thiếu client_id hoặc redirect_uri.",
        ));
    };
    if !idp.client_ok(client_id, redirect_uri) {
        return Checked::Unsafe(error_page(
            "Ứng dụng yêu cầu đăng nhập không được đăng ký, hoặc địa chỉ chuyển hướng không khớp.",
        ));
    }
    let Ok(base) = url::Url::parse(redirect_uri) else {
        return Checked::Unsafe(error_page("Địa chỉ chuyển hướng không hợp lệ."));
    };
    let refuse = |error: &str, description: &str| {
        let mut url = base.clone();
        url.query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", description);
        if let Some(state) = &p.state {
            url.query_pairs_mut().append_pair("state", state);
        }
        Checked::Refused(Redirect::to(url.as_str()))
    };
    if p.response_type.as_deref() != Some("code") {
        return refuse(
            "unsupported_response_type",
            "only the authorization code flow is supported",
        );
    }
    if !p
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .any(|s| s == "openid")
    {
        return refuse("invalid_scope", "the openid scope is required");
    }
    match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (Some(challenge), Some("S256")) if challenge.len() >= 43 => Checked::Ok {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: challenge.to_owned(),
        },
        _ => refuse("invalid_request", "PKCE with S256 is required"),
    }
}

async fn authorize_page(
    State(idp): State<Arc<SandboxIdp>>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    match check_request(&idp, &params) {
        Checked::Unsafe(response) => response,
        Checked::Refused(redirect) => redirect.into_response(),
        Checked::Ok {
            client_id,
            redirect_uri,
            code_challenge,
        } => login_page(
            &idp,
            &HiddenFields {
                client_id,
                redirect_uri,
                state: params.state,
                nonce: params.nonce,
                code_challenge,
            },
            None,
            "",
        ),
    }
}

async fn authorize_submit(
    State(idp): State<Arc<SandboxIdp>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let params = AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(form.client_id.clone()),
        redirect_uri: Some(form.redirect_uri.clone()),
        scope: Some("openid".into()),
        state: form.state.clone(),
        nonce: form.nonce.clone(),
        code_challenge: Some(form.code_challenge.clone()),
        code_challenge_method: Some("S256".into()),
    };
    let (client_id, redirect_uri, code_challenge) = match check_request(&idp, &params) {
        Checked::Unsafe(response) => return response,
        Checked::Refused(redirect) => return redirect.into_response(),
        Checked::Ok {
            client_id,
            redirect_uri,
            code_challenge,
        } => (client_id, redirect_uri, code_challenge),
    };
    let typed: String = form.cccd.chars().filter(|c| !c.is_whitespace()).collect();
    let person = idp
        .people
        .iter()
        .find(|p| p.cccd.as_str() == typed && same_secret(&p.password, &form.password));
    let Some(person) = person else {
        let hidden = HiddenFields {
            client_id,
            redirect_uri,
            state: form.state,
            nonce: form.nonce,
            code_challenge,
        };
        return login_page(
            &idp,
            &hidden,
            Some("Số định danh cá nhân hoặc mật khẩu không đúng."),
            &typed,
        );
    };
    let code = random_token(32);
    let mut url = match url::Url::parse(&redirect_uri) {
        Ok(url) => url,
        Err(_) => return error_page("Địa chỉ chuyển hướng không hợp lệ."),
    };
    if let Ok(mut codes) = idp.codes.lock() {
        let now = now_ms();
        codes.retain(|_, c| c.expires_at > now);
        codes.insert(
            code.clone(),
            IssuedCode {
                client_id,
                redirect_uri,
                nonce: form.nonce,
                code_challenge,
                cccd: person.cccd.as_str().to_owned(),
                expires_at: now + CODE_LIFETIME_MS,
            },
        );
    }
    url.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = &form.state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sandbox-idp\""),
        );
    }
    response
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded) or the form.
fn client_credentials(headers: &HeaderMap, form: &TokenForm) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        return Some((unescape(id)?, unescape(secret)?));
    }
    Some((form.client_id.clone()?, form.client_secret.clone()?))
}

async fn token(
    State(idp): State<Arc<SandboxIdp>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let Some((client_id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is required",
        );
    };
    if client_id != idp.client.id || !same_secret(&secret, &idp.client.secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    // Taking the code out makes it single-use, whatever happens next.
    let issued = form.code.as_deref().and_then(|code| {
        idp.codes
            .lock()
            .ok()
            .and_then(|mut codes| codes.remove(code))
    });
    let Some(issued) = issued else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code",
        );
    };
    if issued.expires_at <= now_ms() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code has expired",
        );
    }
    if issued.client_id != client_id
        || form.redirect_uri.as_deref() != Some(issued.redirect_uri.as_str())
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code was issued to another client or redirect URI",
        );
    }
    let verifier_ok = form
        .code_verifier
        .as_deref()
        .is_some_and(|v| same_secret(&sha256_b64url(v.as_bytes()), &issued.code_challenge));
    if !verifier_ok {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the PKCE code verifier does not match",
        );
    }
    let Some(person) = idp.people.iter().find(|p| p.cccd.as_str() == issued.cccd) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the account no longer exists",
        );
    };
    let now = now_ms() / 1000;
    let mut claims = json!({
        "iss": idp.issuer,
        "sub": subject_of(person),
        "aud": client_id,
        "iat": now,
        "exp": now + 300,
        "auth_time": now,
        "acr": person.acr.as_str(),
        "amr": ["pwd"],
        "name": person.name,
        "birthdate": person.birthdate,
        "cccd": person.cccd.as_str(),
    });
    if let Some(nonce) = issued.nonce {
        claims["nonce"] = json!(nonce);
    }
    let access_token = random_token(32);
    if let Ok(mut tokens) = idp.tokens.lock() {
        let now_ms = now_ms();
        tokens.retain(|_, (_, expires)| *expires > now_ms);
        tokens.insert(
            access_token.clone(),
            (person.cccd.as_str().to_owned(), now_ms + TOKEN_LIFETIME_MS),
        );
    }
    let mut response = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_MS / 1000,
        "id_token": idp.sign_jwt(&claims),
        "scope": "openid profile",
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The provider's stable, opaque identifier of a person.
fn subject_of(person: &DemoPerson) -> String {
    format!("vneid-{}", &sha256_hex(person.cccd.as_str())[..20])
}

async fn userinfo(State(idp): State<Arc<SandboxIdp>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cccd = bearer.and_then(|token| {
        idp.tokens.lock().ok().and_then(|tokens| {
            tokens
                .get(token)
                .filter(|(_, exp)| *exp > now_ms())
                .map(|(c, _)| c.clone())
        })
    });
    let Some(person) = cccd.and_then(|c| idp.people.iter().find(|p| p.cccd.as_str() == c)) else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        return response;
    };
    Json(json!({
        "sub": subject_of(person),
        "cccd": person.cccd.as_str(),
        "name": person.name,
        "birthdate": person.birthdate,
        "acr": person.acr.as_str(),
    }))
    .into_response()
}

struct HiddenFields {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/sandbox/idp/style.css\"></head>\
         <body><header><strong>VNeID</strong> <span class=\"tag\">Môi trường thử nghiệm · Sandbox</span></header>\
         <main>{body}</main></body></html>"
    )
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<h1>Không thể đăng nhập</h1><p class=\"error\" role=\"alert\">{}</p>",
        escape(message)
    );
    (
        StatusCode::BAD_REQUEST,
        Html(page("Lỗi đăng nhập — VNeID", &body)),
    )
        .into_response()
}

fn login_page(
    idp: &SandboxIdp,
    hidden: &HiddenFields,
    error: Option<&str>,
    typed_cccd: &str,
) -> Response {
    let mut body = String::from("<h1>Đăng nhập bằng tài khoản định danh điện tử</h1>");
    if let Some(error) = error {
        let _ = write!(
            body,
            "<div class=\"error\" role=\"alert\"><p>{}</p><a href=\"#cccd\">Kiểm tra số định danh và mật khẩu</a></div>",
            escape(error)
        );
    }
    body.push_str("<form method=\"post\" action=\"/sandbox/idp/authorize\">");
    for (name, value) in [
        ("client_id", Some(hidden.client_id.as_str())),
        ("redirect_uri", Some(hidden.redirect_uri.as_str())),
        ("state", hidden.state.as_deref()),
        ("nonce", hidden.nonce.as_deref()),
        ("code_challenge", Some(hidden.code_challenge.as_str())),
    ] {
        if let Some(value) = value {
            let _ = write!(
                body,
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            );
        }
    }
    let _ = write!(
        body,
        "<label for=\"cccd\">Số định danh cá nhân (CCCD)</label>\
         <input id=\"cccd\" name=\"cccd\" inputmode=\"numeric\" autocomplete=\"username\" required value=\"{}\">\
         <label for=\"password\">Mật khẩu</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Đăng nhập</button></form>",
        escape(typed_cccd)
    );
    body.push_str("<section class=\"demo\"><h2>Tài khoản thử nghiệm</h2><table><thead><tr><th>CCCD</th><th>Họ tên</th><th>Mức</th></tr></thead><tbody>");
    for person in idp.people() {
        let level = if person.acr == motcua_shared::identity::Acr::Level2 {
            "2"
        } else {
            "1"
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{level}</td></tr>",
            person.cccd.as_str(),
            escape(&person.name)
        );
    }
    body.push_str("</tbody></table><p>Mật khẩu của mọi tài khoản thử nghiệm: <code>demo1234</code></p></section>");
    let mut response = Html(page("Đăng nhập — VNeID", &body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{margin:0;font:17px/1.5 system-ui,sans-serif;color:#1b1f24;background:#f5f5f5}\
         header{background:#b3261e;color:#fff;padding:12px 16px}.tag{font-size:14px;opacity:.95}\
         main{max-width:480px;margin:0 auto;padding:16px}label{display:block;font-weight:700;margin-top:16px}\
         input{width:100%;box-sizing:border-box;min-height:48px;font:inherit;border:2px solid #1b1f24;border-radius:6px;padding:8px}\
         button{margin-top:20px;width:100%;min-height:48px;font:inherit;font-weight:700;color:#fff;background:#b3261e;border:0;border-radius:8px}\
         :focus-visible{outline:3px solid #ffbf47;box-shadow:0 0 0 6px #1b1f24}\
         .error{background:#fbeae9;border-left:6px solid #b3261e;padding:8px 12px}\
         .demo{margin-top:24px;font-size:15px}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:4px;border-bottom:1px solid #ccc}",
    )
}
