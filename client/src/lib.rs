//! The motcua PWA. `app.rs` holds the routes; pages, components, hooks, the API client and the
//! translations live in their own folders. Each entry bundle (`src/bin/*.rs`, see
//! `motcua_shared::pages`) calls [`start`] with its pages.

// Translations: client/locales/{vi,en}.yml, built in at compile time. Vietnamese first.
rust_i18n::i18n!("locales", fallback = "vi");

pub mod api;
pub mod app;
pub mod components;
pub mod hooks;
pub mod i18n;
pub mod offline;
pub mod pages;
pub mod verifier;

/// Mounts the app into `#app` (or the body when the page has none) with the pages of this
/// bundle (one of the `app::*_pages` functions).
pub fn start(pages: fn(app::Route) -> yew::Html) {
    let props = app::AppProps { pages };
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => {
            yew::Renderer::<app::App>::with_root_and_props(root, props).render();
        }
        None => {
            yew::Renderer::<app::App>::with_props(props).render();
        }
    }
}
