//! Signed digital results ("credentials") as QR text, and their verification, for the server
//! (issuing, `POST /api/v1/verify`) and the PWA's verifier (offline, in WebAssembly) alike.
//!
//! A credential is a CBOR Web Token (RFC 8392) in a COSE_Sign1 (RFC 9052) signed with
//! EdDSA (Ed25519) by the issuing agency's key (`kid` in the protected header; untagged, as the
//! `VN1:` prefix says what it is), compressed with
//! zlib only when that is smaller, base45-encoded (RFC 9285) and prefixed `VN1:`; shown as an
//! alphanumeric QR at error-correction level Q.
//!
//! The claims are compact on purpose: integer keys, dates as days since 1970-01-01, the CCCD
//! as an integer, a numeric document number as an integer, an address as its commune code and
//! the street line, licence classes as small integers. Of the CWT claims: `cti` (7, 6 random
//! bytes), and `status` (65535) in the form of the IETF Token Status List draft:
//! `{"status_list": {"idx": N, "uri": URI}}`; no `iss` (the key id, 2 bytes, names the key and
//! the trust list its agency) and no `iat`/`exp` in seconds (the result's own dates, in days,
//! say when it was issued and until when it is valid). The result is the claim named
//! [`CLAIM_RESULT`], a map with the integer keys of [`Field`].
//!
//! Decoding is safe on hostile input: the text, the compressed and the decompressed sizes are
//! capped before work is done on them, CBOR nesting is bounded, and nothing panics.

use std::collections::BTreeMap;

use ciborium::Value;
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::calendar::Day;

/// What every credential's QR text starts with.
pub const PREFIX: &str = "VN1:";
/// The longest QR text read: far above any credential (a version 40 QR holds 1,852 characters
/// at level Q), low enough that nothing larger is decoded.
pub const MAX_TEXT: usize = 4_096;
/// The largest signed message accepted once decompressed (a zlib bomb stops here).
pub const MAX_COSE_BYTES: usize = 4_096;
/// The deepest CBOR nesting accepted.
const MAX_DEPTH: usize = 8;

/// The CWT claim holding the result: a text name (3 bytes, where a private-use integer takes 5).
pub const CLAIM_RESULT: &str = "vn";
const CLAIM_ISS: i64 = 1;
const CLAIM_CTI: i64 = 7;
/// Keys of the result map for its dates (days since 1970-01-01).
const RESULT_ISSUED_ON: i64 = 6;
const RESULT_VALID_UNTIL: i64 = 7;
const RESULT_ISSUED_ON_U: u64 = 6;
const RESULT_VALID_UNTIL_U: u64 = 7;
const CLAIM_STATUS: i64 = 65_535;

/// What a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    DrivingLicence,
    BirthCertificate,
    PermanentResidence,
    HealthInsuranceCard,
    JudicialRecord,
    MaritalStatus,
    CertifiedCopy,
    Receipt,
    /// A purpose-minimised proof: "holds a valid class B licence", with name and birth year.
    LicenceProof,
    /// Any other result of a procedure.
    Result,
}

impl CredentialKind {
    const ALL: [CredentialKind; 10] = [
        CredentialKind::DrivingLicence,
        CredentialKind::BirthCertificate,
        CredentialKind::PermanentResidence,
        CredentialKind::HealthInsuranceCard,
        CredentialKind::JudicialRecord,
        CredentialKind::MaritalStatus,
        CredentialKind::CertifiedCopy,
        CredentialKind::Receipt,
        CredentialKind::LicenceProof,
        CredentialKind::Result,
    ];

    fn code(self) -> u64 {
        match self {
            CredentialKind::Result => 0,
            CredentialKind::DrivingLicence => 1,
            CredentialKind::BirthCertificate => 2,
            CredentialKind::PermanentResidence => 3,
            CredentialKind::HealthInsuranceCard => 4,
            CredentialKind::JudicialRecord => 5,
            CredentialKind::MaritalStatus => 6,
            CredentialKind::CertifiedCopy => 7,
            CredentialKind::Receipt => 8,
            CredentialKind::LicenceProof => 9,
        }
    }

    fn from_code(code: u64) -> Option<CredentialKind> {
        CredentialKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Driving licence classes, as small integers in the claims.
pub const LICENCE_CLASSES: [&str; 15] = [
    "A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE",
];

/// Where the holder's status is published (IETF Token Status List).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusRef {
    pub idx: u64,
    pub uri: String,
}

/// One field of a result. In the JSON view each is its own name; in CBOR an integer key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The holder's full name.
    Name(String),
    /// The holder's 12-digit citizen ID number.
    Cccd(String),
    /// `YYYY-MM-DD`.
    BirthDate(String),
    /// The year only (a purpose-minimised credential).
    BirthYear(i64),
    /// The document's number (licence number, certificate number).
    Number(String),
    /// Licence classes.
    Classes(Vec<String>),
    /// An address: the commune's code (5 digits) and the street line.
    Address { unit: String, street: String },
    /// The result's name, in Vietnamese.
    Title(String),
    /// The SHA-256 (hex) of the file a certified copy certifies.
    FileSha256(String),
    /// An amount in VND (a receipt).
    AmountVnd(i64),
    /// What it refers to: a dossier's receipt number, payment notice numbers.
    Reference(String),
    /// What a minimised credential proves (`licence_class:B`).
    Proves(String),
    /// Where the holder registered for health care (a health-insurance card's facility).
    Facility(String),
}

impl Field {
    fn key(&self) -> u64 {
        match self {
            Field::Name(_) => 2,
            Field::Cccd(_) => 3,
            Field::BirthDate(_) => 4,
            Field::BirthYear(_) => 5,
            Field::Number(_) => 10,
            Field::Classes(_) => 11,
            Field::Address { .. } => 13,
            Field::Title(_) => 14,
            Field::FileSha256(_) => 15,
            Field::AmountVnd(_) => 16,
            Field::Reference(_) => 17,
            Field::Proves(_) => 18,
            Field::Facility(_) => 19,
        }
    }
}

/// What an issuer signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credential {
    pub kind: CredentialKind,
    /// Unique per credential: 6 random bytes, hex.
    pub id: String,
    /// The issuing agency's code: not in the QR (its key id is), filled in from the trust list
    /// when verified.
    pub issuer: String,
    /// `YYYY-MM-DD`, in Vietnam.
    pub issued_on: String,
    /// `YYYY-MM-DD`, the last day it is valid; `None` when the result does not expire.
    pub valid_until: Option<String>,
    pub status: Option<StatusRef>,
    pub fields: Vec<Field>,
}

/// Why a QR text is not a valid credential. `code()` is what the API and the verifier show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("this is not a motcua credential")]
    NotACredential,
    #[error("the QR text is damaged or incomplete")]
    Malformed,
    #[error("it is larger than any credential")]
    TooLarge,
    #[error("it was signed by a key this verifier does not know")]
    UnknownIssuer,
    #[error("it was signed with a key that has been withdrawn")]
    KeyWithdrawn,
    #[error("its signature does not match its content")]
    BadSignature,
    #[error("it has expired")]
    Expired,
    #[error("it was issued with a key outside that key's validity")]
    KeyNotValidThen,
}

impl Invalid {
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::NotACredential => "not_a_credential",
            Invalid::Malformed => "malformed",
            Invalid::TooLarge => "too_large",
            Invalid::UnknownIssuer => "unknown_issuer",
            Invalid::KeyWithdrawn => "key_withdrawn",
            Invalid::BadSignature => "bad_signature",
            Invalid::Expired => "expired",
            Invalid::KeyNotValidThen => "key_not_valid_then",
        }
    }
}

fn day_to_iso(days: i64) -> String {
    let (y, m, d) = Day(days).ymd();
    format!("{y:04}-{m:02}-{d:02}")
}

fn iso_to_day(text: &str) -> Option<i64> {
    crate::eform::parse_date(text).map(|d| d.0)
}

fn int(v: impl Into<i128>) -> Value {
    Value::Integer(
        i64::try_from(v.into())
            .map(Into::into)
            .unwrap_or(0_i64.into()),
    )
}

fn field_value(field: &Field) -> Option<Value> {
    Some(match field {
        Field::Number(s) => compact_number(s),
        Field::Name(s)
        | Field::Title(s)
        | Field::Reference(s)
        | Field::Proves(s)
        | Field::Facility(s) => Value::Text(s.clone()),
        Field::Cccd(s) => int(s.parse::<u64>().ok()?),
        Field::BirthDate(s) => int(iso_to_day(s)?),
        Field::BirthYear(y) | Field::AmountVnd(y) => int(*y),
        Field::Classes(classes) => Value::Array(
            classes
                .iter()
                .filter_map(|c| LICENCE_CLASSES.iter().position(|k| k == c))
                .map(|i| int(i as i64))
                .collect(),
        ),
        // A commune's 5-digit code as an integer; any other unit code as it is written.
        Field::Address { unit, street } => Value::Array(vec![
            match unit.parse::<u64>() {
                Ok(code) if unit.len() == 5 => int(code),
                _ => Value::Text(unit.clone()),
            },
            Value::Text(street.clone()),
        ]),
        Field::FileSha256(hex) => Value::Bytes(from_hex(hex)?),
    })
}

/// A document number of up to 17 digits as the integer `1<digits>` (the leading 1 keeps its
/// leading zeros: `010123456789` takes 9 bytes instead of 13); anything else as text.
fn compact_number(number: &str) -> Value {
    if (1..=17).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = format!("1{number}").parse::<i64>()
    {
        return int(n);
    }
    Value::Text(number.to_owned())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(*i).ok(),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        _ => None,
    }
}

fn read_field(key: u64, v: &Value) -> Option<Field> {
    Some(match key {
        2 => Field::Name(as_text(v)?),
        3 => Field::Cccd(format!("{:012}", as_i64(v)?)),
        4 => Field::BirthDate(day_to_iso(as_i64(v)?)),
        5 => Field::BirthYear(as_i64(v)?),
        10 => Field::Number(match v {
            Value::Text(t) => t.clone(),
            other => as_i64(other)?.to_string().strip_prefix('1')?.to_owned(),
        }),
        11 => match v {
            Value::Array(items) => Field::Classes(
                items
                    .iter()
                    .map(|i| {
                        as_i64(i)
                            .and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| LICENCE_CLASSES.get(i))
                            .map(|c| (*c).to_owned())
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        },
        13 => match v {
            Value::Array(items) if items.len() == 2 => Field::Address {
                unit: match &items[0] {
                    Value::Text(t) => t.clone(),
                    other => format!("{:05}", as_i64(other)?),
                },
                street: as_text(&items[1])?,
            },
            _ => return None,
        },
        14 => Field::Title(as_text(v)?),
        15 => match v {
            Value::Bytes(b) if b.len() == 32 => Field::FileSha256(to_hex(b)),
            _ => return None,
        },
        16 => Field::AmountVnd(as_i64(v)?),
        17 => Field::Reference(as_text(v)?),
        18 => Field::Proves(as_text(v)?),
        19 => Field::Facility(as_text(v)?),
        _ => return None,
    })
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Credential {
    /// The CWT claims set, as CBOR.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut result: Vec<(Value, Value)> = vec![(int(1), int(self.kind.code() as i64))];
        if let Some(day) = iso_to_day(&self.issued_on) {
            result.push((int(RESULT_ISSUED_ON), int(day)));
        }
        if let Some(day) = self.valid_until.as_deref().and_then(iso_to_day) {
            result.push((int(RESULT_VALID_UNTIL), int(day)));
        }
        for field in &self.fields {
            if let Some(value) = field_value(field) {
                result.push((int(field.key() as i64), value));
            }
        }
        // No `iss`: the key id names the key and the trust list its agency. No `iat`/`exp`
        // (seconds): the result's own dates, in days, are in it. Every byte counts in a QR a
        // cheap phone camera must read.
        let mut claims: Vec<(Value, Value)> = vec![(
            int(CLAIM_CTI),
            Value::Bytes(from_hex(&self.id).unwrap_or_default()),
        )];
        if let Some(status) = &self.status {
            claims.push((
                int(CLAIM_STATUS),
                Value::Map(vec![(
                    Value::Text("status_list".into()),
                    Value::Map(vec![
                        (Value::Text("idx".into()), int(status.idx as i64)),
                        (Value::Text("uri".into()), Value::Text(status.uri.clone())),
                    ]),
                )]),
            ));
        }
        claims.push((Value::Text(CLAIM_RESULT.into()), Value::Map(result)));
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = ciborium::into_writer(&Value::Map(claims), &mut out);
        out
    }

    /// Reads a CWT claims set.
    pub fn from_cbor(bytes: &[u8]) -> Result<Credential, Invalid> {
        let value: Value = ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH)
            .map_err(|_| Invalid::Malformed)?;
        let Value::Map(claims) = value else {
            return Err(Invalid::Malformed);
        };
        let mut result = None;
        let mut numbered = BTreeMap::new();
        for (k, v) in claims {
            match (&k, as_i64(&k)) {
                (Value::Text(name), _) if name == CLAIM_RESULT => result = Some(v),
                (_, Some(key)) => {
                    numbered.insert(key, v);
                }
                _ => {}
            }
        }
        let claims = numbered;
        let Some(Value::Map(result)) = result else {
            return Err(Invalid::NotACredential);
        };
        let mut kind = None;
        let (mut issued_on, mut valid_until) = (None, None);
        let mut fields = Vec::new();
        for (k, v) in &result {
            let key = as_i64(k).and_then(|k| u64::try_from(k).ok());
            match key {
                Some(1) => kind = as_i64(v).and_then(|c| u64::try_from(c).ok()),
                Some(RESULT_ISSUED_ON_U) => issued_on = as_i64(v).map(day_to_iso),
                Some(RESULT_VALID_UNTIL_U) => valid_until = as_i64(v).map(day_to_iso),
                Some(key) => fields.push(read_field(key, v).ok_or(Invalid::Malformed)?),
                None => return Err(Invalid::Malformed),
            }
        }
        let status = match claims.get(&CLAIM_STATUS) {
            None => None,
            Some(Value::Map(status)) => {
                let list = status
                    .iter()
                    .find(|(k, _)| as_text(k).as_deref() == Some("status_list"))
                    .map(|(_, v)| v);
                match list {
                    Some(Value::Map(list)) => {
                        let get = |name: &str| {
                            list.iter()
                                .find(|(k, _)| as_text(k).as_deref() == Some(name))
                                .map(|(_, v)| v)
                        };
                        Some(StatusRef {
                            idx: get("idx")
                                .and_then(as_i64)
                                .and_then(|i| u64::try_from(i).ok())
                                .ok_or(Invalid::Malformed)?,
                            uri: get("uri").and_then(as_text).ok_or(Invalid::Malformed)?,
                        })
                    }
                    _ => return Err(Invalid::Malformed),
                }
            }
            Some(_) => return Err(Invalid::Malformed),
        };
        Ok(Credential {
            kind: kind
                .and_then(CredentialKind::from_code)
                .ok_or(Invalid::Malformed)?,
            id: match claims.get(&CLAIM_CTI) {
                Some(Value::Bytes(b)) => to_hex(b),
                _ => return Err(Invalid::Malformed),
            },
            // Named by the key's entry in the trust list when verified.
            issuer: claims.get(&CLAIM_ISS).and_then(as_text).unwrap_or_default(),
            issued_on: issued_on.ok_or(Invalid::Malformed)?,
            valid_until,
            status,
            fields,
        })
    }

    /// For a certified copy: whether `file_sha256` (hex) is the file it certifies. `None`
    /// for credentials that certify no file.
    pub fn certifies_file(&self, file_sha256: &str) -> Option<bool> {
        self.fields.iter().find_map(|f| match f {
            Field::FileSha256(sha) => Some(sha.eq_ignore_ascii_case(file_sha256.trim())),
            _ => None,
        })
    }

    /// A field of the credential, when it has one of this kind.
    pub fn field(&self, pick: impl Fn(&Field) -> bool) -> Option<&Field> {
        self.fields.iter().find(|f| pick(f))
    }
}

/// Signs `credential` with `key` (key id `kid`) and returns its QR text.
pub fn issue(credential: &Credential, kid: &[u8], key: &SigningKey) -> String {
    let protected = HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::EdDSA)
        .key_id(kid.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(credential.to_cbor())
        .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
        .build();
    // Serialising a COSE_Sign1 built here cannot fail.
    let cose = sign1.to_vec().unwrap_or_default();
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
    let body = if compressed.len() < cose.len() {
        compressed
    } else {
        cose
    };
    format!("{PREFIX}{}", base45::encode(&body))
}

/// A signed message read from a QR text, before its signature is checked.
#[derive(Debug, Clone)]
pub struct Unverified {
    pub kid: Vec<u8>,
    pub credential: Credential,
    sign1: CoseSign1,
}

/// Reads a QR text, bounded at every step; checks nothing about who signed it.
pub fn decode(text: &str) -> Result<Unverified, Invalid> {
    if text.len() > MAX_TEXT {
        return Err(Invalid::TooLarge);
    }
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(Invalid::NotACredential)?;
    let bytes = base45::decode(body).map_err(|_| Invalid::Malformed)?;
    // zlib starts with 0x78; a COSE_Sign1 untagged with 0x84, tagged (18) with 0xd2.
    let cose = if bytes.first() == Some(&0x78) {
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&bytes, MAX_COSE_BYTES).map_err(
            |e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => Invalid::TooLarge,
                _ => Invalid::Malformed,
            },
        )?
    } else {
        bytes
    };
    if cose.len() > MAX_COSE_BYTES {
        return Err(Invalid::TooLarge);
    }
    let sign1 = CoseSign1::from_slice(&cose)
        .or_else(|_| CoseSign1::from_tagged_slice(&cose))
        .map_err(|_| Invalid::Malformed)?;
    if sign1.protected.header.alg
        != Some(coset::RegisteredLabelWithPrivate::Assigned(
            coset::iana::Algorithm::EdDSA,
        ))
    {
        return Err(Invalid::Malformed);
    }
    let kid = sign1.protected.header.key_id.clone();
    let payload = sign1.payload.as_deref().ok_or(Invalid::Malformed)?;
    let credential = Credential::from_cbor(payload)?;
    Ok(Unverified {
        kid,
        credential,
        sign1,
    })
}

/// An issuer key as a verifier knows it (from the trust list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustedKey {
    /// Hex of the key id.
    pub kid: String,
    /// The agency the key belongs to.
    pub agency: String,
    /// The agency's name, in Vietnamese.
    pub agency_name: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Unix seconds: credentials issued on a day outside the key's validity are refused.
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    /// A withdrawn key verifies nothing any more.
    pub withdrawn: bool,
}

impl Unverified {
    /// Checks the signature with `keys` and the validity at `now` (Unix seconds).
    pub fn verify(self, keys: &[TrustedKey], now: i64) -> Result<Credential, Invalid> {
        let kid = to_hex(&self.kid);
        let key = keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(Invalid::UnknownIssuer)?;
        if !self.credential.issuer.is_empty() && key.agency != self.credential.issuer {
            return Err(Invalid::UnknownIssuer);
        }
        let public: [u8; 32] = from_hex(&key.public_key)
            .and_then(|b| b.try_into().ok())
            .ok_or(Invalid::UnknownIssuer)?;
        let public = VerifyingKey::from_bytes(&public).map_err(|_| Invalid::UnknownIssuer)?;
        self.sign1
            .verify_signature(b"", |sig, tbs| {
                let sig = Signature::from_slice(sig).map_err(|_| ())?;
                public.verify(tbs, &sig).map_err(|_| ())
            })
            .map_err(|()| Invalid::BadSignature)?;
        if key.withdrawn {
            return Err(Invalid::KeyWithdrawn);
        }
        // The key must have been valid on the day of issue (a key's validity is in Unix
        // seconds; the day of issue counts from its start in Vietnam).
        let issued = iso_to_day(&self.credential.issued_on).ok_or(Invalid::Malformed)?;
        let day_of = |secs: i64| Day::of_instant(secs.saturating_mul(1000)).0;
        if issued < day_of(key.valid_from) || key.valid_until.is_some_and(|u| issued > day_of(u)) {
            return Err(Invalid::KeyNotValidThen);
        }
        let today = day_of(now);
        let until = self.credential.valid_until.as_deref().map(iso_to_day);
        if let Some(until) = until
            && until.is_none_or(|u| u < today)
        {
            return Err(Invalid::Expired);
        }
        let mut credential = self.credential;
        credential.issuer = key.agency.clone();
        Ok(credential)
    }
}

/// Decodes and verifies in one step.
pub fn verify(text: &str, keys: &[TrustedKey], now: i64) -> Result<Credential, Invalid> {
    decode(text)?.verify(keys, now)
}

/// The public half of `key`, hex.
pub fn public_hex(key: &SigningKey) -> String {
    to_hex(key.verifying_key().as_bytes())
}

/// The rows a credential's fields are shown as, in the wallet, the verifier and the printable
/// PDF: (text key of the label in the locale files, value).
pub fn claim_rows(fields: &[Field]) -> Vec<(&'static str, String)> {
    fields
        .iter()
        .map(|f| match f {
            Field::Name(v) => ("wallet.field.name", v.clone()),
            Field::Cccd(v) => ("wallet.field.cccd", v.clone()),
            Field::BirthDate(v) => ("wallet.field.birth_date", crate::time::format_vn_date(v)),
            Field::BirthYear(y) => ("wallet.field.birth_year", y.to_string()),
            Field::Number(v) => ("wallet.field.number", v.clone()),
            Field::Classes(c) => ("wallet.field.classes", c.join(", ")),
            Field::Address { unit, street } => (
                "wallet.field.address",
                crate::units::get(unit)
                    .map(|u| format!("{street}, {}", u.name))
                    .unwrap_or_else(|| street.clone()),
            ),
            Field::Title(v) => ("wallet.field.title", v.clone()),
            Field::FileSha256(v) => ("wallet.field.file_sha256", v.clone()),
            Field::AmountVnd(v) => ("wallet.field.amount", format!("{v} đ")),
            Field::Reference(v) => ("wallet.field.reference", v.clone()),
            Field::Proves(v) => ("wallet.field.proves", v.clone()),
            Field::Facility(v) => ("wallet.field.facility", v.clone()),
        })
        .collect()
}

/// The QR of `text` at error-correction level Q as its modules: the side (in modules, without
/// a quiet zone) and, row by row, whether each module is dark. For drawing it elsewhere (the
/// printable PDF).
pub fn qr_modules(text: &str) -> Option<(usize, Vec<bool>)> {
    use qrcode::{Color, EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(text, EcLevel::Q).ok()?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Some((code.width(), dark))
}

/// The QR of `text` at error-correction level Q, as an SVG document, and its version (1-40).
/// Base45 text with the `VN1:` prefix is all QR-alphanumeric, so it is encoded in that mode.
pub fn qr_svg(text: &str) -> Option<(String, i16)> {
    use qrcode::{EcLevel, QrCode, Version, render::svg};
    let code = QrCode::with_error_correction_level(text, EcLevel::Q).ok()?;
    let version = match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Some((svg, version))
}

/// A status list: 2 bits per credential (0 valid, 1 revoked, 2 suspended, 3 replaced).
pub mod status {
    /// A credential's status in its list.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    #[serde(rename_all = "snake_case")]
    pub enum Status {
        Valid,
        Revoked,
        Suspended,
        /// A newer credential replaced it (a renewed licence).
        Replaced,
    }

    impl Status {
        pub fn bits(self) -> u8 {
            match self {
                Status::Valid => 0,
                Status::Revoked => 1,
                Status::Suspended => 2,
                Status::Replaced => 3,
            }
        }

        pub fn from_bits(bits: u8) -> Status {
            match bits & 3 {
                1 => Status::Revoked,
                2 => Status::Suspended,
                3 => Status::Replaced,
                _ => Status::Valid,
            }
        }
    }

    /// Entries per list: at least 131,072, so a list says nothing about who is checked.
    pub const LIST_SIZE: u64 = 131_072;

    /// The status at `idx` of a zlib-compressed list of 2-bit entries (`None` when out of range
    /// or undecodable). Decompression stops at the list's size.
    pub fn read(compressed: &[u8], idx: u64) -> Option<Status> {
        let max = usize::try_from(LIST_SIZE / 4).ok()?;
        let bytes =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, max).ok()?;
        let byte = *bytes.get(usize::try_from(idx / 4).ok()?)?;
        // As in the draft: the first entry in the least significant bits.
        Some(Status::from_bits(byte >> ((idx % 4) * 2)))
    }

    /// A list of `LIST_SIZE` entries with `set` statuses, zlib-compressed.
    pub fn build(set: &[(u64, Status)]) -> Vec<u8> {
        let mut bytes = vec![0u8; usize::try_from(LIST_SIZE / 4).unwrap_or(0)];
        for (idx, status) in set {
            if let Some(byte) = usize::try_from(idx / 4).ok().and_then(|i| bytes.get_mut(i)) {
                let shift = (idx % 4) * 2;
                *byte = (*byte & !(3 << shift)) | (status.bits() << shift);
            }
        }
        miniz_oxide::deflate::compress_to_vec_zlib(&bytes, 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn trusted(seed: u8, kid: &str) -> TrustedKey {
        TrustedKey {
            kid: kid.into(),
            agency: "CA-PCSGT".into(),
            agency_name: "Phòng Cảnh sát giao thông".into(),
            public_key: public_hex(&key(seed)),
            valid_from: 0,
            valid_until: None,
            withdrawn: false,
        }
    }

    pub(crate) fn licence() -> Credential {
        Credential {
            kind: CredentialKind::DrivingLicence,
            id: "001122334455".into(),
            issuer: "CA-PCSGT".into(),
            issued_on: "2026-11-29".into(),
            valid_until: Some("2036-11-29".into()),
            status: Some(StatusRef {
                idx: 98_765,
                uri: "https://dichvucong.gov.vn/s/1".into(),
            }),
            fields: vec![
                Field::Name("Nguyễn Văn An".into()),
                Field::Cccd("001088012345".into()),
                Field::Number("010123456789".into()),
                Field::Classes(vec!["B".into()]),
                Field::Address {
                    unit: "00070".into(),
                    street: "Số 12 phố Hàng Bông".into(),
                },
            ],
        }
    }

    #[test]
    fn a_credential_round_trips_and_verifies_with_its_key() {
        let text = issue(&licence(), &[1, 2], &key(7));
        assert!(text.starts_with("VN1:"));
        assert!(
            text[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " $%*+-./:".contains(c)),
            "alphanumeric QR characters only"
        );
        let got = verify(&text, &[trusted(7, "0102")], 1_800_000_000).expect("valid");
        let mut want = licence();
        want.issuer = "CA-PCSGT".into();
        assert_eq!(got, want);
    }

    #[test]
    fn the_licence_with_its_address_fits_a_version_13_qr_at_level_q() {
        // With the status list at a production-length address.
        let text = issue(&licence(), &[1, 2], &key(7));
        assert!(text.len() <= 352, "{} characters", text.len());
        let (svg, version) = qr_svg(&text).expect("a QR");
        assert!(version <= 13, "version {version}");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    }

    #[test]
    fn every_kind_of_tampering_is_refused_with_its_reason() {
        let keys = [trusted(7, "0102")];
        let text = issue(&licence(), &[1, 2], &key(7));
        let now = 1_800_000_000;
        // Another key, or a key nobody trusts.
        let other = issue(&licence(), &[1, 2], &key(8));
        assert_eq!(verify(&other, &keys, now), Err(Invalid::BadSignature));
        let unknown = issue(&licence(), &[9, 9], &key(7));
        assert_eq!(verify(&unknown, &keys, now), Err(Invalid::UnknownIssuer));
        // Withdrawn, expired.
        let mut withdrawn = keys.clone();
        withdrawn[0].withdrawn = true;
        assert_eq!(verify(&text, &withdrawn, now), Err(Invalid::KeyWithdrawn));
        assert_eq!(verify(&text, &keys, 2_200_000_000), Err(Invalid::Expired));
        let mut early = keys.clone();
        early[0].valid_from = 1_900_000_000;
        assert_eq!(verify(&text, &early, now), Err(Invalid::KeyNotValidThen));
        // Truncated, not ours, garbage.
        assert!(verify(&text[..text.len() - 5], &keys, now).is_err());
        assert_eq!(verify("HC1:ABC", &keys, now), Err(Invalid::NotACredential));
        assert_eq!(verify("VN1:%%%%", &keys, now), Err(Invalid::Malformed));
        assert_eq!(
            verify(&"A".repeat(MAX_TEXT + 1), &keys, now),
            Err(Invalid::TooLarge)
        );
    }

    #[test]
    fn a_flipped_bit_anywhere_in_the_signed_message_is_refused() {
        let keys = [trusted(7, "0102")];
        let text = issue(&licence(), &[1, 2], &key(7));
        let body = base45::decode(&text[4..]).expect("base45");
        let cose = if body[0] == 0x78 {
            miniz_oxide::inflate::decompress_to_vec_zlib(&body).expect("zlib")
        } else {
            body
        };
        for i in 0..cose.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = cose.clone();
                bad[i] ^= bit;
                let qr = format!("VN1:{}", base45::encode(&bad));
                assert!(
                    verify(&qr, &keys, 1_800_000_000).is_err(),
                    "byte {i} bit {bit:#x} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn a_zlib_bomb_is_refused_without_inflating_it() {
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 2_000_000], 10);
        let qr = format!("VN1:{}", base45::encode(&bomb));
        assert!(qr.len() <= MAX_TEXT, "the bomb fits the text cap");
        assert_eq!(decode(&qr).err(), Some(Invalid::TooLarge));
    }

    #[test]
    fn a_status_list_reads_back_what_was_set() {
        use status::*;
        let list = build(&[(5, Status::Revoked), (131_071, Status::Suspended)]);
        assert!(list.len() < 500, "{} bytes", list.len());
        assert_eq!(read(&list, 5), Some(Status::Revoked));
        assert_eq!(read(&list, 6), Some(Status::Valid));
        assert_eq!(read(&list, 131_071), Some(Status::Suspended));
        assert_eq!(read(&list, 131_072), None);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_text_is_answered_without_a_panic(text in ".{0,600}") {
            let _ = verify(&text, &[], 0);
            let _ = verify(&format!("VN1:{text}"), &[], 0);
        }

        #[test]
        fn any_name_street_and_dates_round_trip(
            name in "\\PC{1,40}",
            street in "\\PC{0,40}",
            issued in 0i64..40_000,
            number in "[0-9]{1,17}|[A-Z0-9-]{1,20}",
        ) {
            let mut c = tests::licence();
            c.issuer = "CA-PCSGT".into();
            c.issued_on = day_to_iso(issued);
            c.valid_until = None;
            c.fields = vec![
                Field::Name(name),
                Field::Number(number),
                Field::Address { unit: "00070".into(), street },
            ];
            let key = SigningKey::from_bytes(&[3; 32]);
            let keys = [TrustedKey {
                kid: "aa".into(), agency: "CA-PCSGT".into(), agency_name: String::new(),
                public_key: public_hex(&key), valid_from: 0, valid_until: None, withdrawn: false,
            }];
            let text = issue(&c, &[0xaa], &key);
            prop_assert_eq!(verify(&text, &keys, 0).expect("verifies"), c);
        }
    }
}

/// The trust list: the issuer keys, signed by the national root key, with the age after which
/// an offline verifier must stop relying on it.
pub mod trust {
    use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
    use serde::{Deserialize, Serialize};

    use super::{TrustedKey, from_hex, to_hex};

    /// The demo's root key: published, not a secret (like the demo password). A demo build
    /// signs its trust list and status lists with it, so any PWA build can verify a demo
    /// server; a production server keeps its own root, and its PWA is built with that root's
    /// public key (`MOTCUA_TRUST_ROOT`).
    pub const DEMO_ROOT_SEED: [u8; 32] = *b"motcua demo trust root, public!!";

    /// The demo root's public key, hex: written out (a test derives it from the seed), so a
    /// verifier does not carry the 30 KB base-point table that deriving it takes.
    pub const DEMO_ROOT_PUBLIC: &str =
        "95325cb4eb327b5075873ea8d7803c8ffe1c4d54edd50da78927f8c56b45388c";

    /// The demo root's public key, hex.
    pub fn demo_root_public() -> String {
        DEMO_ROOT_PUBLIC.to_owned()
    }

    /// What the root signs.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct TrustList {
        /// Unix seconds.
        pub issued_at: i64,
        /// Past `issued_at + max_age_secs` an offline verifier cannot confirm anything.
        pub max_age_secs: i64,
        pub keys: Vec<TrustedKey>,
        /// The status lists in use: an offline verifier fetches and keeps each.
        #[serde(default)]
        pub status_lists: Vec<String>,
    }

    /// `GET /api/v1/trust-list`: the list as the exact JSON text signed, and the signature.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct SignedTrustList {
        /// The [`TrustList`] as JSON text: the bytes the signature covers.
        pub payload: String,
        /// Ed25519 signature of `payload`'s UTF-8 bytes by the root key, hex.
        pub signature: String,
        /// The root key's public half, hex (a verifier compares it with the one built in).
        pub root: String,
    }

    /// Why a trust list is not to be used.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TrustError {
        WrongRoot,
        BadSignature,
        Malformed,
    }

    pub fn sign(list: &TrustList, root: &SigningKey) -> SignedTrustList {
        let payload = serde_json::to_string(list).unwrap_or_default();
        SignedTrustList {
            signature: to_hex(&root.sign(payload.as_bytes()).to_bytes()),
            payload,
            root: to_hex(root.verifying_key().as_bytes()),
        }
    }

    /// Checks `signed` against the root public key `root` (hex) and reads it.
    pub fn verify(signed: &SignedTrustList, root: &str) -> Result<TrustList, TrustError> {
        if signed.root != root {
            return Err(TrustError::WrongRoot);
        }
        let key: [u8; 32] = from_hex(root)
            .and_then(|b| b.try_into().ok())
            .ok_or(TrustError::WrongRoot)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| TrustError::WrongRoot)?;
        let signature = from_hex(&signed.signature)
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or(TrustError::BadSignature)?;
        key.verify(signed.payload.as_bytes(), &signature)
            .map_err(|_| TrustError::BadSignature)?;
        serde_json::from_str(&signed.payload).map_err(|_| TrustError::Malformed)
    }

    /// How fresh a trust list is at `now` (Unix seconds).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Freshness {
        Fresh {
            age_secs: i64,
        },
        /// Past its maximum age: nothing may be shown as valid on it.
        Stale {
            age_secs: i64,
        },
    }

    pub fn freshness(list: &TrustList, now: i64) -> Freshness {
        let age_secs = (now - list.issued_at).max(0);
        if age_secs > list.max_age_secs {
            Freshness::Stale { age_secs }
        } else {
            Freshness::Fresh { age_secs }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_written_out_demo_root_is_the_seed_s_public_key() {
            let derived = SigningKey::from_bytes(&DEMO_ROOT_SEED).verifying_key();
            assert_eq!(DEMO_ROOT_PUBLIC, to_hex(derived.as_bytes()));
        }

        #[test]
        fn a_signed_list_verifies_only_with_its_root_and_unaltered() {
            let root = SigningKey::from_bytes(&[5; 32]);
            let list = TrustList {
                issued_at: 100,
                max_age_secs: 172_800,
                keys: Vec::new(),
                status_lists: vec!["https://dichvucong.gov.vn/s/1".into()],
            };
            let signed = sign(&list, &root);
            let public = to_hex(root.verifying_key().as_bytes());
            assert_eq!(verify(&signed, &public), Ok(list.clone()));
            let mut altered = signed.clone();
            altered.payload = altered.payload.replace("172800", "999999999");
            assert_eq!(verify(&altered, &public), Err(TrustError::BadSignature));
            let other = to_hex(SigningKey::from_bytes(&[6; 32]).verifying_key().as_bytes());
            assert_eq!(verify(&signed, &other), Err(TrustError::WrongRoot));
            assert_eq!(
                freshness(&list, 100 + 172_801),
                Freshness::Stale { age_secs: 172_801 }
            );
        }
    }
}

/// Status List Tokens (IETF Token Status List draft, CWT form): the compressed list signed by
/// the root key, with its address (`sub`), issue time, expiry and time to live.
pub mod status_token {
    use ciborium::Value;
    use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder};
    use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

    use super::{MAX_DEPTH, as_i64, as_text, from_hex, int};

    const SUB: i64 = 2;
    const EXP: i64 = 4;
    const IAT: i64 = 6;
    const TTL: i64 = 65_534;
    const STATUS_LIST: i64 = 65_533;
    /// The largest token read (a list of 131,072 2-bit entries compresses far below this even
    /// when half are revoked).
    pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

    /// A status list as its token says.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StatusListToken {
        pub uri: String,
        pub issued_at: i64,
        pub expires_at: i64,
        pub ttl_secs: i64,
        /// zlib-compressed, 2 bits per entry.
        pub list: Vec<u8>,
    }

    pub fn sign(token: &StatusListToken, root: &SigningKey) -> Vec<u8> {
        let claims = Value::Map(vec![
            (int(SUB), Value::Text(token.uri.clone())),
            (int(IAT), int(token.issued_at)),
            (int(EXP), int(token.expires_at)),
            (int(TTL), int(token.ttl_secs)),
            (
                int(STATUS_LIST),
                Value::Map(vec![
                    (Value::Text("bits".into()), int(2)),
                    (Value::Text("lst".into()), Value::Bytes(token.list.clone())),
                ]),
            ),
        ]);
        let mut payload = Vec::new();
        let _ = ciborium::into_writer(&claims, &mut payload);
        let protected = HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::EdDSA)
            .content_type("application/statuslist+cwt".into())
            .build();
        CoseSign1Builder::new()
            .protected(protected)
            .payload(payload)
            .create_signature(b"", |tbs| root.sign(tbs).to_bytes().to_vec())
            .build()
            .to_vec()
            .unwrap_or_default()
    }

    /// Checks a token's signature with the root public key (hex) and reads it.
    pub fn verify(bytes: &[u8], root: &str) -> Option<StatusListToken> {
        if bytes.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let key: [u8; 32] = from_hex(root)?.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&key).ok()?;
        let sign1 = CoseSign1::from_slice(bytes).ok()?;
        sign1
            .verify_signature(b"", |sig, tbs| {
                let sig = Signature::from_slice(sig).map_err(|_| ())?;
                key.verify(tbs, &sig).map_err(|_| ())
            })
            .ok()?;
        let claims: Value =
            ciborium::de::from_reader_with_recursion_limit(sign1.payload.as_deref()?, MAX_DEPTH)
                .ok()?;
        let Value::Map(claims) = claims else {
            return None;
        };
        let get = |k: i64| {
            claims
                .iter()
                .find(|(key, _)| as_i64(key) == Some(k))
                .map(|(_, v)| v)
        };
        let Some(Value::Map(list)) = get(STATUS_LIST) else {
            return None;
        };
        let lst = list
            .iter()
            .find_map(|(k, v)| match (as_text(k).as_deref(), v) {
                (Some("lst"), Value::Bytes(b)) => Some(b.clone()),
                _ => None,
            })?;
        Some(StatusListToken {
            uri: get(SUB).and_then(as_text)?,
            issued_at: get(IAT).and_then(as_i64)?,
            expires_at: get(EXP).and_then(as_i64)?,
            ttl_secs: get(TTL).and_then(as_i64).unwrap_or(0),
            list: lst,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::credential::status::{self, Status};

        #[test]
        fn a_token_reads_back_only_with_its_root() {
            let root = SigningKey::from_bytes(&[4; 32]);
            let token = StatusListToken {
                uri: "http://127.0.0.1:8080/s/1".into(),
                issued_at: 10,
                expires_at: 20,
                ttl_secs: 300,
                list: status::build(&[(7, Status::Revoked)]),
            };
            let bytes = sign(&token, &root);
            let public = crate::credential::public_hex(&root);
            let back = verify(&bytes, &public).expect("verifies");
            assert_eq!(back, token);
            assert_eq!(status::read(&back.list, 7), Some(Status::Revoked));
            let other = crate::credential::public_hex(&SigningKey::from_bytes(&[5; 32]));
            assert_eq!(verify(&bytes, &other), None);
        }
    }
}
