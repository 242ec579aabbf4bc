//! The relying party of the national e-identity: OpenID Connect discovery, authorization code
//! with PKCE S256, `state` bound to the browser, `nonce`, ID token checked against the provider's
//! JWKS (an unknown key id triggers one JWKS refresh), then userinfo for the CCCD.

use std::time::{Duration, Instant};

use motcua_shared::{Cccd, identity::Acr};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
    core::{
        CoreAuthPrompt, CoreClient, CoreGenderClaim, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
        CoreProviderMetadata, CoreResponseType, CoreTokenResponse,
    },
    reqwest,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::{
    Config,
    security::sha256_hex,
    store::{Store, now_ms},
};

/// How long a started sign-in may take before its callback is refused.
pub const LOGIN_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// How long discovery metadata (with the JWKS) is reused before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The claims beyond the OpenID Connect standard ones that VNeID gives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VneidClaims {
    pub cccd: Option<String>,
}
impl AdditionalClaims for VneidClaims {}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in did not complete. `code()` is what the PWA is told.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("no identity provider is configured")]
    NotConfigured,
    #[error("the identity provider cannot be reached: {0}")]
    ProviderUnavailable(String),
    #[error("the sign-in state is missing, unknown, expired or from another browser")]
    InvalidState,
    #[error("the identity provider refused: {0}")]
    ProviderRefused(String),
    #[error("the authorization code was not accepted: {0}")]
    TokenExchange(String),
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
    #[error("the identity provider did not give {0}")]
    MissingClaim(&'static str),
    #[error("a step-up was asked, but the provider did not authenticate the person again: {0}")]
    NotReauthenticated(String),
}

impl SigninError {
    pub fn code(&self) -> &'static str {
        match self {
            SigninError::NotConfigured => "signin_unavailable",
            SigninError::ProviderUnavailable(_) => "provider_unavailable",
            SigninError::InvalidState => "invalid_state",
            SigninError::ProviderRefused(_) => "provider_refused",
            SigninError::TokenExchange(_) => "code_rejected",
            SigninError::InvalidIdToken(_) => "invalid_id_token",
            SigninError::MissingClaim(_) => "missing_claims",
            SigninError::NotReauthenticated(_) => "not_reauthenticated",
        }
    }
}

/// Who the identity provider says signed in.
#[derive(Debug, Clone)]
pub struct EidIdentity {
    pub issuer: String,
    pub subject: String,
    pub cccd: Cccd,
    pub name: String,
    pub birthdate: Option<String>,
    pub acr: Acr,
    /// When the provider authenticated the person (`auth_time`, Unix ms); 0 when it did not say.
    pub authenticated_at: i64,
}

/// Whether a sign-in is a step-up: the provider must authenticate the person again (not reuse
/// its single sign-on session), at level 2 when `Level2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    No,
    Fresh,
    Level2,
}

impl StepUp {
    /// From `step_up=fresh|level2` of `/auth/login`.
    pub fn parse(value: Option<&str>) -> Option<StepUp> {
        match value {
            None | Some("") => Some(StepUp::No),
            Some("fresh") => Some(StepUp::Fresh),
            Some("level2") => Some(StepUp::Level2),
            Some(_) => None,
        }
    }

    fn stored(self) -> Option<&'static str> {
        match self {
            StepUp::No => None,
            StepUp::Fresh => Some("fresh"),
            StepUp::Level2 => Some("level2"),
        }
    }
}

/// How far an ID token's `iat` may be from now: a token issued long ago is not this sign-in's.
const MAX_IAT_SKEW_MS: i64 = 5 * 60_000;
/// Clock difference allowed between the provider and this server.
const CLOCK_SKEW_MS: i64 = 60_000;

/// Checks the times of an ID token: `iat` near now; for a step-up, an `auth_time` from after the
/// sign-in started. Returns when the person was authenticated (0: the provider did not say).
pub fn authentication_time(
    iat_ms: i64,
    auth_time_ms: Option<i64>,
    step_up: StepUp,
    started_ms: i64,
    now_ms: i64,
) -> Result<i64, SigninError> {
    if (iat_ms - now_ms).abs() > MAX_IAT_SKEW_MS {
        return Err(SigninError::InvalidIdToken(
            "issued too long ago or in the future (iat)".into(),
        ));
    }
    let auth = auth_time_ms.filter(|t| *t <= now_ms + CLOCK_SKEW_MS);
    if step_up != StepUp::No {
        match auth {
            Some(t) if t >= started_ms - CLOCK_SKEW_MS => {}
            Some(_) => {
                return Err(SigninError::NotReauthenticated(
                    "auth_time is from before the step-up".into(),
                ));
            }
            None => return Err(SigninError::NotReauthenticated("no auth_time".into())),
        }
    }
    Ok(auth.map_or(0, |t| t.min(now_ms)))
}

struct Settings {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
}

pub struct RelyingParty {
    settings: Option<Settings>,
    http: reqwest::Client,
    metadata: RwLock<Option<(Instant, CoreProviderMetadata)>>,
}

/// A provider and this server's registration with it: the fallback when none is configured
/// (the embedded sandbox provider in a demo build).
#[derive(Debug, Clone)]
pub struct ProviderRegistration {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl RelyingParty {
    /// The configured provider, or when none is configured, `fallback`.
    pub fn new(
        config: &Config,
        fallback: Option<&ProviderRegistration>,
    ) -> anyhow::Result<RelyingParty> {
        let public = config.public_url.trim_end_matches('/');
        let redirect = RedirectUrl::new(format!("{public}/auth/callback"))?;
        let settings = if !config.oidc_issuer.is_empty() {
            Some(Settings {
                issuer: IssuerUrl::new(config.oidc_issuer.clone())?,
                client_id: ClientId::new(config.oidc_client_id.clone()),
                client_secret: ClientSecret::new(config.oidc_client_secret.expose().to_owned()),
                redirect,
            })
        } else {
            fallback
                .map(|p| -> anyhow::Result<Settings> {
                    Ok(Settings {
                        issuer: IssuerUrl::new(p.issuer.clone())?,
                        client_id: ClientId::new(p.client_id.clone()),
                        client_secret: ClientSecret::new(p.client_secret.clone()),
                        redirect,
                    })
                })
                .transpose()?
        };
        // Never follow redirects from the provider's back channel (SSRF), and never wait forever.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(RelyingParty {
            settings,
            http,
            metadata: RwLock::new(None),
        })
    }

    fn settings(&self) -> Result<&Settings, SigninError> {
        self.settings.as_ref().ok_or(SigninError::NotConfigured)
    }

    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, SigninError> {
        if !refresh
            && let Some((fetched, meta)) = self.metadata.read().await.as_ref()
            && fetched.elapsed() < METADATA_TTL
        {
            return Ok(meta.clone());
        }
        let settings = self.settings()?;
        let meta = CoreProviderMetadata::discover_async(settings.issuer.clone(), &self.http)
            .await
            .map_err(|e| SigninError::ProviderUnavailable(format!("{e}")))?;
        *self.metadata.write().await = Some((Instant::now(), meta.clone()));
        Ok(meta)
    }

    fn client(&self, meta: CoreProviderMetadata) -> Result<Client, SigninError> {
        let s = self.settings()?;
        Ok(CoreClient::from_provider_metadata(
            meta,
            s.client_id.clone(),
            Some(s.client_secret.clone()),
        )
        .set_redirect_uri(s.redirect.clone()))
    }

    /// Starts a sign-in: remembers state, nonce and PKCE verifier, and returns the provider's
    /// authorization URL and the state to bind to this browser.
    pub async fn start(
        &self,
        store: &Store,
        return_to: &str,
        step_up: StepUp,
    ) -> Result<(String, String), SigninError> {
        let client = self.client(self.metadata(false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()));
        // The assurance levels we accept; the provider answers with the one achieved (`acr`).
        // A step-up to level 2 accepts level 2 only.
        if step_up != StepUp::Level2 {
            request = request.add_auth_context_value(AuthenticationContextClass::new(
                Acr::Level1.as_str().into(),
            ));
        }
        request = request
            .add_auth_context_value(AuthenticationContextClass::new(Acr::Level2.as_str().into()));
        // A step-up is a new proof: the provider must authenticate again, not reuse its session.
        if step_up != StepUp::No {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .add_extra_param("max_age", "0");
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        store
            .save_login_attempt(
                &sha256_hex(state.secret()),
                nonce.secret(),
                verifier.secret(),
                return_to,
                step_up.stored(),
            )
            .await
            .map_err(|e| SigninError::ProviderUnavailable(format!("{e:#}")))?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Completes a sign-in at the callback. The login attempt is used up whatever the outcome.
    pub async fn finish(
        &self,
        store: &Store,
        state: &str,
        browser_state: Option<&str>,
        code: &str,
    ) -> Result<(EidIdentity, String), SigninError> {
        let attempt = store
            .take_login_attempt(&sha256_hex(state))
            .await
            .map_err(|e| SigninError::ProviderUnavailable(format!("{e:#}")))?
            .ok_or(SigninError::InvalidState)?;
        // The state must come back to the browser that started the sign-in (login CSRF).
        if !browser_state.is_some_and(|b| crate::security::same_secret(b, state))
            || attempt.expires_at <= now_ms()
        {
            return Err(SigninError::InvalidState);
        }
        let client = self.client(self.metadata(false).await?)?;
        let token: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SigninError::TokenExchange(format!("{e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(attempt.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SigninError::TokenExchange(format!("{e}")))?;
        let id_token = token
            .id_token()
            .ok_or(SigninError::InvalidIdToken("no ID token".into()))?;
        let nonce = Nonce::new(attempt.nonce);
        let claims = match verify(&client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider may have rotated its keys: fetch them once more, then decide.
                let client = self.client(self.metadata(true).await?)?;
                verify(&client, id_token, &nonce)
            }
            other => other,
        }
        .map_err(|e| SigninError::InvalidIdToken(format!("{e}")))?;
        let acr = acr_of(claims.auth_context_ref().map(|a| a.as_str()));
        let authenticated_at = authentication_time(
            claims.issue_time().timestamp_millis(),
            claims.auth_time().map(|t| t.timestamp_millis()),
            attempt.step_up,
            attempt.created_at,
            now_ms(),
        )?;
        // A step-up to level 2 that the provider answers at level 1 still signs the person in,
        // at level 1: the level-2 procedure then says what is missing.
        let info: UserInfoClaims<VneidClaims, CoreGenderClaim> = client
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
            .map_err(|e| SigninError::ProviderUnavailable(format!("{e}")))?
            .request_async(&self.http)
            .await
            .map_err(|e| SigninError::ProviderRefused(format!("userinfo: {e}")))?;
        let cccd = info
            .additional_claims()
            .cccd
            .as_deref()
            .and_then(|c| Cccd::parse(c).ok())
            .ok_or(SigninError::MissingClaim("cccd"))?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .or_else(|| info.name().and_then(|n| n.get(None)))
            .map(|n| n.as_str().to_owned())
            .ok_or(SigninError::MissingClaim("name"))?;
        let birthdate = claims
            .birthdate()
            .or(info.birthdate())
            .map(|b| b.as_str().to_owned());
        Ok((
            EidIdentity {
                issuer: claims.issuer().as_str().to_owned(),
                subject: claims.subject().as_str().to_owned(),
                cccd,
                name,
                birthdate,
                acr,
                authenticated_at,
            },
            attempt.return_to,
        ))
    }
}

/// The assurance level a sign-in earned: level 2 only when the provider says `vneid:level2`;
/// an absent or unknown `acr` still signs the person in, at level 1 (the provider did
/// authenticate them, at some level this server cannot rank higher).
pub fn acr_of(claim: Option<&str>) -> Acr {
    match claim {
        Some(value) if value == Acr::Level2.as_str() => Acr::Level2,
        _ => Acr::Level1,
    }
}

fn verify<'a>(
    client: &Client,
    id_token: &'a openidconnect::core::CoreIdToken,
    nonce: &Nonce,
) -> Result<&'a CoreIdTokenClaims, ClaimsVerificationError> {
    // Asymmetric algorithms only: a shared-secret (HS*) or unsigned token is never accepted.
    let verifier = client.id_token_verifier().set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    ]);
    id_token.claims(&verifier, nonce)
}

/// A sign-in in flight, as stored.
#[derive(Debug)]
pub struct LoginAttempt {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub step_up: StepUp,
}

impl Store {
    pub async fn save_login_attempt(
        &self,
        state_hash: &str,
        nonce: &str,
        verifier: &str,
        return_to: &str,
        step_up: Option<&str>,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from login_attempts where expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("pruning expired sign-ins")?;
        sqlx::query(
            "insert into login_attempts (state_hash, nonce, pkce_verifier, return_to, created_at, \
             expires_at, step_up) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(state_hash)
        .bind(nonce)
        .bind(verifier)
        .bind(return_to)
        .bind(now)
        .bind(now + LOGIN_LIFETIME_MS)
        .bind(step_up)
        .execute(&mut *tx)
        .await
        .context("saving a sign-in")?;
        tx.commit().await.context("committing a sign-in")?;
        Ok(())
    }

    /// Removes and returns the sign-in with this state: a state works once.
    pub async fn take_login_attempt(
        &self,
        state_hash: &str,
    ) -> anyhow::Result<Option<LoginAttempt>> {
        use anyhow::Context;
        let row: Option<(String, String, String, i64, i64, Option<String>)> = sqlx::query_as(
            "delete from login_attempts where state_hash = $1 \
             returning nonce, pkce_verifier, return_to, created_at, expires_at, step_up",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await
        .context("taking a sign-in")?;
        Ok(row.map(
            |(nonce, pkce_verifier, return_to, created_at, expires_at, step_up)| LoginAttempt {
                nonce,
                pkce_verifier,
                return_to,
                created_at,
                expires_at,
                step_up: StepUp::parse(step_up.as_deref()).unwrap_or(StepUp::Fresh),
            },
        ))
    }
}

#[cfg(test)]
mod acr_tests {
    use super::*;

    #[test]
    fn only_an_explicit_level_2_gives_level_2() {
        assert_eq!(acr_of(Some("vneid:level2")), Acr::Level2);
        assert_eq!(acr_of(Some("vneid:level1")), Acr::Level1);
        assert_eq!(acr_of(None), Acr::Level1);
        assert_eq!(acr_of(Some("urn:example:loa:high")), Acr::Level1);
        assert_eq!(acr_of(Some("VNEID:LEVEL2")), Acr::Level1);
    }
}

#[cfg(test)]
mod step_up_tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn an_ordinary_sign_in_is_dated_by_auth_time_or_not_at_all() {
        assert_eq!(
            authentication_time(NOW, Some(NOW - 3_600_000), StepUp::No, NOW, NOW).ok(),
            Some(NOW - 3_600_000)
        );
        // No auth_time: signed in, but never counts as a fresh proof.
        assert_eq!(
            authentication_time(NOW, None, StepUp::No, NOW, NOW).ok(),
            Some(0)
        );
        // An auth_time in the future is not believed.
        assert_eq!(
            authentication_time(NOW, Some(NOW + 3_600_000), StepUp::No, NOW, NOW).ok(),
            Some(0)
        );
    }

    #[test]
    fn a_step_up_needs_an_authentication_after_it_started() {
        let started = NOW - 20_000;
        assert_eq!(
            authentication_time(NOW, Some(NOW - 5_000), StepUp::Fresh, started, NOW).ok(),
            Some(NOW - 5_000)
        );
        // The provider's single sign-on session from an hour ago is not a new proof.
        assert!(matches!(
            authentication_time(NOW, Some(NOW - 3_600_000), StepUp::Fresh, started, NOW),
            Err(SigninError::NotReauthenticated(_))
        ));
        assert!(matches!(
            authentication_time(NOW, None, StepUp::Level2, started, NOW),
            Err(SigninError::NotReauthenticated(_))
        ));
    }

    #[test]
    fn an_id_token_issued_long_ago_is_refused() {
        assert!(matches!(
            authentication_time(NOW - 3_600_000, Some(NOW), StepUp::No, NOW, NOW),
            Err(SigninError::InvalidIdToken(_))
        ));
        assert!(authentication_time(NOW - 60_000, None, StepUp::No, NOW, NOW).is_ok());
    }

    #[test]
    fn step_up_is_read_from_the_query() {
        assert_eq!(StepUp::parse(None), Some(StepUp::No));
        assert_eq!(StepUp::parse(Some("fresh")), Some(StepUp::Fresh));
        assert_eq!(StepUp::parse(Some("level2")), Some(StepUp::Level2));
        assert_eq!(StepUp::parse(Some("admin")), None);
    }
}
