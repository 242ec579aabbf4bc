//! The person's own records in the national registers, read on demand through the adapters.
//! Every read is written to the person's data-access log.

use axum::extract::State;
use motcua_shared::registry::MyRecords;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    adapters::AdapterError,
    error::{ApiError, AppJson},
    identity::{AuthUser, data_access::Access},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_records))
}

impl From<AdapterError> for ApiError {
    fn from(err: AdapterError) -> Self {
        tracing::warn!(error = %err, "a national system failed");
        match err {
            AdapterError::NotConfigured(_) => ApiError::Unavailable,
            _ => ApiError::Unavailable,
        }
    }
}

/// The person's population record and driving licences, read now from the national registers.
/// Any signed-in caller, about themself only; each read is logged for the person.
#[utoipa::path(
    get, path = "/me/records", tag = "records",
    responses(
        (status = 200, description = "What the registers hold about you", body = MyRecords),
        (status = 503, description = "A register did not answer", body = motcua_shared::ErrorBody),
    )
)]
async fn my_records(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<AppJson<MyRecords>, ApiError> {
    let cccd = &user.person.cccd;
    let (population, driving_licences) = tokio::try_join!(
        state.registries.population_record(cccd),
        state.registries.licences_of(cccd)
    )?;
    let entries: Vec<Access<'_>> = [
        (
            "CSDL quốc gia về dân cư",
            "Họ tên, ngày sinh, giới tính, nơi thường trú, hộ gia đình",
        ),
        (
            "CSDL giấy phép lái xe",
            "Giấy phép lái xe: số, hạng, ngày cấp, thời hạn, tình trạng",
        ),
    ]
    .into_iter()
    .map(|(source, data)| Access {
        cccd: cccd.as_str(),
        accessor_kind: "system",
        accessor: "Cổng dịch vụ công một cửa",
        source,
        data,
        purpose: "Hiển thị thông tin của bạn theo yêu cầu",
    })
    .collect();
    state.store.record_accesses(&entries).await?;
    Ok(AppJson(MyRecords {
        population,
        driving_licences,
    }))
}
