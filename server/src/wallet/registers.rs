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
    let key = state
        .store
        .signing_key(state.keys.as_ref(), LICENCE_AGENCY, false)
        .await?;
    let issued = state
        .store
        .issue_credentials(&key, &state.config.public_url, &person.id, &[draft])
        .await?;
    let Some(credential) = issued.into_iter().next() else {
        return Ok(None);
    };
    if licence.status == LicenceStatus::Suspended {
        state
            .store
            .set_credential_status(
                &credential.id,
                Status::Suspended,
                "CSDL giấy phép lái xe ghi nhận giấy phép đang bị tạm giữ",
                "system:licence-register",
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
    let mut fields = vec![
        Field::Name(person.name.clone()),
        Field::Cccd(cccd.as_str().to_owned()),
    ];
    if let Some(born) = person.birthdate.clone() {
        fields.push(Field::BirthDate(born));
    }
    fields.extend([Field::Number(card.code), Field::Facility(card.facility)]);
    let draft = issue::Draft {
        kind: CredentialKind::HealthInsuranceCard,
        title: Localized {
            vi: "Thẻ bảo hiểm y tế".into(),
            en: "Health insurance card".into(),
        },
        issued_on: today,
        valid_until: card.valid_until,
        fields,
    };
    let key = state
        .store
        .signing_key(state.keys.as_ref(), INSURANCE_AGENCY, false)
        .await?;
    let issued = state
        .store
        .issue_credentials(&key, &state.config.public_url, &person.id, &[draft])
        .await?;
    Ok(issued.into_iter().next().map(|c| c.id))
}
