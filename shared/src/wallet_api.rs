//! The JSON of the wallet, verification and trust endpoints.

use serde::{Deserialize, Serialize};

use crate::{
    Localized,
    credential::{Credential, CredentialKind, status::Status},
};

/// Who issued a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issuer {
    /// The agency's code.
    pub code: String,
    pub name: Localized,
}

/// A credential in the person's wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalletCredential {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: CredentialKind,
    pub title: Localized,
    pub issuer: Issuer,
    /// `YYYY-MM-DD`.
    pub issued_at: String,
    /// `YYYY-MM-DD`, the last day it is valid; `None` when it does not expire.
    pub expires_at: Option<String>,
    pub status: Status,
    /// Why it was revoked or suspended, when it was.
    pub status_reason: Option<String>,
    /// What it says, as signed.
    pub claims: Credential,
    /// The QR's text (`VN1:…`).
    pub qr: String,
    /// The dossier that produced it.
    pub dossier_id: Option<String>,
}

/// The body of `GET /api/v1/wallet`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wallet {
    pub credentials: Vec<WalletCredential>,
    /// The cursor of the next page (`?after=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The body of `POST /api/v1/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    pub qr: String,
    /// For a certified copy: the SHA-256 (hex) of the file it is shown with; a file that is not
    /// the certified one makes it `valid: false` (`file_mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
}

/// What a verification found. Any input gets one (an undecodable QR is `valid: false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyResult {
    pub valid: bool,
    /// Why not: `not_a_credential`, `malformed`, `too_large`, `unknown_issuer`,
    /// `key_withdrawn`, `bad_signature`, `expired`, `key_not_valid_then`, `revoked`,
    /// `suspended`, `replaced`, `file_mismatch`.
    pub reason: Option<String>,
    pub revoked: bool,
    /// Its status in its status list, when the signature holds.
    pub status: Option<Status>,
    pub issuer: Option<Issuer>,
    /// What it says, when the signature holds.
    pub claims: Option<Credential>,
}

/// The body of `POST /api/v1/officer/credentials/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeStatus {
    /// `revoked`, `suspended` or `valid` (lifting a suspension).
    pub status: Status,
    /// Told to the holder and kept in the audit log.
    pub reason: String,
}
