//! Once-only: a procedure's e-form pre-filled from the national registers. Values from the state
//! are marked verified and locked (the server checks them again at submission); each register
//! read is written to the person's data-access log.

use std::collections::{BTreeMap, BTreeSet};

use motcua_shared::{
    Cccd,
    calendar::Day,
    eform::Form,
    registry::{DrivingLicence, HealthCertificate, PopulationRecord, Prefill, PrefilledValue},
};
use serde_json::Value;

use crate::{
    adapters::Registries,
    identity::data_access::Access,
    store::{Store, now_ms},
};

/// The sources a form field may name.
pub const KNOWN_SOURCES: [&str; 22] = [
    "identity.cccd",
    "population.full_name",
    "population.birth_date",
    "population.sex",
    "population.permanent_residence",
    "population.residence_address",
    "population.household_id",
    "population.phone",
    "population.birth_place",
    "population.ethnicity",
    "population.nationality",
    "population.father_name",
    "population.mother_name",
    "population.spouse_name",
    "population.marital_status",
    "licences.number",
    "licences.classes",
    "health.code",
    "births.code",
    "births.child_birth_date",
    "births.child_sex",
    "births.birth_place",
];

/// Sources the person may still change (a suggestion, not a verified fact).
const EDITABLE_SOURCES: [&str; 1] = ["population.phone"];

/// Whether a value from `source` is verified by the state and locked: not a suggestion the
/// person may change (the phone, a document chosen from the warehouse).
pub fn is_locked_source(source: &str) -> bool {
    !EDITABLE_SOURCES.contains(&source) && !is_warehouse_source(source)
}

/// What the registers answered for one person.
#[derive(Debug, Default)]
pub struct RegisterData {
    pub population: Option<PopulationRecord>,
    pub licence: Option<DrivingLicence>,
    pub health: Option<HealthCertificate>,
    /// The newest electronic birth notice where the person is a parent.
    pub birth: Option<motcua_shared::registry::BirthNotice>,
    /// Registers that did not answer.
    pub unavailable: Vec<&'static str>,
    /// The person's warehouse, newest first, when the form takes documents from it.
    pub warehouse: Vec<motcua_shared::warehouse::WarehouseItem>,
}

/// Whether `source` names a document of the person's warehouse: `warehouse.<document code>`.
pub fn is_warehouse_source(source: &str) -> bool {
    source.strip_prefix("warehouse.").is_some_and(|code| {
        !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// Adds the person's warehouse to `data` when `form` asks for documents or takes any from it.
pub async fn read_warehouse(
    store: &Store,
    person_id: &str,
    form: &Form,
    data: &mut RegisterData,
) -> anyhow::Result<()> {
    let wanted = form.fields.iter().any(|f| {
        f.source.as_deref().is_some_and(is_warehouse_source)
            || matches!(f.kind, motcua_shared::eform::FieldKind::Document { .. })
    });
    if wanted {
        data.warehouse = store.warehouse_of(person_id).await?;
    }
    Ok(())
}

/// The registers a form needs (`population`, `licences`, `health`).
fn registers_needed(form: &Form) -> BTreeSet<&str> {
    form.fields
        .iter()
        .filter_map(|f| f.source.as_deref())
        .filter_map(|s| s.split('.').next())
        .filter(|r| *r != "identity")
        .collect()
}

/// The licence a renewal is about: one with an expiry (car classes) first, else the first.
fn main_licence(mut licences: Vec<DrivingLicence>) -> Option<DrivingLicence> {
    licences.sort_by_key(|l| l.expires_on.is_none());
    licences.into_iter().next()
}

/// Reads the registers `form` needs for `cccd`, and logs each read in the person's log.
pub async fn read_registers(
    registries: &Registries,
    store: &Store,
    cccd: &Cccd,
    form: &Form,
    purpose: &str,
) -> anyhow::Result<RegisterData> {
    let needed = registers_needed(form);
    let today = Day::of_instant(now_ms());
    let (population, licences, health, births) = tokio::join!(
        async {
            if needed.contains("population") {
                Some(registries.population_record(cccd).await)
            } else {
                None
            }
        },
        async {
            if needed.contains("licences") {
                Some(registries.licences_of(cccd).await)
            } else {
                None
            }
        },
        async {
            if needed.contains("health") {
                Some(registries.health_certificates_of(cccd).await)
            } else {
                None
            }
        },
        async {
            if needed.contains("births") {
                Some(registries.birth_notices_of(cccd).await)
            } else {
                None
            }
        },
    );
    let mut data = RegisterData::default();
    let mut read: Vec<(&str, &str)> = Vec::new();
    match population {
        Some(Ok(record)) => {
            data.population = record;
            read.push((
                "CSDL quốc gia về dân cư",
                "Họ tên, ngày sinh, nơi thường trú, số điện thoại",
            ));
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "pre-fill: population register");
            data.unavailable.push("population");
        }
        None => {}
    }
    match licences {
        Some(Ok(list)) => {
            data.licence = main_licence(list);
            read.push((
                "CSDL giấy phép lái xe",
                "Số, hạng và tình trạng giấy phép lái xe",
            ));
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "pre-fill: licence register");
            data.unavailable.push("licences");
        }
        None => {}
    }
    match health {
        Some(Ok(list)) => {
            data.health = list.into_iter().find(|c| {
                motcua_shared::eform::parse_date(&c.valid_until).is_some_and(|d| d >= today)
            });
            read.push((
                "CSDL giấy khám sức khỏe điện tử",
                "Mã, ngày khám, hạng xe đủ sức khỏe",
            ));
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "pre-fill: health-certificate register");
            data.unavailable.push("health");
        }
        None => {}
    }
    match births {
        Some(Ok(list)) => {
            data.birth = list.into_iter().next();
            read.push((
                "CSDL giấy chứng sinh điện tử",
                "Giấy chứng sinh của con: ngày sinh, giới tính, nơi sinh",
            ));
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "pre-fill: birth-notice register");
            data.unavailable.push("births");
        }
        None => {}
    }
    let entries: Vec<Access<'_>> = read
        .iter()
        .map(|(source, what)| Access {
            cccd: cccd.as_str(),
            accessor_kind: "system",
            accessor: "Cổng dịch vụ công một cửa",
            source,
            data: what,
            purpose,
        })
        .collect();
    store.record_accesses(&entries).await?;
    Ok(data)
}

/// The value of `source` in what the registers answered, if they hold one.
pub fn source_value(source: &str, cccd: &Cccd, data: &RegisterData) -> Option<Value> {
    let population = data.population.as_ref();
    let text = |s: &str| Some(Value::String(s.to_owned()));
    match source {
        "identity.cccd" => text(cccd.as_str()),
        "population.full_name" => population.and_then(|p| text(&p.full_name)),
        "population.birth_date" => population.and_then(|p| text(&p.birth_date)),
        "population.sex" => population.and_then(|p| text(&p.sex)),
        "population.permanent_residence" => population.and_then(|p| text(&p.permanent_residence)),
        "population.household_id" => population.and_then(|p| text(&p.household_id)),
        "population.residence_address" => population
            .and_then(|p| p.residence_address.as_ref())
            .and_then(|a| serde_json::to_value(a).ok()),
        "population.phone" => population.and_then(|p| p.phone.as_deref()).and_then(text),
        "population.birth_place" => population
            .and_then(|p| p.birth_place.as_deref())
            .and_then(text),
        "population.ethnicity" => population
            .and_then(|p| p.ethnicity.as_deref())
            .and_then(text),
        "population.nationality" => population
            .and_then(|p| p.nationality.as_deref())
            .and_then(text),
        "population.father_name" => population
            .and_then(|p| p.father_name.as_deref())
            .and_then(text),
        "population.mother_name" => population
            .and_then(|p| p.mother_name.as_deref())
            .and_then(text),
        "population.spouse_name" => population
            .and_then(|p| p.spouse_name.as_deref())
            .and_then(text),
        "population.marital_status" => population
            .and_then(|p| p.marital_status.as_deref())
            .and_then(text),
        "licences.number" => data.licence.as_ref().and_then(|l| text(&l.number)),
        "licences.classes" => data
            .licence
            .as_ref()
            .and_then(|l| text(&l.classes.join(", "))),
        "health.code" => data.health.as_ref().and_then(|h| text(&h.code)),
        "births.code" => data.birth.as_ref().and_then(|b| text(&b.code)),
        "births.child_birth_date" => data.birth.as_ref().and_then(|b| text(&b.child_birth_date)),
        "births.child_sex" => data.birth.as_ref().and_then(|b| text(&b.child_sex)),
        "births.birth_place" => data.birth.as_ref().and_then(|b| text(&b.birth_place)),
        // An issued result first (it carries the agency's provenance), else the newest upload.
        other if is_warehouse_source(other) => {
            let code = &other["warehouse.".len()..];
            let matching = data.warehouse.iter().filter(|i| i.document_code == code);
            matching
                .clone()
                .find(|i| i.provenance == "issued")
                .or_else(|| matching.clone().next())
                .and_then(|i| text(&i.id))
        }
        _ => None,
    }
}

/// The pre-filled answers of `form` from `data`.
pub fn prefill(form: &Form, cccd: &Cccd, data: &RegisterData) -> Prefill {
    let mut values = BTreeMap::new();
    for field in &form.fields {
        let Some(source) = field.source.as_deref() else {
            continue;
        };
        if let Some(value) = source_value(source, cccd, data) {
            values.insert(
                field.name.clone(),
                PrefilledValue {
                    value,
                    source: source.to_owned(),
                    // A document chosen from the warehouse is a suggestion the person may change.
                    locked: is_locked_source(source),
                },
            );
        }
    }
    Prefill {
        values,
        unavailable: data.unavailable.iter().map(|s| (*s).to_owned()).collect(),
    }
}
