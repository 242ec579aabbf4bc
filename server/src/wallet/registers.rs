//! What the national registers already hold about a person, signed into their wallet on their
//! request by the register's agency: the driving licence (licence register) and the
//! health-insurance card (social-insurance register). Each read is logged in the person's
//! data-access log; asking again returns the credential already there.

use motcua_shared::{
    Localized,
    credential::{self, CredentialKind, Field, status::Status},
    registry::LicenceStatus,
};

use super::issue;
use crate::{AppState, error::ApiError, identity::session::Person};

/// The agencies that keep a register and sign what it holds: (code, name in Vietnamese, in
/// English). Agencies of the catalogue's procedures are named by the catalogue.
pub const REGISTER_AGENCIES: [(&str, &str, &str); 1] = [(
    INSURANCE_AGENCY,
    "Bảo hiểm xã hội Việt Nam",
    "Vietnam Social Security",
)];

/// The agency that keeps the social-insurance register and signs health-insurance cards.
pub const INSURANCE_AGENCY: &str = "BHXH-VN";

/// The agency that keeps the driving-licence register and signs licences.
pub const LICENCE_AGENCY: &str = "CA-PCSGT";

/// Signs the person's driving licence, as the register holds it now, into their wallet (once:
/// the same licence number already there, valid or suspended, is returned). `None` when the
/// register holds no licence of theirs.
pub async fn licence_from_register(
    state: &AppState,
    person: &Person,
) -> Result<Option<String>, ApiError> {
    let cccd = &person.cccd;
    let (licences, population) = tokio::try_join!(
        state.registries.licences_of(cccd),
        state.registries.population_record(cccd)
    )?;
    state
        .store
        .record_accesses(&[crate::identity::data_access::Access {
            cccd: cccd.as_str(),
            accessor_kind: "system",
            accessor: "Cổng dịch vụ công một cửa",
            source: "CSDL giấy phép lái xe",
            data: "Giấy phép lái xe: số, hạng, ngày cấp, thời hạn, tình trạng; nơi thường trú",
            purpose: "Thêm giấy phép lái xe vào ví giấy tờ theo yêu cầu",
        }])
        .await?;
    let Some(licence) = licences
        .into_iter()
        .find(|l| l.status != LicenceStatus::Revoked)
    else {
        return Ok(None);
    };
    for row in state.store.credentials_of(&person.id).await? {
        let same = serde_json::from_str::<credential::Credential>(&row.claims)
            .is_ok_and(|c| c.fields.contains(&Field::Number(licence.number.clone())));
        if same && matches!(row.status(), Status::Valid | Status::Suspended) {
            return Ok(Some(row.id));
        }
    }
    let mut fields = vec![
        Field::Name(person.name.clone()),
        Field::Cccd(cccd.as_str().to_owned()),
        Field::Number(licence.number.clone()),
        Field::Classes(licence.classes.clone()),
    ];
    if let Some(address) = population.and_then(|p| p.residence_address) {
        fields.push(Field::Address {
            unit: address.commune,
            street: address.street,
        });
    }
    let draft = issue::Draft {
        kind: CredentialKind::DrivingLicence,
        title: Localized {
            vi: "Giấy phép lái xe".into(),
            en: "Driving licence".into(),
        },
        // Signed today (the key's validity is checked against it); valid as long as the licence.
        issued_on: issue::today(),
        valid_until: licence.expires_on.clone(),
        fields,
    };
    let Some(credential) = sign_into_wallet(state, person, LICENCE_AGENCY, draft).await? else {
        return Ok(None);
    };
    if licence.status == LicenceStatus::Suspended {
        state
            .store
            .set_credential_status(
                &credential.id,
                Status::Suspended,
                "CSDL giấy phép lái xe ghi nhận giấy phép đang bị tạm giữ",
                LICENCE_REGISTER,
            )
            .await?;
    }
    Ok(Some(credential.id))
}

/// Signs the person's health-insurance card, as the social-insurance register holds it now,
/// into their wallet (once: the same card code already there and valid is returned). `None`
/// when the register holds no card of theirs that is valid today.
pub async fn insurance_card_from_register(
    state: &AppState,
    person: &Person,
) -> Result<Option<String>, ApiError> {
    let cccd = &person.cccd;
    let cards = state.registries.insurance_cards_of(cccd).await?;
    state
        .store
        .record_accesses(&[crate::identity::data_access::Access {
            cccd: cccd.as_str(),
            accessor_kind: "system",
            accessor: "Cổng dịch vụ công một cửa",
            source: "CSDL bảo hiểm xã hội",
            data: "Thẻ bảo hiểm y tế: mã thẻ, nơi đăng ký khám chữa bệnh ban đầu, thời hạn",
            purpose: "Thêm thẻ bảo hiểm y tế vào ví giấy tờ theo yêu cầu",
        }])
        .await?;
    let today = issue::today();
    let Some(card) = cards
        .into_iter()
        .find(|c| c.valid_from <= today && c.valid_until.as_ref().is_none_or(|u| *u >= today))
    else {
        return Ok(None);
    };
    for row in state.store.credentials_of(&person.id).await? {
        let same = serde_json::from_str::<credential::Credential>(&row.claims)
            .is_ok_and(|c| c.fields.contains(&Field::Number(card.code.clone())));
        if same && row.status() == Status::Valid {
            return Ok(Some(row.id));
        }
    }
    let draft = insurance_card_draft(
        &issue::Holder {
            name: &person.name,
            cccd: cccd.as_str(),
        },
        person.birthdate.as_deref(),
        card,
        today,
    );
    Ok(sign_into_wallet(state, person, INSURANCE_AGENCY, draft)
        .await?
        .map(|c| c.id))
}

/// Has `agency` sign `draft` into the person's wallet; the credential made.
async fn sign_into_wallet(
    state: &AppState,
    person: &Person,
    agency: &str,
    draft: issue::Draft,
) -> Result<Option<credential::Credential>, ApiError> {
    let key = state
        .store
        .signing_key(state.keys.as_ref(), agency, false)
        .await?;
    let issued = state
        .store
        .issue_credentials(&key, &state.config.public_url, &person.id, &[draft])
        .await?;
    Ok(issued.into_iter().next())
}

/// The credential a health-insurance card of the register becomes: the holder, their birth
/// date, the card's code and facility; valid as long as the card.
pub fn insurance_card_draft(
    holder: &issue::Holder<'_>,
    birth_date: Option<&str>,
    card: motcua_shared::registry::HealthInsuranceCard,
    today: String,
) -> issue::Draft {
    let mut fields = vec![
        Field::Name(holder.name.to_owned()),
        Field::Cccd(holder.cccd.to_owned()),
    ];
    if let Some(born) = birth_date {
        fields.push(Field::BirthDate(born.to_owned()));
    }
    fields.extend([Field::Number(card.code), Field::Facility(card.facility)]);
    issue::Draft {
        kind: CredentialKind::HealthInsuranceCard,
        title: Localized {
            vi: "Thẻ bảo hiểm y tế".into(),
            en: "Health insurance card".into(),
        },
        issued_on: today,
        valid_until: card.valid_until,
        fields,
    }
}

/// Who a register's status changes are attributed to (audit entries, `status_by`).
pub const LICENCE_REGISTER: &str = "system:licence-register";

/// What a licence credential's status becomes when the licence register says `register`
/// about it (`None`: the register does not hold that licence). `by_register`: its current
/// status was set by the register itself. A register never lifts an officer's suspension,
/// and a licence the register cannot find is left as it is (an outage must not revoke).
pub fn register_decision(
    register: Option<LicenceStatus>,
    current: Status,
    by_register: bool,
) -> Option<Status> {
    match (register?, current) {
        (LicenceStatus::Suspended, Status::Valid) => Some(Status::Suspended),
        (LicenceStatus::Valid, Status::Suspended) if by_register => Some(Status::Valid),
        (LicenceStatus::Revoked, Status::Valid | Status::Suspended) => Some(Status::Revoked),
        _ => None,
    }
}

/// What one pass over the licence register changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub checked: usize,
    pub changed: usize,
}

/// Reads the licence register for every holder of a licence credential and brings each
/// credential's status in line with it: suspended when the register suspends the licence,
/// valid again when it lifts that, revoked when it revokes it. Each change is an audit entry
/// and a domain event (the holder is told), in the status change's own transaction.
pub async fn sync_licences(
    store: &crate::store::Store,
    registries: &crate::adapters::Registries,
) -> Result<SyncReport, ApiError> {
    let credentials = store.licence_credentials().await?;
    let mut report = SyncReport::default();
    for holder in credentials.chunk_by(|a, b| a.cccd == b.cccd) {
        let Ok(cccd) = motcua_shared::Cccd::parse(&holder[0].cccd) else {
            continue;
        };
        let licences = match registries.licences_of(&cccd).await {
            Ok(licences) => licences,
            Err(e) => {
                tracing::warn!(error = %e, "the licence register did not answer; trying later");
                return Ok(report);
            }
        };
        for credential in holder {
            report.checked += 1;
            let register = licences
                .iter()
                .find(|l| l.number == credential.number)
                .map(|l| l.status);
            let by_register = credential.status_by.as_deref() == Some(LICENCE_REGISTER);
            let Some(to) = register_decision(register, credential.status, by_register) else {
                continue;
            };
            let reason = match to {
                Status::Suspended => "CSDL giấy phép lái xe ghi nhận giấy phép đang bị tạm giữ",
                Status::Revoked => "CSDL giấy phép lái xe ghi nhận giấy phép đã bị thu hồi",
                _ => "CSDL giấy phép lái xe ghi nhận giấy phép đã hết thời hạn tạm giữ",
            };
            if store
                .set_credential_status(&credential.id, to, reason, LICENCE_REGISTER)
                .await?
            {
                report.changed += 1;
            }
        }
    }
    Ok(report)
}

/// Runs [`sync_licences`] every `every` until `stop`.
pub async fn run(
    state: AppState,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        match sync_licences(&state.store, &state.registries).await {
            Ok(r) if r.changed > 0 => {
                tracing::info!(
                    checked = r.checked,
                    changed = r.changed,
                    "licence statuses from the register"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "the licence register sync failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_suspends_lifts_its_own_suspensions_and_revokes() {
        use LicenceStatus as R;
        use Status as S;
        assert_eq!(
            register_decision(Some(R::Suspended), S::Valid, false),
            Some(S::Suspended)
        );
        assert_eq!(
            register_decision(Some(R::Valid), S::Suspended, true),
            Some(S::Valid)
        );
        assert_eq!(
            register_decision(Some(R::Revoked), S::Valid, false),
            Some(S::Revoked)
        );
        assert_eq!(
            register_decision(Some(R::Revoked), S::Suspended, true),
            Some(S::Revoked)
        );
        // Nothing to do.
        assert_eq!(register_decision(Some(R::Valid), S::Valid, false), None);
        assert_eq!(
            register_decision(Some(R::Suspended), S::Suspended, true),
            None
        );
    }

    #[test]
    fn an_officer_s_suspension_and_a_missing_licence_are_left_alone() {
        assert_eq!(
            register_decision(Some(LicenceStatus::Valid), Status::Suspended, false),
            None
        );
        assert_eq!(register_decision(None, Status::Valid, false), None);
        assert_eq!(register_decision(None, Status::Suspended, true), None);
        // What is revoked or replaced stays so.
        assert_eq!(
            register_decision(Some(LicenceStatus::Valid), Status::Revoked, false),
            None
        );
        assert_eq!(
            register_decision(Some(LicenceStatus::Suspended), Status::Replaced, false),
            None
        );
    }
}
