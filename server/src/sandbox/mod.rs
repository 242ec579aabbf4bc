//! Embedded stand-ins for the national systems, mounted under `/sandbox/…` when `sandbox` is
//! on (the demo and the tests; never production). Each speaks its system's real protocol, so the
//! server reaches it through the same adapter code as the real one.

pub mod history;
pub mod idp;
pub mod national;
pub mod people;
pub mod registries;
pub mod tax;
pub mod vnpay;

use std::sync::Arc;

use axum::Router;

use crate::{AppState, Config};

/// The sandboxes of one server instance.
pub struct Sandbox {
    pub idp: Arc<idp::SandboxIdp>,
    pub registries: Arc<registries::SandboxRegistries>,
    pub gateway: Arc<vnpay::SandboxGateway>,
    pub tax: Arc<tax::SandboxTax>,
    pub national: Arc<national::SandboxNational>,
}

impl Sandbox {
    /// This server's registration with the sandbox e-ID provider.
    pub fn provider_registration(&self) -> crate::identity::oidc::ProviderRegistration {
        crate::identity::oidc::ProviderRegistration {
            issuer: self.idp.issuer.clone(),
            client_id: self.idp.client.id.clone(),
            client_secret: self.idp.client.secret.clone(),
        }
    }

    /// Where the sandbox registers answer, and their key.
    pub fn registry_defaults(&self, config: &Config) -> crate::adapters::RegistryDefaults {
        crate::adapters::RegistryDefaults {
            base_url: format!("{}/sandbox", config.public_url.trim_end_matches('/')),
            api_key: self.registries.api_key.clone(),
        }
    }

    /// Where the sandbox payment gateway answers, and the merchant's registration with it.
    pub fn gateway_defaults(&self, config: &Config) -> crate::payments::GatewayDefaults {
        let base = format!("{}/sandbox/vnpay", config.public_url.trim_end_matches('/'));
        crate::payments::GatewayDefaults {
            pay_url: format!("{base}/paymentv2/vpcpay.html"),
            query_url: format!("{base}/merchant_webapi/api/transaction"),
            settlement_url: format!("{base}/settlement"),
            tmn_code: self.gateway.tmn_code.clone(),
            hash_secret: self.gateway.hash_secret.clone(),
        }
    }

    /// Where the sandbox national portal and EMC answer, and their key.
    pub fn national_defaults(
        &self,
        config: &Config,
    ) -> crate::monitoring::national::NationalDefaults {
        let base = format!("{}/sandbox", config.public_url.trim_end_matches('/'));
        crate::monitoring::national::NationalDefaults {
            portal_url: format!("{base}/dvcqg"),
            emc_url: format!("{base}/emc"),
            api_key: self.registries.api_key.clone(),
        }
    }

    /// Fills a demo person's warehouse with the documents of their demo life at sign-in.
    pub fn sign_in_hook(&self) -> Arc<dyn crate::identity::SignInHook> {
        Arc::new(people::SeedWarehouse)
    }

    pub fn load(config: &Config) -> anyhow::Result<Sandbox> {
        // A demo server signs its trust data with the published demo root, which every PWA
        // build trusts unless built for another root.
        let root = config
            .data_dir
            .join("keys")
            .join(format!("{}.key", crate::wallet::keys::ROOT_KID));
        if !root.exists() {
            std::fs::create_dir_all(config.data_dir.join("keys"))?;
            crate::security::write_private_file(
                &root,
                motcua_shared::credential::to_hex(
                    &motcua_shared::credential::trust::DEMO_ROOT_SEED,
                )
                .as_bytes(),
            )?;
        }
        let people = people::load()?;
        let idp = idp::SandboxIdp::load(config, people.clone())?;
        let registries =
            registries::SandboxRegistries::load(idp.derived_secret("registries"), people)?;
        let gateway = vnpay::SandboxGateway::new(
            "MOTCUA01".into(),
            idp.derived_secret("vnpay"),
            format!(
                "{}/api/v1/payments/vnpay/ipn",
                config.public_url.trim_end_matches('/')
            ),
        )?;
        let tax = tax::SandboxTax::load(
            registries.api_key.clone(),
            motcua_shared::calendar::Day::of_instant(crate::store::now_ms()),
        )?;
        let national = national::SandboxNational::new(registries.api_key.clone());
        Ok(Sandbox {
            national: Arc::new(national),
            idp: Arc::new(idp),
            registries: Arc::new(registries),
            gateway: Arc::new(gateway),
            tax: Arc::new(tax),
        })
    }

    pub fn routes(&self) -> Router<AppState> {
        Router::new()
            .nest("/sandbox/idp", idp::routes(self.idp.clone()))
            .merge(registries::routes(self.registries.clone()))
            .merge(vnpay::routes(self.gateway.clone()))
            .merge(tax::routes(self.tax.clone()))
            .merge(national::routes(self.national.clone()))
    }
}
