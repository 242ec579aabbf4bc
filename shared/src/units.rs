//! Vietnam's administrative units (province → district → commune) as data, from
//! `shared/data/units-vn.txt`: for the address field's choices, for writing an address out, and
//! for the territorial unit that handles a dossier (the commune, district or province where the
//! applicant lives, at the procedure's level).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::procedure::Level;

/// One administrative unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: &'static str,
    pub parent: Option<&'static str>,
    pub level: Level,
    pub name: &'static str,
}

/// A structured address: the answer of an address field and a register's residence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub province: String,
    pub district: String,
    pub commune: String,
    /// House number and street, or hamlet.
    pub street: String,
}

fn parse(text: &'static str) -> Result<Vec<Unit>, String> {
    let mut units: Vec<Unit> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&'static str> = line.split('|').collect();
        let [code, parent, level, name] = fields[..] else {
            return Err(format!("line {}: expected code|parent|level|name", n + 1));
        };
        let level = Level::parse(level).ok_or(format!("line {}: unknown level", n + 1))?;
        let parent = (!parent.is_empty()).then_some(parent);
        let expected_parent = match level {
            Level::Province => None,
            Level::District => Some(Level::Province),
            Level::Commune => Some(Level::District),
        };
        let parent_level = parent
            .map(|p| {
                units
                    .iter()
                    .find(|u| u.code == p)
                    .map(|u| u.level)
                    .ok_or(format!("line {}: parent {p} is not listed before", n + 1))
            })
            .transpose()?;
        if parent_level != expected_parent {
            return Err(format!("line {}: {code} has the wrong parent", n + 1));
        }
        if units.iter().any(|u| u.code == code) {
            return Err(format!("line {}: {code} is listed twice", n + 1));
        }
        units.push(Unit {
            code,
            parent,
            level,
            name,
        });
    }
    Ok(units)
}

/// Every unit, in the file's order (each after its parent).
pub fn all() -> &'static [Unit] {
    static UNITS: OnceLock<Vec<Unit>> = OnceLock::new();
    UNITS.get_or_init(|| {
        // The file is part of the build and checked by a test: a bad line is a build defect.
        parse(include_str!("../data/units-vn.txt")).unwrap_or_default()
    })
}

pub fn get(code: &str) -> Option<&'static Unit> {
    all().iter().find(|u| u.code == code)
}

/// Whether unit `code` is `ancestor` or lies within it.
pub fn is_within(code: &str, ancestor: &str) -> bool {
    let mut at = Some(code);
    while let Some(c) = at {
        if c == ancestor {
            return true;
        }
        at = get(c).and_then(|u| u.parent);
    }
    false
}

/// `ancestor` and every unit within it as `,code,code,…,` (for a `like` in SQL); empty when
/// `ancestor` is empty (no bound).
pub fn within_list(ancestor: &str) -> String {
    if ancestor.is_empty() {
        return String::new();
    }
    let mut out = String::from(",");
    for unit in all().iter().filter(|u| is_within(u.code, ancestor)) {
        out.push_str(unit.code);
        out.push(',');
    }
    if out == "," {
        // An unknown unit bounds to itself, so nothing else matches.
        out.push_str(ancestor);
        out.push(',');
    }
    out
}

/// The provinces (`parent` = `None`), or the units directly under `parent`.
pub fn children(parent: Option<&str>) -> impl Iterator<Item = &'static Unit> {
    let parent = parent.map(str::to_owned);
    all().iter().filter(move |u| u.parent == parent.as_deref())
}

impl Address {
    /// Reads an address answer (`{province, district, commune, street}`).
    pub fn from_value(value: &Value) -> Option<Address> {
        serde_json::from_value(value.clone()).ok()
    }

    /// The commune lies in the district, and the district in the province, all listed.
    pub fn is_consistent(&self) -> bool {
        let commune = get(&self.commune);
        let district = get(&self.district);
        commune.is_some_and(|c| c.level == Level::Commune && c.parent == Some(&*self.district))
            && district
                .is_some_and(|d| d.level == Level::District && d.parent == Some(&*self.province))
    }

    /// The code of the unit at `level` this address lies in.
    pub fn unit_at(&self, level: Level) -> &str {
        match level {
            Level::Province => &self.province,
            Level::District => &self.district,
            Level::Commune => &self.commune,
        }
    }

    /// Written out: `12 Hàng Bông, Phường Hàng Trống, Quận Hoàn Kiếm, Thành phố Hà Nội`.
    pub fn written(&self) -> String {
        let mut parts = vec![self.street.trim().to_owned()];
        for code in [&self.commune, &self.district, &self.province] {
            parts.push(get(code).map_or_else(|| code.clone(), |u| u.name.to_owned()));
        }
        parts.retain(|p| !p.is_empty());
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_list_reads_with_every_unit_under_its_parent() {
        let units = parse(include_str!("../data/units-vn.txt")).expect("the list reads");
        assert_eq!(units.len(), all().len());
        assert!(children(None).all(|u| u.level == Level::Province));
        assert!(children(Some("002")).any(|u| u.name == "Phường Hàng Trống"));
        assert!(children(Some("01")).all(|u| u.level == Level::District));
    }

    #[test]
    fn a_bad_list_is_refused() {
        assert!(parse("001|01|district|Orphan").is_err());
        assert!(parse("01||province|A\n01||province|B").is_err());
        assert!(parse("01||province|A\n00001|01|commune|Skips a level").is_err());
    }

    #[test]
    fn an_address_is_consistent_only_when_its_units_nest() {
        let mut address = Address {
            province: "01".into(),
            district: "002".into(),
            commune: "00070".into(),
            street: "12 Hàng Bông".into(),
        };
        assert!(address.is_consistent());
        assert_eq!(address.unit_at(Level::District), "002");
        assert_eq!(
            address.written(),
            "12 Hàng Bông, Phường Hàng Trống, Quận Hoàn Kiếm, Thành phố Hà Nội"
        );
        address.commune = "26740".into(); // Bến Nghé is in Quận 1, not Hoàn Kiếm
        assert!(!address.is_consistent());
    }
}
