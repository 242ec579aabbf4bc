//! What can be paid: a dossier's fee, and the land-related notices of the organisation a
//! business representative acts for (read from the tax authority, with what was paid here and
//! the late interest as of today).

use axum::extract::State;
use motcua_shared::{
    ErrorCode, Localized, TaxCode, Vnd,
    calendar::Day,
    payment_api::{InstalmentView, ObligationList, ObligationView},
    registry::LandNotice,
};

use super::{
    decide::{self, Instalment, NoticeRefusal},
    storage::NewItem,
};
use crate::{
    AppState,
    error::{ApiError, AppJson},
    identity::AuthUser,
};

/// The kinds of land-related notices and their names.
pub fn kind_name(kind: &str) -> Localized {
    let (vi, en) = match kind {
        "land_use_levy" => ("Tiền sử dụng đất", "Land-use levy"),
        "land_rent" => ("Tiền thuê đất hằng năm", "Annual land rent"),
        "registration_fee" => ("Lệ phí trước bạ nhà, đất", "Land registration fee"),
        _ => ("Khoản thu về đất", "Land-related obligation"),
    };
    Localized {
        vi: vi.into(),
        en: en.into(),
    }
}

fn parse_day(text: &str) -> Option<Day> {
    let mut parts = text.splitn(3, '-');
    let y = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let d = parts.next()?.parse().ok()?;
    Day::from_ymd(y, m, d)
}

/// The claim that stops instalment `k` of notice `number` being paid twice.
pub fn notice_claim(number: &str, instalment: u32) -> String {
    format!("notice:{number}/{instalment}")
}

/// The fee of one of the person's dossiers, as a payment line.
pub async fn dossier_fee_items(
    state: &AppState,
    user: &AuthUser,
    dossier_id: &str,
) -> Result<Vec<NewItem>, ApiError> {
    let dossier = state
        .store
        .dossier(dossier_id)
        .await?
        .filter(|d| d.applicant_id == user.person.id)
        .ok_or(ApiError::NotFound)?;
    let fee = dossier
        .view
        .fee
        .clone()
        .ok_or_else(|| ApiError::validation(ErrorCode::NothingToPay))?;
    if fee.paid_at.is_some() {
        return Err(ApiError::conflict(ErrorCode::AlreadyPaid));
    }
    if dossier.view.status.is_final() {
        return Err(ApiError::conflict(ErrorCode::TransitionNotAllowed));
    }
    let name = &dossier.view.procedure_name;
    Ok(vec![NewItem {
        claim: format!("dossier:{}", dossier.view.id),
        kind: "dossier_fee".into(),
        reference: dossier.view.receipt_number.clone(),
        label: Localized {
            vi: format!("Lệ phí: {}", name.vi),
            en: format!("Fee: {}", name.en),
        },
        principal_vnd: fee.amount_vnd.0,
        late_days: 0,
        interest_vnd: 0,
        due_on: None,
        account: format!("agency:{}", dossier.view.agency_code),
    }])
}

/// The organisation the session acts for, checked again against its representatives now.
async fn acting_organisation(
    state: &AppState,
    user: &AuthUser,
) -> Result<(TaxCode, String), ApiError> {
    let tax_code = user
        .session
        .acting_for
        .as_deref()
        .ok_or_else(|| ApiError::forbidden(ErrorCode::NotActingForOrganisation))?;
    let organisation = state
        .store
        .organisations_of(&user.person.cccd)
        .await?
        .into_iter()
        .find(|o| o.tax_code == tax_code)
        .ok_or_else(|| ApiError::forbidden(ErrorCode::NotARepresentative))?;
    let tax_code = TaxCode::parse(tax_code)
        .map_err(|_| ApiError::forbidden(ErrorCode::NotActingForOrganisation))?;
    Ok((tax_code, organisation.name))
}

/// The organisation's notices with what was paid here marked paid.
pub(crate) async fn notices_of(
    state: &AppState,
    tax_code: &TaxCode,
) -> Result<Vec<LandNotice>, ApiError> {
    let mut notices = state
        .registries
        .land_notices_of(tax_code)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "the tax authority did not answer");
            ApiError::Unavailable
        })?;
    let claims: Vec<String> = notices
        .iter()
        .flat_map(|n| {
            n.instalments
                .iter()
                .map(|i| notice_claim(&n.number, i.number))
        })
        .collect();
    let held = state.store.claim_holders(&claims).await?;
    for notice in &mut notices {
        for instalment in &mut notice.instalments {
            let claim = notice_claim(&notice.number, instalment.number);
            if held.iter().any(|(c, _, paid)| *c == claim && *paid) {
                instalment.paid = true;
            }
        }
    }
    Ok(notices)
}

fn instalments_of(notice: &LandNotice) -> Result<Vec<Instalment>, ApiError> {
    notice
        .instalments
        .iter()
        .map(|i| {
            Ok(Instalment {
                number: i.number,
                due: parse_day(&i.due_on).ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!(
                        "notice {} has a bad due date",
                        notice.number
                    ))
                })?,
                amount_vnd: i.amount_vnd,
                paid: i.paid,
            })
        })
        .collect()
}

/// The payment lines of the notices asked for (`NUMBER` whole, `NUMBER/k` one instalment), with
/// their late interest as of the day of `now`; and the organisation's tax code.
pub async fn notice_items(
    state: &AppState,
    user: &AuthUser,
    asks: &[String],
    now: i64,
) -> Result<(String, Vec<NewItem>), ApiError> {
    if asks.len() > 50 {
        return Err(ApiError::validation(ErrorCode::UnknownNotice));
    }
    let (tax_code, _) = acting_organisation(state, user).await?;
    let notices = notices_of(state, &tax_code).await?;
    let today = Day::of_instant(now);
    let mut items: Vec<NewItem> = Vec::new();
    for ask in asks {
        let (number, only) = decide::parse_notice_ask(ask).ok_or_else(|| {
            ApiError::validation(ErrorCode::UnknownNotice).with("notice", ask.clone())
        })?;
        let notice = notices
            .iter()
            .find(|n| n.number == number)
            .ok_or_else(|| ApiError::validation(ErrorCode::UnknownNotice).with("notice", number))?;
        let dues = decide::notice_dues(
            &instalments_of(notice)?,
            notice.allows_instalments,
            only,
            today,
        )
        .map_err(|refusal| match refusal {
            NoticeRefusal::AlreadyPaid => ApiError::conflict(ErrorCode::AlreadyPaid),
            NoticeRefusal::InstalmentsNotAllowed => {
                ApiError::validation(ErrorCode::InstalmentsNotAllowed)
            }
            NoticeRefusal::NoSuchInstalment => ApiError::validation(ErrorCode::UnknownNotice),
        })?;
        let b = &notice.beneficiary;
        let name = kind_name(&notice.kind);
        for due in dues {
            let claim = notice_claim(&notice.number, due.instalment);
            if items.iter().any(|i| i.claim == claim) {
                return Err(
                    ApiError::validation(ErrorCode::UnknownNotice).with("notice", ask.clone())
                );
            }
            let reference = if notice.instalments.len() > 1 {
                format!("{}/{}", notice.number, due.instalment)
            } else {
                notice.number.clone()
            };
            items.push(NewItem {
                claim,
                kind: notice.kind.clone(),
                reference: reference.clone(),
                label: Localized {
                    vi: format!("{} — thông báo {reference}", name.vi),
                    en: format!("{} — notice {reference}", name.en),
                },
                principal_vnd: due.principal_vnd,
                late_days: due.late_days,
                interest_vnd: due.interest_vnd,
                due_on: Some(due.due.iso()),
                account: format!(
                    "treasury:{}:{}:{}:{}",
                    b.treasury, b.budget_account, b.chapter, b.sub_item
                ),
            });
        }
    }
    if items.is_empty() {
        return Err(ApiError::validation(ErrorCode::NothingToPay));
    }
    Ok((tax_code.as_str().to_owned(), items))
}

/// The land-related obligations of the organisation the session acts for, from the tax
/// authority: each notice with its parcel, amounts, instalments, where the money goes, what is
/// paid, and what is outstanding today with late interest (0.03 % a day).
#[utoipa::path(
    get, path = "/obligations", tag = "payments",
    responses(
        (status = 200, description = "The organisation's notices", body = ObligationList),
        (status = 403, description = "The session acts for no organisation", body = motcua_shared::ErrorBody),
        (status = 503, description = "The tax authority does not answer", body = motcua_shared::ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<ObligationList>, ApiError> {
    let (tax_code, organisation) = acting_organisation(&state, &user).await?;
    let notices = notices_of(&state, &tax_code).await?;
    let today = Day::of_instant(crate::store::now_ms());
    let claims: Vec<String> = notices
        .iter()
        .flat_map(|n| {
            n.instalments
                .iter()
                .map(|i| notice_claim(&n.number, i.number))
        })
        .collect();
    let held = state.store.claim_holders(&claims).await?;
    let mut obligations = Vec::new();
    for notice in notices {
        let mut outstanding = 0;
        let mut interest_total = 0;
        let mut instalments = Vec::new();
        for i in &notice.instalments {
            let due = parse_day(&i.due_on);
            let (late_days, interest) = match (i.paid, due) {
                (false, Some(due)) => decide::late_interest(i.amount_vnd, due, today),
                _ => (0, 0),
            };
            if !i.paid {
                outstanding += i.amount_vnd + interest;
                interest_total += interest;
            }
            instalments.push(InstalmentView {
                number: i.number,
                due_on: i.due_on.clone(),
                amount_vnd: Vnd(i.amount_vnd),
                paid: i.paid,
                late_days,
                interest_vnd: Vnd(interest),
            });
        }
        let pending_payment = notice.instalments.iter().find_map(|i| {
            let claim = notice_claim(&notice.number, i.number);
            held.iter()
                .find(|(c, _, paid)| *c == claim && !*paid)
                .map(|(_, payment, _)| payment.clone())
        });
        let b = notice.beneficiary;
        obligations.push(ObligationView {
            kind_name: kind_name(&notice.kind),
            paid: notice.instalments.iter().all(|i| i.paid),
            notice_number: notice.number,
            kind: notice.kind,
            notice_date: notice.notice_date,
            tax_code: notice.tax_code,
            payer_name: notice.payer_name,
            parcel_address: notice.parcel.address,
            parcel_area_m2: notice.parcel.area_m2,
            amount_vnd: Vnd(notice.amount_vnd),
            exemption_vnd: Vnd(notice.exemption_vnd),
            payable_vnd: Vnd(notice.payable_vnd),
            allows_instalments: notice.allows_instalments,
            instalments,
            treasury: b.treasury,
            budget_account: b.budget_account,
            chapter: b.chapter,
            sub_item: b.sub_item,
            outstanding_vnd: Vnd(outstanding),
            interest_vnd: Vnd(interest_total),
            pending_payment,
        });
    }
    Ok(AppJson(ObligationList {
        tax_code: tax_code.as_str().to_owned(),
        organisation,
        as_of: today.iso(),
        obligations,
    }))
}
