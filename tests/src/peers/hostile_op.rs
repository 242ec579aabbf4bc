//! An OpenID Provider that issues a chosen kind of bad ID token, to prove the relying party
//! refuses each one. It answers the authorization request at once (no sign-in form).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde::Deserialize;
use serde_json::json;

/// What the provider gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mischief {
    /// Nothing: a well-formed sign-in.
    None,
    /// The ID token's nonce is not the one the relying party sent.
    WrongNonce,
    /// The ID token is signed by a key that is not, and never becomes, in the JWKS.
    UnknownKey,
    /// The ID token expired an hour ago.
    Expired,
    /// The ID token is addressed to another client.
    WrongAudience,
    /// The provider rotates to a new key after the relying party fetched the old JWKS.
    RotatedKey,
    /// The provider reuses its single sign-on session from an hour ago (`auth_time`), whatever
    /// `prompt` or `max_age` asked.
    OldSession,
    /// The ID token has no `auth_time`.
    NoAuthTime,
    /// The ID token was issued an hour ago (`iat`), though it has not expired.
    OldIat,
}

struct Inner {
    issuer: String,
    mischief: Mischief,
    current: SigningKey,
    next: SigningKey,
    rotated: AtomicBool,
    nonce: Mutex<Option<String>>,
}

/// A running hostile provider. `issuer` is its URL; the client id is `rp`, the secret `secret`.
pub struct HostileOp {
    pub issuer: String,
    inner: Arc<Inner>,
}

pub const CLIENT_ID: &str = "rp";
pub const CLIENT_SECRET: &str = "secret";
pub const CCCD: &str = "001088012345";

fn kid(key: &SigningKey) -> String {
    let point = key.verifying_key().to_encoded_point(false);
    URL_SAFE_NO_PAD.encode(&point.as_bytes()[1..9])
}

fn jwk(key: &SigningKey) -> serde_json::Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid(key),
        "x": point.x().map(|x| URL_SAFE_NO_PAD.encode(x)),
        "y": point.y().map(|y| URL_SAFE_NO_PAD.encode(y)),
    })
}

fn sign(key: &SigningKey, claims: &serde_json::Value) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid(key)});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

impl HostileOp {
    pub async fn start(mischief: Mischief) -> HostileOp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let issuer = format!("http://{}", listener.local_addr().expect("bound"));
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            mischief,
            current: SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng),
            next: SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng),
            rotated: AtomicBool::new(false),
            nonce: Mutex::new(None),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        HostileOp { issuer, inner }
    }

    /// Whether the provider has switched to its second key.
    pub fn rotated(&self) -> bool {
        self.inner.rotated.load(Ordering::SeqCst)
    }
}

async fn discovery(State(op): State<Arc<Inner>>) -> Json<serde_json::Value> {
    let i = &op.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn jwks(State(op): State<Arc<Inner>>) -> Json<serde_json::Value> {
    let key = if op.rotated.load(Ordering::SeqCst) {
        &op.next
    } else {
        &op.current
    };
    Json(json!({ "keys": [jwk(key)] }))
}

#[derive(Deserialize)]
struct AuthorizeParams {
    redirect_uri: String,
    state: String,
    nonce: Option<String>,
}

async fn authorize(
    State(op): State<Arc<Inner>>,
    Query(p): Query<AuthorizeParams>,
) -> impl IntoResponse {
    if let Ok(mut nonce) = op.nonce.lock() {
        *nonce = p.nonce;
    }
    Redirect::to(&format!(
        "{}?code=the-code&state={}",
        p.redirect_uri, p.state
    ))
}

#[derive(Deserialize)]
struct TokenForm {
    #[allow(dead_code)]
    code: Option<String>,
}

async fn token(State(op): State<Arc<Inner>>, Form(_): Form<TokenForm>) -> Json<serde_json::Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let nonce = op
        .nonce
        .lock()
        .ok()
        .and_then(|n| n.clone())
        .unwrap_or_default();
    let mut claims = json!({
        "iss": op.issuer, "sub": "hostile-sub", "aud": CLIENT_ID,
        "iat": now, "exp": now + 300, "nonce": nonce,
        "acr": "vneid:level2", "name": "Nguyễn Văn An", "birthdate": "1988-03-14",
        "auth_time": now,
    });
    let mut key = &op.current;
    match op.mischief {
        Mischief::None => {}
        Mischief::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Mischief::UnknownKey => key = &op.next,
        Mischief::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Mischief::WrongAudience => claims["aud"] = json!("another-client"),
        Mischief::RotatedKey => {
            op.rotated.store(true, Ordering::SeqCst);
            key = &op.next;
        }
        Mischief::OldSession => claims["auth_time"] = json!(now - 3600),
        Mischief::NoAuthTime => {
            if let Some(c) = claims.as_object_mut() {
                c.remove("auth_time");
            }
        }
        Mischief::OldIat => claims["iat"] = json!(now - 3600),
    }
    Json(json!({
        "access_token": "hostile-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": sign(key, &claims),
    }))
}

async fn userinfo() -> Json<serde_json::Value> {
    Json(json!({ "sub": "hostile-sub", "cccd": CCCD, "name": "Nguyễn Văn An" }))
}
