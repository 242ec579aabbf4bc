//! The synthetic people of the sandboxes, from `server/seed/sandbox/people.toml`.

use anyhow::Context;
use motcua_shared::{Cccd, identity::Acr};
use serde::Deserialize;

/// One synthetic person. `password` exists only for the sandbox e-ID sign-in page.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoPerson {
    pub cccd: Cccd,
    pub password: String,
    pub name: String,
    pub birthdate: String,
    pub sex: String,
    pub acr: Acr,
    /// Permanent residence.
    pub address: motcua_shared::units::Address,
    #[serde(default)]
    pub household_id: String,
    #[serde(default)]
    pub household_relation: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// What the population register holds beyond the e-ID: birth place, family, civil status.
    #[serde(default)]
    pub civil: CivilRecord,
    /// Demo officers: where they work.
    #[serde(default)]
    pub officer: Option<crate::identity::roles::Assignment>,
    #[serde(default)]
    pub admin: bool,
}

/// A person's civil record in the population register.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CivilRecord {
    pub birth_place: Option<String>,
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    pub father_name: Option<String>,
    pub mother_name: Option<String>,
    pub spouse_name: Option<String>,
    pub marital_status: Option<String>,
}

/// A synthetic organisation with the people who may act for it.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoOrganisation {
    pub tax_code: motcua_shared::TaxCode,
    pub name: String,
    pub address: String,
    pub representatives: Vec<DemoRepresentative>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoRepresentative {
    pub cccd: Cccd,
    pub title: String,
}

/// A document already in a demo person's warehouse.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoDocument {
    pub holder_cccd: Cccd,
    pub code: String,
    pub title: String,
    /// `upload` or `issued`.
    pub provenance: String,
    #[serde(default)]
    pub issuer: Option<String>,
    /// A file in `seed/sandbox/documents/`.
    pub file: String,
}

/// The sign-in hook that fills demo people's warehouses.
pub struct SeedWarehouse;

#[async_trait::async_trait]
impl crate::identity::SignInHook for SeedWarehouse {
    async fn signed_in(
        &self,
        state: &crate::AppState,
        person: &crate::identity::session::Person,
    ) -> anyhow::Result<()> {
        seed_warehouse(&state.store, &state.blobs, person).await?;
        // Demo people start with their current licence and health-insurance card in the
        // wallet, from the registers; a register that does not answer never stops the sign-in.
        if state.config.sandbox_seed_wallet
            && state.store.credentials_of(&person.id).await?.is_empty()
        {
            if let Err(e) = crate::wallet::licence_from_register(state, person).await {
                tracing::warn!(error = %e, "the demo licence was not added to the wallet");
            }
            if let Err(e) =
                crate::wallet::registers::insurance_card_from_register(state, person).await
            {
                tracing::warn!(error = %e, "the demo insurance card was not added to the wallet");
            }
        }
        Ok(())
    }
}

static DOCUMENTS: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/seed/sandbox/documents");

/// Fills a demo person's warehouse at their sign-in, once: their documents of the seed that
/// are not there yet. Through the same checks as an upload (content type from the content).
pub async fn seed_warehouse(
    store: &crate::store::Store,
    blobs: &crate::warehouse::blobs::BlobStore,
    person: &crate::identity::session::Person,
) -> anyhow::Result<()> {
    let mine: Vec<DemoDocument> = file()?
        .document
        .into_iter()
        .filter(|d| d.holder_cccd == person.cccd)
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let present = store.warehouse_of(&person.id).await?;
    for doc in mine {
        if present
            .iter()
            .any(|i| i.document_code == doc.code && i.title == doc.title)
        {
            continue;
        }
        let bytes = DOCUMENTS
            .get_file(&doc.file)
            .with_context(|| format!("seed document {} is missing", doc.file))?
            .contents();
        let content_type = crate::warehouse::sniff(bytes)
            .with_context(|| format!("seed document {} is not a PDF, JPEG or PNG", doc.file))?;
        let sha = blobs.put(bytes).await?;
        store
            .add_item(&crate::warehouse::NewItem {
                person_id: &person.id,
                provenance: &doc.provenance,
                document_code: &doc.code,
                title: &doc.title,
                sha256: &sha,
                content_type,
                size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                issuer: doc.issuer.as_deref(),
                dossier_id: None,
            })
            .await?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct PeopleFile {
    person: Vec<DemoPerson>,
    #[serde(default)]
    organisation: Vec<DemoOrganisation>,
    #[serde(default)]
    licence: Vec<motcua_shared::registry::DrivingLicence>,
    #[serde(default)]
    health_certificate: Vec<motcua_shared::registry::HealthCertificate>,
    #[serde(default)]
    document: Vec<DemoDocument>,
    #[serde(default)]
    birth_notice: Vec<motcua_shared::registry::BirthNotice>,
    #[serde(default)]
    insurance_card: Vec<motcua_shared::registry::HealthInsuranceCard>,
}

/// The electronic birth notices of the health register.
pub fn birth_notices() -> anyhow::Result<Vec<motcua_shared::registry::BirthNotice>> {
    Ok(file()?.birth_notice)
}

/// The driving-licence register's records.
pub fn licences() -> anyhow::Result<Vec<motcua_shared::registry::DrivingLicence>> {
    Ok(file()?.licence)
}

/// The social-insurance register's health-insurance cards.
pub fn insurance_cards() -> anyhow::Result<Vec<motcua_shared::registry::HealthInsuranceCard>> {
    Ok(file()?.insurance_card)
}

/// The health-certificate register's records.
pub fn health_certificates() -> anyhow::Result<Vec<motcua_shared::registry::HealthCertificate>> {
    Ok(file()?.health_certificate)
}

fn file() -> anyhow::Result<PeopleFile> {
    toml::from_str(include_str!("../../seed/sandbox/people.toml"))
        .context("reading seed/sandbox/people.toml")
}

pub fn organisations() -> anyhow::Result<Vec<DemoOrganisation>> {
    Ok(file()?.organisation)
}

/// Grants the demo roles of the seed (officers, an admin). Idempotent.
pub async fn grant_demo_roles(
    store: &crate::store::Store,
    people: &[DemoPerson],
) -> anyhow::Result<()> {
    use motcua_shared::identity::Role;
    for person in people {
        if let Some(assignment) = &person.officer {
            store
                .grant_role(&person.cccd, Role::Officer, Some(assignment), None)
                .await?;
        }
        if person.admin {
            store
                .grant_role(&person.cccd, Role::Admin, None, None)
                .await?;
        }
    }
    for org in organisations()? {
        store
            .upsert_organisation(&org.tax_code, &org.name, &org.address)
            .await?;
        for rep in &org.representatives {
            store
                .add_representative(&org.tax_code, &rep.cccd, &rep.title)
                .await?;
        }
    }
    Ok(())
}

pub fn load() -> anyhow::Result<Vec<DemoPerson>> {
    Ok(file()?.person)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_demo_address_and_officer_unit_is_in_the_unit_list() {
        for person in super::load().expect("reads") {
            assert!(person.address.is_consistent(), "{}", person.name);
            if let Some(officer) = &person.officer {
                let unit = motcua_shared::units::get(&officer.unit_code).expect("listed");
                assert_eq!(unit.level, officer.level, "{}", person.name);
            }
        }
    }

    #[test]
    fn the_demo_people_have_both_assurance_levels() {
        let people = super::load().expect("reads");
        assert!(people.len() >= 4);
        assert!(
            people
                .iter()
                .any(|p| p.acr == motcua_shared::identity::Acr::Level1)
        );
        assert!(
            people
                .iter()
                .any(|p| p.acr == motcua_shared::identity::Acr::Level2)
        );
    }
}
