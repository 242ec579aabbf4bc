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

/// A list the server answers a page at a time (`?limit=&after=`), with the cursor of the next.
pub trait Paged: serde::de::DeserializeOwned + Clone + 'static {
    /// The cursor of the page after this one, if any.
    fn next(&self) -> Option<&str>;
    /// This list with `more` (the next page) added at its end.
    fn extend(&mut self, more: Self);
}

impl<L: Paged> Paged for Option<L> {
    fn next(&self) -> Option<&str> {
        self.as_ref().and_then(Paged::next)
    }
    fn extend(&mut self, more: Self) {
        match (self.as_mut(), more) {
            (Some(list), Some(more)) => list.extend(more),
            (None, more) => *self = more,
            _ => {}
        }
    }
}

/// Implements [`Paged`] for list types: the field of their items.
macro_rules! paged {
    ($($list:ty => $items:ident),* $(,)?) => {
        $(impl Paged for $list {
            fn next(&self) -> Option<&str> {
                self.next.as_deref()
            }
            fn extend(&mut self, more: Self) {
                self.$items.extend(more.$items);
                self.next = more.next;
            }
        })*
    };
}

paged! {
    motcua_shared::dossier_api::DossierList => dossiers,
    motcua_shared::dossier_api::OfficerQueue => dossiers,
    motcua_shared::dossier_api::NoticeList => notices,
    motcua_shared::identity::DataAccessLog => entries,
    motcua_shared::payment_api::PaymentList => payments,
    motcua_shared::wallet_api::Wallet => credentials,
    motcua_shared::warehouse::Warehouse => items,
    motcua_shared::satisfaction_api::FeedbackList => feedback,
}

/// A "show more" button under a loaded list whose server has more: it reads the next page of
/// `path` (with `params`, as the first page was read) and adds it to `list`. Nothing when the
/// list is not loaded or complete. A failure shows under the button, which stays to try again.
#[hook]
pub fn use_more<T: Paged>(
    list: &UseStateHandle<Loadable<T>>,
    path: &'static str,
    params: Vec<(&'static str, String)>,
) -> Html {
    let lang = use_lang().lang;
    let busy = use_state(|| false);
    let failed = use_state(|| None::<ApiFailure>);
    let Loadable::Loaded(current) = &**list else {
        return Html::default();
    };
    let Some(next) = current.next().map(str::to_owned) else {
        return Html::default();
    };
    let fetch = {
        let (list, busy, failed, current) =
            (list.clone(), busy.clone(), failed.clone(), current.clone());
        Callback::from(move |()| {
            let (list, busy, failed, current) =
                (list.clone(), busy.clone(), failed.clone(), current.clone());
            let mut params = params.clone();
            params.push(("after", next.clone()));
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let asked: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                match crate::api::get::<T>(path, &asked).await {
                    Ok(more) => {
                        let mut merged = (*current).clone();
                        merged.extend(more);
                        list.set(Loadable::Loaded(Rc::new(merged)));
                        failed.set(None);
                    }
                    Err(failure) => failed.set(Some(failure)),
                }
                busy.set(false);
            });
        })
    };
    let onclick = fetch.reform(|_: MouseEvent| ());
    html! {
        <div class="more">
            <button type="button" class="button button-quiet" {onclick} disabled={*busy}
                aria-busy={if *busy { "true" } else { "false" }}>
                if *busy { <span class="spinner" aria-hidden="true"></span> }
                { crate::i18n::tr(lang, "list.more") }
            </button>
            if let Some(failure) = &*failed {
                <crate::components::feedback::Failure failure={failure.clone()} on_retry={fetch} />
            }
        </div>
    }
}
