//! Catalogue queries.

use anyhow::Context;
use motcua_shared::procedure::{Level, OnlineLevel, Procedure, ProcedureDetail};
use unicode_normalization::UnicodeNormalization;

use crate::store::{Store, now_ms};

/// What a catalogue listing is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct CatalogueFilter {
    pub level: Option<Level>,
    pub online_level: Option<OnlineLevel>,
    /// Free text matched against the names in both languages, diacritics ignored.
    pub text: Option<String>,
}

/// Lower case without Vietnamese diacritics: "Đăng ký khai sinh" → "dang ky khai sinh".
pub fn fold_for_search(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

impl CatalogueFilter {
    /// Whether it narrows nothing: the whole catalogue.
    pub fn is_everything(&self) -> bool {
        self.level.is_none() && self.online_level.is_none() && self.text.is_none()
    }
}

impl Store {
    /// Adds a procedure to the catalogue or replaces its definition.
    pub async fn upsert_procedure(
        &self,
        detail: &ProcedureDetail,
        position: i64,
    ) -> anyhow::Result<()> {
        let definition = serde_json::to_string(detail).context("encoding a procedure")?;
        let procedure = &detail.procedure;
        let search_text = fold_for_search(&format!(
            "{} {} {}",
            procedure.name.vi, procedure.name.en, procedure.code
        ));
        sqlx::query(
            "insert into procedures \
               (code, level, online_level, agency_code, search_text, position, definition, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (code) do update set \
               level = excluded.level, online_level = excluded.online_level, \
               agency_code = excluded.agency_code, search_text = excluded.search_text, \
               position = excluded.position, definition = excluded.definition, \
               updated_at = excluded.updated_at",
        )
        .bind(&procedure.code)
        .bind(procedure.level.as_str())
        .bind(procedure.online_level.as_str())
        .bind(&procedure.agency.code)
        .bind(search_text)
        .bind(position)
        .bind(definition)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .with_context(|| format!("saving procedure {}", procedure.code))?;
        Ok(())
    }

    /// The catalogue in published order, narrowed by `filter`.
    pub async fn list_procedures(
        &self,
        filter: &CatalogueFilter,
    ) -> anyhow::Result<Vec<Procedure>> {
        let pattern = filter
            .text
            .as_deref()
            .map(|t| format!("%{}%", escape_like(&fold_for_search(t))));
        let rows: Vec<(String,)> = sqlx::query_as(
            "select definition from procedures \
             where ($1 is null or level = $1) \
               and ($2 is null or online_level = $2) \
               and ($3 is null or search_text like $3 escape '\\') \
             order by position, code",
        )
        .bind(filter.level.map(Level::as_str))
        .bind(filter.online_level.map(OnlineLevel::as_str))
        .bind(pattern)
        .fetch_all(self.pool())
        .await
        .context("listing procedures")?;
        // The listing leaves the e-forms out: the stored detail is read straight into the small
        // catalogue type, so forms are skipped, not built and dropped.
        rows.into_iter()
            .map(|(json,)| {
                serde_json::from_str::<Procedure>(&json).context("decoding a stored procedure")
            })
            .collect()
    }

    /// One procedure by its code.
    pub async fn procedure(&self, code: &str) -> anyhow::Result<Option<ProcedureDetail>> {
        let row: Option<(String,)> =
            sqlx::query_as("select definition from procedures where code = $1")
                .bind(code)
                .fetch_optional(self.pool())
                .await
                .context("reading a procedure")?;
        row.map(|(json,)| decode(&json)).transpose()
    }
}

fn decode(json: &str) -> anyhow::Result<ProcedureDetail> {
    serde_json::from_str(json).context("decoding a stored procedure")
}

/// Makes `%`, `_` and `\` in user text match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_is_folded_to_plain_lower_case() {
        assert_eq!(fold_for_search("Đăng ký KHAI SINH"), "dang ky khai sinh");
        assert_eq!(
            fold_for_search("Cấp đổi giấy phép lái xe"),
            "cap doi giay phep lai xe"
        );
    }

    #[test]
    fn like_wildcards_in_user_text_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
