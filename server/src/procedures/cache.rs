//! The catalogue as prepared answers: the whole list and each procedure, serialised once into
//! JSON with gzip and brotli variants and an ETag, served from memory (a 304 when the browser
//! has it). The catalogue changes rarely and only by seeding or an upsert; a worker compares its
//! version (how many procedures, the latest change) with the database's every interval and
//! rebuilds when they differ, so every instance follows a change within one interval.

use std::{collections::HashMap, io::Write as _, sync::Arc};

use anyhow::Context as _;
use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_shared::procedure::ProcedureList;
use tokio::sync::RwLock;

use super::CatalogueFilter;
use crate::store::Store;

/// How often each instance compares the prepared catalogue's version with the database's.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What the browser and the service worker may keep, and for how long.
pub const CATALOGUE_CACHE: HeaderValue = HeaderValue::from_static("public, max-age=300");

/// One prepared answer: the JSON and its compressed forms, and the tag that names them.
#[derive(Debug)]
pub struct Answer {
    etag: HeaderValue,
    json: bytes::Bytes,
    gzip: bytes::Bytes,
    brotli: bytes::Bytes,
}

/// The catalogue's version: how many procedures, and when the latest changed.
pub type Version = (i64, i64);

/// Every prepared answer of one version of the catalogue.
#[derive(Debug)]
pub struct Prepared {
    pub version: Version,
    pub list: Answer,
    pub by_code: HashMap<String, Answer>,
}

/// The shared, swappable prepared catalogue of this instance.
#[derive(Clone, Default)]
pub struct CatalogueCache(Arc<RwLock<Option<Arc<Prepared>>>>);

/// The encodings a client accepts, from `Accept-Encoding` (a `q=0` refuses one).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut pieces = part.split(';').map(str::trim);
            let name = pieces.next().unwrap_or("");
            let refused = pieces.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("");
    tags.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == ours)
}

impl Answer {
    /// Prepares `json`: its gzip and brotli forms and a strong ETag of its SHA-256.
    pub fn of(json: Vec<u8>) -> anyhow::Result<Answer> {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(&json);
        let etag = format!(
            "\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&json)?;
        let gzip = gzip.finish()?;
        let mut brotli = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
            writer.write_all(&json)?;
        }
        Ok(Answer {
            etag: HeaderValue::from_str(&etag).context("an ETag")?,
            json: json.into(),
            gzip: gzip.into(),
            brotli: brotli.into(),
        })
    }

    /// This answer for a request with `headers`: 304 when the client has it, else the body in
    /// the best encoding it accepts (brotli, gzip, none).
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let mut response = if not_modified(headers, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let (body, coding) = if accepts(headers, "br") {
                (self.brotli.clone(), Some("br"))
            } else if accepts(headers, "gzip") {
                (self.gzip.clone(), Some("gzip"))
            } else {
                (self.json.clone(), None)
            };
            let mut response = Response::new(Body::from(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Some(coding) = coding {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            }
            response
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(header::CACHE_CONTROL, CATALOGUE_CACHE);
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

impl Store {
    /// The catalogue's version, to know when prepared answers are out of date.
    pub async fn catalogue_version(&self) -> anyhow::Result<Version> {
        let (n, latest): (i64, i64) = sqlx::query_as(
            "select count(*), cast(coalesce(max(updated_at), 0) as bigint) from procedures",
        )
        .fetch_one(self.pool())
        .await
        .context("reading the catalogue's version")?;
        Ok((n, latest))
    }

    /// Every answer of the catalogue as it is now, prepared.
    pub async fn prepare_catalogue(&self) -> anyhow::Result<Prepared> {
        let version = self.catalogue_version().await?;
        let procedures = self.list_procedures(&CatalogueFilter::default()).await?;
        let mut by_code = HashMap::with_capacity(procedures.len());
        for p in &procedures {
            if let Some(detail) = self.procedure(&p.code).await? {
                by_code.insert(p.code.clone(), Answer::of(serde_json::to_vec(&detail)?)?);
            }
        }
        let list = Answer::of(serde_json::to_vec(&ProcedureList { procedures })?)?;
        Ok(Prepared {
            version,
            list,
            by_code,
        })
    }
}

impl CatalogueCache {
    /// The prepared catalogue, prepared now if this instance has none yet.
    pub async fn current(&self, store: &Store) -> anyhow::Result<Arc<Prepared>> {
        if let Some(prepared) = self.0.read().await.as_ref() {
            return Ok(prepared.clone());
        }
        let mut slot = self.0.write().await;
        if let Some(prepared) = slot.as_ref() {
            return Ok(prepared.clone());
        }
        let prepared = Arc::new(store.prepare_catalogue().await?);
        *slot = Some(prepared.clone());
        Ok(prepared)
    }

    /// Prepares the catalogue again if the database's version differs from the prepared one;
    /// true when it did.
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<bool> {
        let version = store.catalogue_version().await?;
        let stale = self
            .0
            .read()
            .await
            .as_ref()
            .is_some_and(|p| p.version != version);
        if stale {
            let prepared = Arc::new(store.prepare_catalogue().await?);
            *self.0.write().await = Some(prepared);
        }
        Ok(stale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).expect("a value"));
        }
        map
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen_and_q_zero_refuses() {
        let answer = Answer::of(br#"{"procedures":[]}"#.repeat(50)).expect("prepared");
        let coding = |h: &[(&'static str, &str)]| {
            answer
                .respond(&headers(h))
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().expect("text").to_owned())
        };
        assert_eq!(
            coding(&[("accept-encoding", "gzip, deflate, br")]).as_deref(),
            Some("br")
        );
        assert_eq!(
            coding(&[("accept-encoding", "gzip")]).as_deref(),
            Some("gzip")
        );
        assert_eq!(
            coding(&[("accept-encoding", "br;q=0, gzip")]).as_deref(),
            Some("gzip")
        );
        assert_eq!(coding(&[]), None);
        assert!(answer.brotli.len() < answer.json.len() && answer.gzip.len() < answer.json.len());
    }

    #[test]
    fn a_matching_etag_is_a_304_and_another_is_the_body() {
        let answer = Answer::of(b"{}".to_vec()).expect("prepared");
        let tag = answer.etag.to_str().expect("text").to_owned();
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        let status = |h: &[(&'static str, &str)]| answer.respond(&headers(h)).status();
        assert_eq!(status(&[("if-none-match", &tag)]), StatusCode::NOT_MODIFIED);
        assert_eq!(
            status(&[("if-none-match", &format!("W/{tag}"))]),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            status(&[("if-none-match", "\"other\", *")]),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(status(&[("if-none-match", "\"other\"")]), StatusCode::OK);
        assert_eq!(status(&[]), StatusCode::OK);
    }
}
