//! The texts the server shows people (error messages, notices), from the PWA's own resource
//! files (`client/locales/{vi,en}.yml`, compiled in), so the PWA and the server say the same
//! thing and a new language is a resource file. The reader's language comes from
//! `Accept-Language`; Vietnamese when it names neither.

use axum::http::{HeaderMap, header};
use motcua_shared::Lang;

/// The text of `key` in `lang` with `%{name}` placeholders filled from `params`; the Vietnamese
/// text when `lang` lacks it; `None` when neither has it.
pub fn text(lang: Lang, key: &str, params: &[(&str, String)]) -> Option<String> {
    let raw = crate::_rust_i18n_try_translate(lang.code(), key)
        .or_else(|| crate::_rust_i18n_try_translate(Lang::Vi.code(), key))?;
    let mut out = raw.into_owned();
    for (name, value) in params {
        out = out.replace(&format!("%{{{name}}}"), value);
    }
    Some(out)
}

/// The first language of `Accept-Language` this server speaks (quality values are honoured in
/// their order of listing, which is how browsers send them), else Vietnamese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .filter_map(|part| {
                    let (tag, q) = part.split_once(";q=").unwrap_or((part, "1"));
                    let q: f32 = q.trim().parse().unwrap_or(0.0);
                    (q > 0.0).then(|| Lang::from_tag(tag.trim())).flatten()
                })
                .next()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn texts_come_from_the_pwa_resources_with_their_placeholders_filled() {
        let vi = text(Lang::Vi, "error.rate_limited", &[]).expect("a text");
        assert!(vi.contains("thử"), "{vi}");
        let en = text(
            Lang::En,
            "error.assigned_to_other",
            &[("name", "Lê Minh Cường".into())],
        )
        .expect("a text");
        assert!(en.contains("Lê Minh Cường") && !en.contains("%{"), "{en}");
        assert_eq!(text(Lang::En, "no.such.key", &[]), None);
    }

    #[test]
    fn the_reader_language_is_the_first_one_we_speak() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
            lang_of(&h)
        };
        assert_eq!(with("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(with("fr-FR, en;q=0.5"), Lang::En);
        assert_eq!(with("vi"), Lang::Vi);
        assert_eq!(with("en;q=0, vi;q=0.4"), Lang::Vi);
        assert_eq!(lang_of(&HeaderMap::new()), Lang::Vi);
    }
}
