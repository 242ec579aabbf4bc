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
    pub residence: String,
}

#[derive(Deserialize)]
struct PeopleFile {
    person: Vec<DemoPerson>,
}

pub fn load() -> anyhow::Result<Vec<DemoPerson>> {
    let file: PeopleFile = toml::from_str(include_str!("../../seed/sandbox/people.toml"))
        .context("reading seed/sandbox/people.toml")?;
    Ok(file.person)
}

#[cfg(test)]
mod tests {
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
