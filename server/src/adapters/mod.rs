//! Clients of the national systems the platform reads: JSON over HTTP with the platform's API
//! key, as through the national data-exchange platform. With the sandbox on and no address
//! configured, they reach the embedded sandboxes over HTTP like any other server.

use std::time::Duration;

use anyhow::Context;
use motcua_shared::{
    Cccd,
    registry::{DrivingLicence, HealthCertificate, HealthInsuranceCard, PopulationRecord},
};
use serde::de::DeserializeOwned;

use crate::Config;

/// Why a national system gave no answer. Its text is logged: it never carries the request's
/// URL, whose query names the person (`holder_cccd=…`).
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    #[error("{0} did not answer: {1}")]
    Unavailable(&'static str, String),
    #[error("{0} refused the request with status {1}")]
    Refused(&'static str, u16),
    #[error("{0} answered something unreadable: {1}")]
    Malformed(&'static str, String),
}

struct Endpoint {
    name: &'static str,
    base: Option<String>,
}

/// Where the registers are when none is configured: the embedded sandboxes in a demo build
/// (`base_url` + `/population`, `/licences`, `/health`, `/insurance`), with their key.
#[derive(Debug, Clone)]
pub struct RegistryDefaults {
    pub base_url: String,
    pub api_key: String,
}

/// The registers the platform reads.
pub struct Registries {
    http: reqwest::Client,
    api_key: String,
    population: Endpoint,
    licences: Endpoint,
    health: Endpoint,
    insurance: Endpoint,
    tax: Endpoint,
}

impl Registries {
    pub fn new(config: &Config, defaults: Option<&RegistryDefaults>) -> anyhow::Result<Registries> {
        let pick = |name: &'static str, configured: &str, path: &str| Endpoint {
            name,
            base: if !configured.is_empty() {
                Some(configured.trim_end_matches('/').to_owned())
            } else {
                defaults.map(|d| format!("{}{path}", d.base_url.trim_end_matches('/')))
            },
        };
        let api_key = match (config.registry_api_key.expose(), defaults) {
            ("", Some(defaults)) => defaults.api_key.clone(),
            (key, _) => key.to_owned(),
        };
        Ok(Registries {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .context("an HTTP client for the national registers")?,
            api_key,
            population: pick(
                "the population database",
                &config.population_registry_url,
                "/population",
            ),
            licences: pick(
                "the driving-licence register",
                &config.licence_registry_url,
                "/licences",
            ),
            health: pick(
                "the health-certificate register",
                &config.health_registry_url,
                "/health",
            ),
            insurance: pick(
                "the social-insurance register",
                &config.insurance_registry_url,
                "/insurance",
            ),
            tax: pick("the tax authority", &config.tax_authority_url, "/tax"),
        })
    }

    /// GET `path` from `endpoint`; 404 is `None`.
    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        path: &str,
    ) -> Result<Option<T>, AdapterError> {
        let base = endpoint
            .base
            .as_deref()
            .ok_or(AdapterError::NotConfigured(endpoint.name))?;
        let response = self
            .http
            .get(format!("{base}{path}"))
            .header("x-api-key", &self.api_key)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| AdapterError::Unavailable(endpoint.name, e.without_url().to_string()))?;
        match response.status().as_u16() {
            200 => {
                response.json::<T>().await.map(Some).map_err(|e| {
                    AdapterError::Malformed(endpoint.name, e.without_url().to_string())
                })
            }
            404 => Ok(None),
            status => Err(AdapterError::Refused(endpoint.name, status)),
        }
    }

    /// The person's record in the national population database.
    pub async fn population_record(
        &self,
        cccd: &Cccd,
    ) -> Result<Option<PopulationRecord>, AdapterError> {
        let record: Option<PopulationRecord> = self
            .get(&self.population, &format!("/v1/people/{}", cccd.as_str()))
            .await?;
        // Never trust an answer about someone else.
        Ok(record.filter(|r| r.cccd == cccd.as_str()))
    }

    /// The driving licences the person holds.
    pub async fn licences_of(&self, cccd: &Cccd) -> Result<Vec<DrivingLicence>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct List {
            licences: Vec<DrivingLicence>,
        }
        let list: Option<List> = self
            .get(
                &self.licences,
                &format!("/v1/licences?holder_cccd={}", cccd.as_str()),
            )
            .await?;
        Ok(list
            .map(|l| l.licences)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.holder_cccd == cccd.as_str())
            .collect())
    }

    /// The person's health-insurance cards, the one valid longest first.
    pub async fn insurance_cards_of(
        &self,
        cccd: &Cccd,
    ) -> Result<Vec<HealthInsuranceCard>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct List {
            cards: Vec<HealthInsuranceCard>,
        }
        let list: Option<List> = self
            .get(
                &self.insurance,
                &format!("/v1/cards?holder_cccd={}", cccd.as_str()),
            )
            .await?;
        let mut found: Vec<HealthInsuranceCard> = list
            .map(|l| l.cards)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.holder_cccd == cccd.as_str())
            .collect();
        // No end date sorts last as a string ("" < any date), so compare it as the longest.
        found.sort_by(|a, b| {
            let end =
                |c: &HealthInsuranceCard| c.valid_until.clone().unwrap_or_else(|| "9999".into());
            end(b).cmp(&end(a))
        });
        Ok(found)
    }

    /// The person's drivers' health certificates, newest examination first.
    pub async fn health_certificates_of(
        &self,
        cccd: &Cccd,
    ) -> Result<Vec<HealthCertificate>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct List {
            certificates: Vec<HealthCertificate>,
        }
        let list: Option<List> = self
            .get(
                &self.health,
                &format!("/v1/certificates?holder_cccd={}", cccd.as_str()),
            )
            .await?;
        let mut found: Vec<HealthCertificate> = list
            .map(|l| l.certificates)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.holder_cccd == cccd.as_str())
            .collect();
        found.sort_by(|a, b| b.examined_on.cmp(&a.examined_on));
        Ok(found)
    }

    /// The electronic birth notices where the person is a parent, newest birth first.
    pub async fn birth_notices_of(
        &self,
        cccd: &Cccd,
    ) -> Result<Vec<motcua_shared::registry::BirthNotice>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct List {
            birth_notices: Vec<motcua_shared::registry::BirthNotice>,
        }
        let list: Option<List> = self
            .get(
                &self.health,
                &format!("/v1/birth-notices?parent_cccd={}", cccd.as_str()),
            )
            .await?;
        let mut found: Vec<motcua_shared::registry::BirthNotice> = list
            .map(|l| l.birth_notices)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| {
                b.mother_cccd == cccd.as_str() || b.father_cccd.as_deref() == Some(cccd.as_str())
            })
            .collect();
        found.sort_by(|a, b| b.child_birth_date.cmp(&a.child_birth_date));
        Ok(found)
    }

    /// A driver's health certificate by its code.
    pub async fn health_certificate(
        &self,
        code: &str,
    ) -> Result<Option<HealthCertificate>, AdapterError> {
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Ok(None);
        }
        self.get(&self.health, &format!("/v1/certificates/{code}"))
            .await
    }

    /// The land-related payment notices of the organisation with `tax_code`.
    pub async fn land_notices_of(
        &self,
        tax_code: &motcua_shared::TaxCode,
    ) -> Result<Vec<motcua_shared::registry::LandNotice>, AdapterError> {
        #[derive(serde::Deserialize)]
        struct List {
            notices: Vec<motcua_shared::registry::LandNotice>,
        }
        let list: Option<List> = self
            .get(
                &self.tax,
                &format!("/v1/notices?tax_code={}", tax_code.as_str()),
            )
            .await?;
        // Never trust an answer about another organisation.
        Ok(list
            .map(|l| l.notices)
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n.tax_code == tax_code.as_str())
            .collect())
    }

    /// Tells the tax authority that notices were paid. It takes each payment once, so a retry
    /// is harmless; any 2xx is its acknowledgement.
    pub async fn report_notice_payment(
        &self,
        payment: &motcua_shared::registry::NoticePayment,
    ) -> Result<(), AdapterError> {
        let base = self
            .tax
            .base
            .as_deref()
            .ok_or(AdapterError::NotConfigured(self.tax.name))?;
        let response = self
            .http
            .post(format!("{base}/v1/payments"))
            .header("x-api-key", &self.api_key)
            .json(payment)
            .send()
            .await
            .map_err(|e| AdapterError::Unavailable(self.tax.name, e.without_url().to_string()))?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(AdapterError::Refused(self.tax.name, status)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_register_that_does_not_answer_leaves_no_cccd_in_the_error() {
        let config = crate::Config {
            licence_registry_url: "http://127.0.0.1:9".into(),
            ..crate::Config::default()
        };
        let registries = super::Registries::new(&config, None).expect("clients");
        let cccd = motcua_shared::Cccd::parse("001088012345").expect("a CCCD");
        let err = registries
            .licences_of(&cccd)
            .await
            .expect_err("nothing listens there");
        let text = format!("{err}");
        assert!(text.contains("did not answer"), "{text}");
        assert!(!text.contains("001088012345"), "{text}");
    }
}
