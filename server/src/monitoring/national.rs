//! Clients of the national systems this platform reports to: the National Public Service Portal
//! (JSON over HTTPS: "sync dossier", then "update progress") and EMC, the system measuring online
//! public service provision (a form-encoded POST per dossier action, answered 204). Field names
//! are the portal's own, as one-stop systems send them (`MaHoSo`, `TrangThaiHoSo`, …). With the
//! sandbox on and no address configured, they reach the embedded sandboxes over HTTP.

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::Config;

/// A dossier as the national portal keeps it ("sync dossier"). Dates are `yyyyMMddHHmmss` in
/// Vietnam's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PortalDossier {
    /// Unique per message: the portal takes a message once, however often it is sent.
    pub message_id: String,
    pub MaHoSo: String,
    pub MaTTHC: String,
    pub TenTTHC: String,
    pub MaLinhVuc: String,
    pub ChuHoSo: String,
    /// 1 a citizen, 2 an organisation.
    pub LoaiDoiTuong: u8,
    /// The citizen's ID number or the organisation's tax code.
    pub MaDoiTuong: String,
    pub NgayNopHoSo: String,
    pub NgayTiepNhan: Option<String>,
    pub NgayHenTra: Option<String>,
    pub NgayTra: Option<String>,
    /// The portal's status code (see `decide::portal_status`).
    pub TrangThaiHoSo: u8,
    /// 2: filed online (1 at the counter, 3 by post).
    pub KenhThucHien: u8,
    /// How the result is handed over: 0 at the desk or electronically, 1 by post.
    pub HinhThuc: u8,
    pub CoQuanXuLy: String,
    pub DonViXuLy: String,
    pub DanhSachLePhi: Vec<PortalFee>,
    pub DaThanhToanTrucTuyen: bool,
    /// The applicant signed in with the national e-identity (VNeID).
    pub XacThucVNeID: bool,
    /// Required documents replaced by data the state holds (their codes).
    pub ThanhPhanThayTheBangDuLieu: Vec<String>,
    pub DanhSachGiayToKetQua: Vec<PortalResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PortalFee {
    pub TenPhiLePhi: String,
    pub MaPhiLePhi: String,
    /// 1 online, 2 at the desk.
    pub HinhThucThu: u8,
    pub Gia: i64,
    pub DaThu: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PortalResult {
    pub MaGiayTo: String,
    pub TenGiayTo: String,
    /// A signed electronic result with legal value (a credential in the person's wallet).
    pub CoGiaTriPhapLy: bool,
}

/// One step of a dossier's processing ("update progress").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct PortalProgress {
    pub message_id: String,
    pub MaHoSo: String,
    /// The dossier's n-th transition: the portal keeps them in this order.
    pub ThuTu: i64,
    pub NguoiXuLy: String,
    pub ChucDanh: String,
    pub ThoiDiemXuLy: String,
    pub PhongBanXuLy: String,
    pub NoiDungXuLy: String,
    pub TrangThai: u8,
    pub NgayBatDau: Option<String>,
    pub NgayKetThucTheoQuyDinh: Option<String>,
}

/// One dossier action as EMC counts it (sent form-encoded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmcAction {
    /// This platform's id of the action, so that a resend is counted once (not in the forms
    /// one-stop systems are known to send; a receiver that does not know it ignores it).
    pub action_id: String,
    pub code_profile: String,
    pub site_id: String,
    #[serde(rename = "codeTTHC")]
    pub code_tthc: String,
    #[serde(rename = "nameTTHC")]
    pub name_tthc: String,
    /// 0 other, 1 received, 2 processing, 3 done.
    pub status: u8,
    /// 1 online, 2 at the counter.
    pub forms_reception: u8,
    /// 1 online, 2 direct (or none).
    pub forms_payments: u8,
    /// The procedure's online level: 4 full process online, 3 partly online.
    pub level: u8,
    #[serde(rename = "isFromDVCQG")]
    pub is_from_dvcqg: u8,
    #[serde(rename = "isDVCBC")]
    pub is_dvcbc: u8,
}

/// What a national system holds of one dossier, as it reports it for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldDossier {
    pub number: String,
    /// How many of its changes it took.
    pub changes: i64,
    /// Its last status as that system names it.
    pub status: u8,
}

/// A national system's report of what it holds for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub dossiers: Vec<HeldDossier>,
}

/// Why a national system did not take a message. Its text is logged; it never carries
/// personal data.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0} did not answer: {1}")]
    Unavailable(&'static str, String),
    #[error("{system} answered {status}")]
    Refused {
        system: &'static str,
        status: u16,
        retry_after: Option<String>,
    },
}

/// Where the national systems are when none is configured: the embedded sandboxes.
#[derive(Debug, Clone)]
pub struct NationalDefaults {
    pub portal_url: String,
    pub emc_url: String,
    pub api_key: String,
}

/// The platform's clients of the national portal and EMC.
pub struct National {
    http: reqwest::Client,
    api_key: String,
    pub portal_url: Option<String>,
    pub emc_url: Option<String>,
    pub site_id: String,
}

pub const PORTAL: &str = "the National Public Service Portal";
pub const EMC: &str = "EMC";

impl National {
    pub fn new(config: &Config, defaults: Option<&NationalDefaults>) -> anyhow::Result<National> {
        let pick = |configured: &str, default: Option<&str>| {
            if configured.is_empty() {
                default.map(|d| d.trim_end_matches('/').to_owned())
            } else {
                Some(configured.trim_end_matches('/').to_owned())
            }
        };
        let api_key = match (config.registry_api_key.expose(), defaults) {
            ("", Some(d)) => d.api_key.clone(),
            (key, _) => key.to_owned(),
        };
        Ok(National {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("an HTTP client for the national systems")?,
            api_key,
            portal_url: pick(
                &config.national_portal_url,
                defaults.map(|d| d.portal_url.as_str()),
            ),
            emc_url: pick(&config.emc_url, defaults.map(|d| d.emc_url.as_str())),
            site_id: config.emc_site_id.clone(),
        })
    }

    async fn answer(
        system: &'static str,
        sent: Result<reqwest::Response, reqwest::Error>,
        expected: fn(u16) -> bool,
    ) -> Result<(), SendError> {
        let response =
            sent.map_err(|e| SendError::Unavailable(system, e.without_url().to_string()))?;
        let status = response.status().as_u16();
        if expected(status) {
            return Ok(());
        }
        Err(SendError::Refused {
            system,
            status,
            retry_after: response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        })
    }

    fn portal(&self) -> Result<&str, SendError> {
        self.portal_url
            .as_deref()
            .ok_or(SendError::Unavailable(PORTAL, "not configured".into()))
    }

    /// "Sync dossier": the dossier as it is now. Acknowledged by any 2xx.
    pub async fn sync_dossier(&self, dossier: &PortalDossier) -> Result<(), SendError> {
        let sent = self
            .http
            .post(format!("{}/v1/dossiers", self.portal()?))
            .header("x-api-key", &self.api_key)
            .json(dossier)
            .send()
            .await;
        Self::answer(PORTAL, sent, |s| (200..300).contains(&s)).await
    }

    /// "Update progress": one step of the dossier's processing.
    pub async fn update_progress(&self, progress: &PortalProgress) -> Result<(), SendError> {
        let number: String =
            url::form_urlencoded::byte_serialize(progress.MaHoSo.as_bytes()).collect();
        let sent = self
            .http
            .post(format!("{}/v1/dossiers/{number}/progress", self.portal()?))
            .header("x-api-key", &self.api_key)
            .json(progress)
            .send()
            .await;
        Self::answer(PORTAL, sent, |s| (200..300).contains(&s)).await
    }

    /// One dossier action to EMC: success is 204.
    pub async fn emc_action(&self, action: &EmcAction) -> Result<(), SendError> {
        let base = self
            .emc_url
            .as_deref()
            .ok_or(SendError::Unavailable(EMC, "not configured".into()))?;
        let sent = self
            .http
            .post(format!("{base}/api/dossier-actions"))
            .header("x-api-key", &self.api_key)
            .form(action)
            .send()
            .await;
        Self::answer(EMC, sent, |s| s == 204).await
    }

    /// What `system` (its base URL) holds of the dossiers it took changes of in `[from, to)`
    /// (Unix ms), for reconciliation.
    pub async fn held(&self, base: &str, from: i64, to: i64) -> anyhow::Result<Held> {
        let response = self
            .http
            .get(format!("{base}/v1/reconciliation?from={from}&to={to}"))
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{base} did not answer: {}", e.without_url()))?;
        anyhow::ensure!(
            response.status().is_success(),
            "{base} answered {} to the reconciliation query",
            response.status()
        );
        response
            .json()
            .await
            .context("reading a national system's reconciliation report")
    }
}
