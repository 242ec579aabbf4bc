//! The interface language: chosen by the person, remembered on the device, Vietnamese by default.
//! Texts live in `client/locales/*.yml`; [`tr`] looks one up.

use motcua_shared::Lang;

const STORAGE_KEY: &str = "motcua.lang";

/// The text for `key` in `lang`.
pub fn tr(lang: Lang, key: &str) -> String {
    rust_i18n::t!(key, locale = lang.code()).into_owned()
}

/// The text for `key` in `lang` with `%{count}` replaced by `count`.
pub fn tr_count(lang: Lang, key: &str, count: impl std::fmt::Display) -> String {
    rust_i18n::t!(key, locale = lang.code(), count = count).into_owned()
}

/// The language saved on this device, or Vietnamese.
pub fn saved_lang() -> Lang {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

/// Remembers `lang` and sets `<html lang>` so screen readers pronounce the page right.
pub fn apply_lang(lang: Lang) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(STORAGE_KEY, lang.code());
    }
    if let Some(html) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = html.set_attribute("lang", lang.code());
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
