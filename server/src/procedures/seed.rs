//! The catalogue as published data: one TOML file per procedure under `server/seed/procedures/`,
//! built into the binary and upserted at start, so adding a procedure needs no Rust change.

use anyhow::Context;
use include_dir::{Dir, include_dir};
use motcua_shared::procedure::ProcedureDetail;
use serde::Deserialize;

use crate::store::Store;

static SEED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/seed/procedures");

#[derive(Deserialize)]
struct SeedFile {
    /// Place in the published catalogue.
    position: i64,
    #[serde(flatten)]
    procedure: ProcedureDetail,
}

/// Every seeded procedure with its position, checked: codes unique, online fee never above the
/// counter fee.
pub fn load_seed() -> anyhow::Result<Vec<(i64, ProcedureDetail)>> {
    let mut out: Vec<(i64, ProcedureDetail)> = Vec::new();
    for file in SEED
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
    {
        let name = file.path().display().to_string();
        let text = file
            .contents_utf8()
            .with_context(|| format!("{name} is not UTF-8"))?;
        let seed: SeedFile = toml::from_str(text).with_context(|| format!("reading {name}"))?;
        let detail = seed.procedure;
        let p = &detail.procedure;
        anyhow::ensure!(
            p.online_fee_vnd <= p.fee_vnd,
            "{name}: the online fee is above the counter fee"
        );
        for check in &detail.eligibility {
            anyhow::ensure!(
                crate::dossiers::eligibility::KNOWN_CHECKS.contains(&check.as_str()),
                "{name}: unknown eligibility check {check}"
            );
        }
        if let Some(form) = &detail.form {
            form.check()
                .map_err(|e| anyhow::anyhow!("{name}: the form is not valid: {e}"))?;
            for doc in &p.required_documents {
                let asked = form.fields.iter().any(|f| {
                    matches!(&f.kind, motcua_shared::eform::FieldKind::Document { document } if *document == doc.code)
                });
                let provided = match doc.provided_by.as_deref() {
                    None => false,
                    Some("form") => true,
                    Some(source) => form
                        .fields
                        .iter()
                        .any(|f| f.source.as_deref() == Some(source)),
                };
                anyhow::ensure!(
                    asked || provided,
                    "{name}: required document {} is neither asked by a document field nor provided by the form or a register field",
                    doc.code
                );
            }
            let jurisdiction = detail.jurisdiction.as_deref().and_then(|j| {
                form.fields
                    .iter()
                    .find(|f| f.name == j && f.required && f.when.is_none())
            });
            anyhow::ensure!(
                jurisdiction.is_some_and(|f| f.kind == motcua_shared::eform::FieldKind::Address),
                "{name}: `jurisdiction` must name a required, unconditional address field of the form"
            );
            for field in &form.fields {
                if let Some(source) = &field.source {
                    anyhow::ensure!(
                        super::prefill::KNOWN_SOURCES.contains(&source.as_str())
                            || super::prefill::is_warehouse_source(source),
                        "{name}: field {} names an unknown source {source}",
                        field.name
                    );
                }
            }
        }
        anyhow::ensure!(
            out.iter().all(|(_, other)| other.procedure.code != p.code),
            "{name}: procedure code {} is used twice",
            p.code
        );
        out.push((seed.position, detail));
    }
    out.sort_by_key(|(position, d)| (*position, d.procedure.code.clone()));
    Ok(out)
}

/// Upserts the seeded catalogue. Idempotent; several instances may do it at once.
pub async fn seed_catalogue(store: &Store) -> anyhow::Result<usize> {
    let seed = load_seed()?;
    for (position, procedure) in &seed {
        store.upsert_procedure(procedure, *position).await?;
    }
    Ok(seed.len())
}

#[cfg(test)]
mod tests {
    use motcua_shared::procedure::OnlineLevel;

    #[test]
    fn the_seeded_catalogue_reads_and_has_both_online_levels() {
        let seed = super::load_seed().expect("seed reads");
        assert!(seed.len() >= 8, "{} procedures", seed.len());
        assert!(
            seed.iter()
                .any(|(_, d)| d.procedure.online_level == OnlineLevel::Partial)
        );
        assert!(
            seed.iter()
                .any(|(_, d)| d.procedure.online_level == OnlineLevel::Full)
        );
        assert!(
            seed.iter()
                .all(|(_, d)| !d.procedure.name.vi.is_empty() && !d.procedure.name.en.is_empty())
        );
    }
}
