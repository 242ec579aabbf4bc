//! Hooks shared by pages: the interface language from context, and loading API data.

use std::rc::Rc;

use motcua_shared::Lang;
use yew::prelude::*;

use crate::api::ApiFailure;

/// The interface language and a way to change it, provided by [`crate::app::App`].
#[derive(Clone, PartialEq)]
pub struct LangContext {
    pub lang: Lang,
    pub set: Callback<Lang>,
}

/// The current language, with a translation shortcut.
#[hook]
pub fn use_lang() -> LangContext {
    use_context::<LangContext>().unwrap_or(LangContext {
        lang: Lang::default(),
        set: Callback::noop(),
    })
}

/// Where a request for data stands.
#[derive(Clone, PartialEq)]
pub enum Loadable<T> {
    Loading,
    Loaded(Rc<T>),
    Failed(ApiFailure),
}

/// Runs `load` whenever `deps` change and returns where it stands. A newer request supersedes an
/// older one still in flight, so a slow answer never overwrites a newer one.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, load: F) -> UseStateHandle<Loadable<T>>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ApiFailure>> + 'static,
{
    use_load_showing(deps, load, true)
}

/// Like [`use_load`], but a reload for a new `deps` keeps showing the loaded value until the
/// new one comes (a live update should not flash "loading").
#[hook]
pub fn use_quiet_load<T, D, F, Fut>(deps: D, load: F) -> UseStateHandle<Loadable<T>>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ApiFailure>> + 'static,
{
    use_load_showing(deps, load, false)
}

#[hook]
fn use_load_showing<T, D, F, Fut>(
    deps: D,
    load: F,
    show_loading: bool,
) -> UseStateHandle<Loadable<T>>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: Fn(D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ApiFailure>> + 'static,
{
    let state = use_state(|| Loadable::Loading);
    let generation = use_mut_ref(|| 0u64);
    {
        let state = state.clone();
        use_effect_with(deps, move |deps| {
            *generation.borrow_mut() += 1;
            let mine = *generation.borrow();
            if show_loading {
                state.set(Loadable::Loading);
            }
            let future = load(deps.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = future.await;
                if *generation.borrow() == mine {
                    state.set(match result {
                        Ok(value) => Loadable::Loaded(Rc::new(value)),
                        Err(failure) => Loadable::Failed(failure),
                    });
                }
            });
        });
    }
    state
}

/// Sets the document title to `page — app name`, as a full page load would.
#[hook]
pub fn use_title(page: String) {
    let lang = use_lang().lang;
    use_effect_with((page, lang), |(page, lang)| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&format!("{page} — {}", crate::i18n::tr(*lang, "app.name")));
        }
    });
}

/// Who is signed in, shared by every page: loaded once at start, reloaded after sign-out.
#[derive(Clone, PartialEq)]
pub struct SessionContext {
    pub me: Loadable<Option<motcua_shared::identity::Me>>,
    /// Asks for `/api/v1/me` again (after signing out, for example).
    pub reload: Callback<()>,
}

/// The signed-in person (`Loaded(None)` when nobody is), from [`SessionContext`].
#[hook]
pub fn use_session() -> SessionContext {
    use_context::<SessionContext>().unwrap_or(SessionContext {
        me: Loadable::Loaded(Rc::new(None)),
        reload: Callback::noop(),
    })
}

/// What the open app has heard live (Server-Sent Events) since it started: how many notices
/// came, and how many changes of each dossier; pages that show them reload when theirs moves.
#[derive(Clone, PartialEq, Default)]
pub struct LiveContext {
    pub notices: u32,
    pub dossiers: Rc<std::collections::BTreeMap<String, u32>>,
    /// Bumped when more was missed than the server keeps: reload everything.
    pub resyncs: u32,
}

impl LiveContext {
    /// Changes heard of dossier `id` (and resyncs), for a page's reload dependency.
    pub fn of_dossier(&self, id: &str) -> (u32, u32) {
        (self.dossiers.get(id).copied().unwrap_or(0), self.resyncs)
    }

    /// Notices heard (and resyncs).
    pub fn of_notices(&self) -> (u32, u32) {
        (self.notices, self.resyncs)
    }
}

/// The live events heard, from [`crate::app::App`] (nothing heard outside it).
#[hook]
pub fn use_live() -> LiveContext {
    use_context::<LiveContext>().unwrap_or_default()
}
