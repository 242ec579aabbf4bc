//! The signed-in person as the API shows them, their sessions, roles and assurance levels.

use serde::{Deserialize, Serialize};

/// Assurance level of the national e-identity (VNeID). Level 2 means the identity was verified
/// in person or biometrically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Acr {
    #[serde(rename = "vneid:level1")]
    Level1,
    #[serde(rename = "vneid:level2")]
    Level2,
}

impl Acr {
    pub fn as_str(self) -> &'static str {
        match self {
            Acr::Level1 => "vneid:level1",
            Acr::Level2 => "vneid:level2",
        }
    }

    pub fn parse(s: &str) -> Option<Acr> {
        match s {
            "vneid:level1" => Some(Acr::Level1),
            "vneid:level2" => Some(Acr::Level2),
            _ => None,
        }
    }
}

/// What a person may do. Everyone is a citizen; the others are granted, never claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Business,
    Officer,
    Admin,
}

/// How the current session was signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The national e-identity (OpenID Connect).
    Eid,
    /// A passkey registered after an e-ID sign-in.
    Passkey,
}

/// The body of `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The 12-digit citizen ID number, as verified by the national e-identity.
    pub cccd: String,
    pub name: String,
    /// `YYYY-MM-DD`, when the identity provider gave it.
    pub birthdate: Option<String>,
    pub acr: Acr,
    pub roles: Vec<Role>,
    pub auth_method: AuthMethod,
    /// Unix milliseconds of the last fresh user verification in this session.
    pub authenticated_at: i64,
    /// Send it back as the `x-csrf-token` header on every state-changing request.
    pub csrf_token: String,
    /// Organisations the person may act for.
    pub organisations: Vec<Organisation>,
    /// The tax code of the organisation this session acts for; `None`: the person themself.
    pub acting_for: Option<String>,
}

/// An organisation the person represents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub tax_code: String,
    pub name: String,
    /// The person's capacity: legal representative, director, authorised person…
    pub title: String,
}

/// The body of `PUT /api/v1/me/acting-for`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActingFor {
    /// A tax code the person represents, or `null` to act for themself.
    pub tax_code: Option<String>,
}

/// One signed-in device, as listed in the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    pub auth_method: AuthMethod,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// The body of `GET /api/v1/me/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assurance_levels_use_the_vneid_names() {
        assert_eq!(Acr::parse("vneid:level2"), Some(Acr::Level2));
        assert_eq!(Acr::parse("level2"), None);
        assert!(Acr::Level2 > Acr::Level1);
    }
}

/// One read of the person's data, as the person sees it in their account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataAccess {
    /// Unix milliseconds.
    pub at: i64,
    /// `system` or `officer`.
    pub accessor_kind: String,
    pub accessor: String,
    pub source: String,
    pub data: String,
    pub purpose: String,
}

/// The body of `GET /api/v1/me/data-access`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataAccessLog {
    pub entries: Vec<DataAccess>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One of the person's passkeys, as listed in the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The body of `GET /api/v1/me/passkeys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyList {
    /// False when this site cannot offer passkeys (it is not served under a domain name).
    pub available: bool,
    pub passkeys: Vec<PasskeyInfo>,
}
