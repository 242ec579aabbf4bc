//! Server-side sessions behind an HttpOnly cookie, the people they belong to, and the
//! [`AuthUser`] extractor every personal endpoint takes (it also checks CSRF on state changes).

use anyhow::Context;
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{Method, header, request::Parts},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use motcua_shared::ErrorCode;
use motcua_shared::{
    Cccd,
    identity::{Acr, AuthMethod, Role},
};

use super::oidc::EidIdentity;
use crate::{
    AppState, Config,
    error::ApiError,
    security::{random_token, same_secret, sha256_hex},
    store::{Store, now_ms},
};

/// Header carrying the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Cookie binding a sign-in's `state` to the browser that started it.
const LOGIN_COOKIE: &str = "motcua_login";

/// The sign-in state cookie's name: `__Host-` prefixed over https (then its path is `/`, as the
/// prefix requires), so no other host of the domain can plant one.
pub fn login_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-motcua_login"
    } else {
        LOGIN_COOKIE
    }
}

/// The sign-in state cookie's path: `/auth`, or `/` for the `__Host-` name over https.
pub fn login_cookie_path(config: &Config) -> &'static str {
    if config.is_https() { "/" } else { "/auth" }
}

/// The session cookie's name: `__Host-` prefixed (pinned to this origin, Secure) over https.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-motcua_session"
    } else {
        "motcua_session"
    }
}

/// An identity event of `person_id`, by them, in the audit chain (inside `tx`).
pub(crate) async fn audit_identity(
    tx: &mut crate::store::WriteTx,
    person_id: &str,
    action: &str,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let who = format!("person:{person_id}");
    crate::audit::append(
        tx,
        &crate::audit::Event {
            actor: &who,
            action,
            subject: &who,
            details,
        },
    )
    .await
}

/// The hash of the session this browser holds now, if any (a new sign-in ends it).
pub fn previous_session(config: &Config, jar: &CookieJar) -> Option<String> {
    jar.get(session_cookie_name(config))
        .map(|c| sha256_hex(c.value()))
}

/// A person known to the platform.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub cccd: Cccd,
    pub name: String,
    pub birthdate: Option<String>,
    pub acr: Acr,
}

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub secret_hash: String,
    pub public_id: String,
    pub csrf_token: String,
    pub acr: Acr,
    pub auth_method: AuthMethod,
    pub authenticated_at: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    /// The organisation (tax code) this session acts for; `None`: the person themself.
    pub acting_for: Option<String>,
}

/// The signed-in caller. Extracting it fails with 401 without a valid session, and with 403 on
/// a state-changing request whose CSRF token is missing or wrong.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub person: Person,
    pub session: Session,
    pub roles: Vec<Role>,
}

impl AuthUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Step-up: refuses (403 `step_up_required`) unless the person proved who they are (e-ID
    /// sign-in or passkey) within the last `max_age_ms`.
    pub fn require_fresh(&self, max_age_ms: i64) -> Result<(), ApiError> {
        if now_ms() - self.session.authenticated_at <= max_age_ms {
            Ok(())
        } else {
            Err(ApiError::forbidden(ErrorCode::StepUpRequired))
        }
    }
}

/// Where a request comes from, for the session list and the logs.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientMeta {
    /// What rate limits count this client under: its IPv4 address or IPv6 /64 (`-` unknown).
    pub fn rate_key(&self) -> String {
        self.ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .map_or_else(|| "-".to_owned(), crate::http::client_addr::rate_key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The address `http::client_addr` worked out (trusted proxies' headers), else the peer.
        let ip = parts
            .extensions
            .get::<crate::http::client_addr::ClientIp>()
            .map(|c| c.0)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect());
        Ok(ClientMeta { ip, user_agent })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let secret = jar
            .get(session_cookie_name(&state.config))
            .map(|c| c.value().to_owned())
            .ok_or_else(|| ApiError::unauthorized(ErrorCode::Unauthenticated))?;
        let now = now_ms();
        let idle_ms = i64::try_from(state.config.session_idle_minutes).unwrap_or(30) * 60_000;
        let (session, person, roles) = state
            .store
            .active_session(&sha256_hex(&secret), now, idle_ms)
            .await?
            .ok_or_else(|| ApiError::unauthorized(ErrorCode::SessionExpired))?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(ApiError::forbidden(ErrorCode::CsrfFailed));
            }
        }
        // Refresh the idle clock, at most once a minute to spare the database.
        if now - session.last_seen_at > 60_000 {
            state.store.touch_session(&session.secret_hash, now).await?;
        }
        Ok(AuthUser {
            person,
            session,
            roles,
        })
    }
}

/// A new session's cookie.
pub fn session_cookie(config: &Config, secret: String) -> Cookie<'static> {
    Cookie::build((session_cookie_name(config), secret))
        .http_only(true)
        .secure(config.is_https())
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::hours(
            i64::try_from(config.session_absolute_hours).unwrap_or(12),
        ))
        .build()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal_cookie(name: &'static str, path: &'static str) -> Cookie<'static> {
    // A browser ignores a `__Host-` cookie without Secure, removal included.
    let mut cookie = Cookie::build((name, ""))
        .path(path)
        .secure(name.starts_with("__Host-"))
        .build();
    cookie.make_removal();
    cookie
}

fn parse_acr(value: &str) -> anyhow::Result<Acr> {
    Acr::parse(value).with_context(|| format!("stored assurance level {value:?} is unknown"))
}

fn parse_method(value: &str) -> AuthMethod {
    if value == "passkey" {
        AuthMethod::Passkey
    } else {
        AuthMethod::Eid
    }
}

/// A session as stored.
#[derive(sqlx::FromRow)]
struct SessionRow {
    secret_hash: String,
    public_id: String,
    csrf_token: String,
    acr: String,
    auth_method: String,
    authenticated_at: i64,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    user_agent: Option<String>,
    acting_for: Option<String>,
}

/// A person as stored.
#[derive(sqlx::FromRow)]
struct PersonRow {
    id: String,
    cccd: String,
    name: String,
    birthdate: Option<String>,
    acr: String,
}

/// A session with its person, as one statement reads them.
#[derive(sqlx::FromRow)]
struct SessionWithPerson {
    #[sqlx(flatten)]
    session: SessionRow,
    #[sqlx(rename = "person_id")]
    id: String,
    cccd: String,
    name: String,
    birthdate: Option<String>,
    #[sqlx(rename = "person_acr")]
    person_acr: String,
    /// How many grants of each role, and of representations, the person holds.
    officer_grants: i64,
    admin_grants: i64,
    represents: i64,
}

/// A person's roles from how many grants and representations they hold: always a citizen; a
/// business user when representing an organisation; then their granted roles, in this order.
fn roles_from(officer_grants: i64, admin_grants: i64, represents: i64) -> Vec<Role> {
    let mut roles = vec![Role::Citizen];
    if represents > 0 {
        roles.push(Role::Business);
    }
    if admin_grants > 0 {
        roles.push(Role::Admin);
    }
    if officer_grants > 0 {
        roles.push(Role::Officer);
    }
    roles
}

fn session_from(row: SessionRow) -> anyhow::Result<Session> {
    Ok(Session {
        acr: parse_acr(&row.acr)?,
        auth_method: parse_method(&row.auth_method),
        secret_hash: row.secret_hash,
        public_id: row.public_id,
        csrf_token: row.csrf_token,
        authenticated_at: row.authenticated_at,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
        user_agent: row.user_agent,
        acting_for: row.acting_for,
    })
}

fn person_from(row: PersonRow) -> anyhow::Result<Person> {
    Ok(Person {
        cccd: Cccd::parse(&row.cccd).context("a stored CCCD does not parse")?,
        acr: parse_acr(&row.acr)?,
        id: row.id,
        name: row.name,
        birthdate: row.birthdate,
    })
}

const SESSION_COLUMNS: &str = "s.secret_hash, s.public_id, s.csrf_token, s.acr, s.auth_method, \
     s.authenticated_at, s.created_at, s.last_seen_at, s.expires_at, s.user_agent, s.acting_for";

/// Creates the person or refreshes what the provider says of them, inside `tx`.
async fn upsert_person(
    tx: &mut crate::store::WriteTx,
    who: &EidIdentity,
) -> anyhow::Result<Person> {
    let now = now_ms();
    let (id,): (String,) = sqlx::query_as(
        "insert into people (id, cccd, issuer, subject, name, birthdate, acr, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         on conflict (cccd) do update set issuer = excluded.issuer, subject = excluded.subject, \
           name = excluded.name, birthdate = excluded.birthdate, acr = excluded.acr, \
           updated_at = excluded.updated_at \
         returning id",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(who.cccd.as_str())
    .bind(&who.issuer)
    .bind(&who.subject)
    .bind(&who.name)
    .bind(who.birthdate.as_deref())
    .bind(who.acr.as_str())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .context("saving a person")?;
    Ok(Person {
        id,
        cccd: who.cccd.clone(),
        name: who.name.clone(),
        birthdate: who.birthdate.clone(),
        acr: who.acr,
    })
}

/// What a new session is: who, how they proved it, for how long, from where.
pub struct NewSession<'a> {
    pub person: &'a Person,
    pub method: AuthMethod,
    pub acr: Acr,
    pub lifetime_ms: i64,
    pub client: &'a ClientMeta,
    /// When the person last proved who they are (Unix ms): the e-ID provider's `auth_time`, or
    /// now for a passkey; 0 when the provider did not say (such a session is never fresh).
    pub authenticated_at: i64,
    /// The session this browser had before (its secret's hash): ended by this sign-in.
    pub replaces: Option<&'a str>,
}

/// Opens a session inside `tx`; returns the cookie secret (stored only as its hash).
pub async fn open_session(
    tx: &mut crate::store::WriteTx,
    new: &NewSession<'_>,
) -> anyhow::Result<String> {
    let secret = random_token(32);
    let now = now_ms();
    // A new sign-in ends the browser's previous session, whoever it was.
    if let Some(previous) = new.replaces {
        sqlx::query(
            "update sessions set revoked_at = $1 where secret_hash = $2 and revoked_at is null",
        )
        .bind(now)
        .bind(previous)
        .execute(&mut **tx)
        .await
        .context("ending the browser's previous session")?;
    }
    sqlx::query(
        "insert into sessions (secret_hash, public_id, person_id, csrf_token, acr, auth_method, \
           authenticated_at, created_at, last_seen_at, expires_at, user_agent, ip) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
    )
    .bind(sha256_hex(&secret))
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&new.person.id)
    .bind(random_token(24))
    .bind(new.acr.as_str())
    .bind(match new.method {
        AuthMethod::Eid => "eid",
        AuthMethod::Passkey => "passkey",
    })
    .bind(new.authenticated_at.min(now))
    .bind(now)
    .bind(now + new.lifetime_ms)
    .bind(new.client.user_agent.as_deref())
    .bind(new.client.ip.as_deref())
    .execute(&mut **tx)
    .await
    .context("opening a session")?;
    Ok(secret)
}

impl Store {
    /// Records an e-ID sign-in in one transaction: the person, their new session, and the
    /// data-access entry for what was read from the national e-identity.
    pub async fn record_eid_sign_in(
        &self,
        who: &EidIdentity,
        lifetime_ms: i64,
        client: &ClientMeta,
        replaces: Option<&str>,
    ) -> anyhow::Result<(Person, String)> {
        let mut tx = self.begin_write().await?;
        let person = upsert_person(&mut tx, who).await?;
        let secret = open_session(
            &mut tx,
            &NewSession {
                person: &person,
                method: AuthMethod::Eid,
                acr: who.acr,
                lifetime_ms,
                client,
                authenticated_at: who.authenticated_at,
                replaces,
            },
        )
        .await?;
        super::data_access::record(
            &mut tx,
            &super::data_access::Access {
                cccd: person.cccd.as_str(),
                accessor_kind: "system",
                accessor: "Cổng dịch vụ công một cửa",
                source: "VNeID",
                data: "Họ tên, ngày sinh, số định danh cá nhân, mức định danh",
                purpose: "Đăng nhập",
            },
        )
        .await?;
        let who_id = format!("person:{}", person.id);
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: &who_id,
                action: "identity.sign_in",
                subject: &who_id,
                details: serde_json::json!({ "method": "eid", "acr": who.acr.as_str(), "issuer": who.issuer }),
            },
        )
        .await?;
        tx.commit().await.context("committing a sign-in")?;
        Ok((person, secret))
    }

    /// The session with this secret hash if it is neither revoked, past its absolute end, nor idle too long.
    pub async fn active_session(
        &self,
        secret_hash: &str,
        now: i64,
        idle_ms: i64,
    ) -> anyhow::Result<Option<(Session, Person, Vec<Role>)>> {
        // One statement for the session, its person and their roles: every signed-in request
        // starts here.
        let sql = format!(
            "select {SESSION_COLUMNS}, p.id as person_id, p.cccd, p.name, p.birthdate, p.acr as person_acr, \
               (select count(*) from role_grants g where g.cccd = p.cccd and g.role = 'officer') as officer_grants, \
               (select count(*) from role_grants g where g.cccd = p.cccd and g.role = 'admin') as admin_grants, \
               (select count(*) from representatives r where r.cccd = p.cccd) as represents \
             from sessions s join people p on p.id = s.person_id \
             where s.secret_hash = $1 and s.revoked_at is null and s.expires_at > $2 and s.last_seen_at > $3"
        );
        let row: Option<SessionWithPerson> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(secret_hash)
            .bind(now)
            .bind(now - idle_ms)
            .fetch_optional(self.pool())
            .await
            .context("reading a session")?;
        let Some(row) = row else { return Ok(None) };
        let roles = roles_from(row.officer_grants, row.admin_grants, row.represents);
        let session = session_from(row.session)?;
        let person = person_from(PersonRow {
            id: row.id,
            cccd: row.cccd,
            name: row.name,
            birthdate: row.birthdate,
            acr: row.person_acr,
        })?;
        Ok(Some((session, person, roles)))
    }

    /// A person by their id.
    pub async fn person(&self, id: &str) -> anyhow::Result<Option<Person>> {
        let row: Option<PersonRow> =
            sqlx::query_as("select id, cccd, name, birthdate, acr from people where id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .context("reading a person")?;
        row.map(person_from).transpose()
    }

    pub async fn person_by_cccd(&self, cccd: &Cccd) -> anyhow::Result<Option<Person>> {
        let row: Option<PersonRow> =
            sqlx::query_as("select id, cccd, name, birthdate, acr from people where cccd = $1")
                .bind(cccd.as_str())
                .fetch_optional(self.pool())
                .await
                .context("reading a person")?;
        row.map(person_from).transpose()
    }

    pub async fn touch_session(&self, secret_hash: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query("update sessions set last_seen_at = $1 where secret_hash = $2")
            .bind(now)
            .bind(secret_hash)
            .execute(self.pool())
            .await
            .context("touching a session")?;
        Ok(())
    }

    /// Signing out: ends this session, with its audit entry.
    pub async fn revoke_session(&self, secret_hash: &str, person_id: &str) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update sessions set revoked_at = $1 where secret_hash = $2 and revoked_at is null",
        )
        .bind(now_ms())
        .bind(secret_hash)
        .execute(&mut *tx)
        .await
        .context("revoking a session")?;
        if done.rows_affected() > 0 {
            audit_identity(
                &mut tx,
                person_id,
                "identity.sign_out",
                serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends one of the person's sessions by its public id; false when they have no such session.
    pub async fn revoke_session_of(
        &self,
        person_id: &str,
        public_id: &str,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update sessions set revoked_at = $1 where person_id = $2 and public_id = $3 and revoked_at is null",
        )
        .bind(now_ms())
        .bind(person_id)
        .bind(public_id)
        .execute(&mut *tx)
        .await
        .context("revoking a session")?;
        let revoked = done.rows_affected() > 0;
        if revoked {
            audit_identity(
                &mut tx,
                person_id,
                "identity.session_revoked",
                serde_json::json!({ "session": public_id }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// "Sign out of all devices".
    pub async fn revoke_all_sessions(&self, person_id: &str) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update sessions set revoked_at = $1 where person_id = $2 and revoked_at is null",
        )
        .bind(now_ms())
        .bind(person_id)
        .execute(&mut *tx)
        .await
        .context("revoking all sessions")?;
        audit_identity(
            &mut tx,
            person_id,
            "identity.sign_out_everywhere",
            serde_json::json!({ "sessions": done.rows_affected() }),
        )
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// An operator ends sessions now: one person's, or everyone's (`None`); in the audit chain.
    pub async fn end_sessions_by_operator(&self, person_id: Option<&str>) -> anyhow::Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "update sessions set revoked_at = $1 where revoked_at is null and ($2 = '' or person_id = $2)",
        )
        .bind(now_ms())
        .bind(person_id.unwrap_or(""))
        .execute(&mut *tx)
        .await
        .context("ending sessions")?;
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: "operator",
                action: "identity.sessions_ended",
                subject: person_id.unwrap_or("everyone"),
                details: serde_json::json!({ "sessions": done.rows_affected() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// A sign-in that failed, in the audit chain: the reason's code and the client's network
    /// (its IPv4 address or IPv6 /64), no identity (none was established).
    pub async fn record_failed_sign_in(&self, code: &str, network: &str) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        crate::audit::append(
            &mut tx,
            &crate::audit::Event {
                actor: "anonymous",
                action: "identity.sign_in_failed",
                subject: "sign-in",
                details: serde_json::json!({ "code": code, "network": network }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person's live sessions, newest first.
    pub async fn sessions_of(
        &self,
        person_id: &str,
        now: i64,
        idle_ms: i64,
    ) -> anyhow::Result<Vec<Session>> {
        let sql = format!(
            "select {SESSION_COLUMNS} from sessions s \
             where s.person_id = $1 and s.revoked_at is null and s.expires_at > $2 and s.last_seen_at > $3 \
             order by s.created_at desc"
        );
        let rows: Vec<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(person_id)
            .bind(now)
            .bind(now - idle_ms)
            .fetch_all(self.pool())
            .await
            .context("listing sessions")?;
        rows.into_iter().map(session_from).collect()
    }

    /// Everyone is a citizen; other roles come from grants.
    pub async fn roles_of(&self, cccd: &Cccd) -> anyhow::Result<Vec<Role>> {
        let (officer, admin, represents): (i64, i64, i64) = sqlx::query_as(
            "select \
               (select count(*) from role_grants where cccd = $1 and role = 'officer'), \
               (select count(*) from role_grants where cccd = $1 and role = 'admin'), \
               (select count(*) from representatives where cccd = $1)",
        )
        .bind(cccd.as_str())
        .fetch_one(self.pool())
        .await
        .context("reading roles")?;
        Ok(roles_from(officer, admin, represents))
    }

    /// How many live sessions exist in all (for tests and metrics).
    pub async fn count_live_sessions(&self) -> anyhow::Result<i64> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from sessions where revoked_at is null")
            .fetch_one(self.pool())
            .await
            .context("counting sessions")?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use motcua_shared::identity::Role;

    #[test]
    fn roles_follow_grants_and_representations_in_a_fixed_order() {
        assert_eq!(super::roles_from(0, 0, 0), vec![Role::Citizen]);
        assert_eq!(
            super::roles_from(1, 0, 2),
            vec![Role::Citizen, Role::Business, Role::Officer]
        );
        assert_eq!(
            super::roles_from(3, 1, 0),
            vec![Role::Citizen, Role::Admin, Role::Officer]
        );
    }
}
