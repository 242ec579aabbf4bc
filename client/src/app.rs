//! The application: routes, the language context and the page frame (header, main, bottom
//! navigation on phones).

use motcua_shared::{
    Lang,
    pages::{Bundle, bundle_of},
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api,
    components::{self, lang_switch::LangSwitch, nav::Nav},
    hooks::{LangContext, LiveContext, Loadable, SessionContext, use_load},
    i18n::{apply_lang, saved_lang, tr},
    pages,
};

#[derive(Clone, Routable, PartialEq, Eq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/procedures")]
    Procedures,
    #[at("/procedures/:code")]
    Procedure { code: String },
    #[at("/procedures/:code/file")]
    File { code: String },
    #[at("/dossiers")]
    Dossiers,
    #[at("/dossiers/:id")]
    Dossier { id: String },
    #[at("/office")]
    Office,
    #[at("/office/dashboard")]
    Desk,
    #[at("/office/:id")]
    OfficeDossier { id: String },
    #[at("/stats")]
    Stats,
    #[at("/feedback")]
    Feedback,
    #[at("/wallet")]
    Wallet,
    #[at("/payments/vnpay/return")]
    PaymentReturn,
    #[at("/business")]
    Business,
    #[at("/verify")]
    Verify,
    #[at("/account")]
    Account,
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// The navigation item a page belongs to.
    pub fn section(&self) -> Route {
        match self {
            Route::Procedure { .. } | Route::File { .. } => Route::Procedures,
            Route::Dossier { .. } | Route::PaymentReturn => Route::Dossiers,
            Route::OfficeDossier { .. } | Route::Desk => Route::Office,
            Route::Feedback => Route::Dossiers,
            other => other.clone(),
        }
    }
}

/// The public bundle's pages: home, catalogue, one procedure, QR verification, not found.
pub fn public_pages(route: Route) -> Html {
    match route {
        Route::Home => html! { <pages::home::HomePage /> },
        Route::Procedures => html! { <pages::procedures::ProceduresPage /> },
        Route::Procedure { code } => html! { <pages::procedure::ProcedurePage code={code} /> },
        Route::Stats => html! { <pages::stats::StatsPage /> },
        Route::NotFound => html! { <pages::not_found::NotFoundPage /> },
        _ => html! { <OtherBundle here={Bundle::Public} /> },
    }
}

/// The citizen bundle's pages: filing, my dossiers, one dossier, the wallet.
pub fn citizen_pages(route: Route) -> Html {
    match route {
        Route::File { code } => html! { <pages::filing::FilingPage code={code} /> },
        Route::Dossiers => html! { <pages::dossiers::DossiersPage /> },
        Route::Dossier { id } => html! { <pages::dossiers::DossierPage id={id} /> },
        Route::Wallet => html! { <pages::wallet::WalletPage /> },
        Route::PaymentReturn => html! { <pages::payments::PaymentReturnPage /> },
        Route::Business => html! { <pages::payments::ObligationsPage /> },
        Route::Feedback => html! { <pages::satisfaction::FeedbackPage /> },
        _ => html! { <OtherBundle here={Bundle::Citizen} /> },
    }
}

/// The account bundle's page.
pub fn account_pages(route: Route) -> Html {
    match route {
        Route::Account => html! { <pages::account::AccountPage /> },
        _ => html! { <OtherBundle here={Bundle::Account} /> },
    }
}

/// The back office bundle's pages.
pub fn office_pages(route: Route) -> Html {
    match route {
        Route::Office => html! { <pages::office::OfficePage /> },
        Route::OfficeDossier { id } => html! { <pages::office::OfficeDossierPage id={id} /> },
        Route::Desk => html! { <pages::desk::DeskPage /> },
        _ => html! { <OtherBundle here={Bundle::Office} /> },
    }
}

#[derive(Properties, PartialEq)]
struct OtherBundleProps {
    here: Bundle,
}

/// A page of another bundle: load it anew, which the server (or the service worker, offline)
/// answers with that bundle's shell. Never reloads into the same bundle.
#[component]
fn OtherBundle(props: &OtherBundleProps) -> Html {
    let lang = crate::hooks::use_lang().lang;
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let elsewhere = bundle_of(&path) != props.here;
    use_effect_with(elsewhere, |elsewhere| {
        if *elsewhere && let Some(location) = web_sys::window().map(|w| w.location()) {
            let _ = location.reload();
        }
    });
    if elsewhere {
        html! { <components::feedback::Loading text={tr(lang, "app.opening")} /> }
    } else {
        html! { <pages::not_found::NotFoundPage /> }
    }
}

#[derive(Properties)]
pub struct AppProps {
    /// Which pages this bundle holds: [`public_pages`], [`citizen_pages`], [`account_pages`]
    /// or [`office_pages`].
    pub pages: fn(Route) -> Html,
}

/// A bundle's pages are chosen once at start and never change.
impl PartialEq for AppProps {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let lang = use_state(saved_lang);
    let context = {
        let lang_handle = lang.clone();
        LangContext {
            lang: *lang,
            set: Callback::from(move |new: Lang| {
                apply_lang(new);
                lang_handle.set(new);
            }),
        }
    };
    use_effect_with(*lang, |lang| apply_lang(*lang));
    let session_generation = use_state(|| 0u32);
    let me = use_load(*session_generation, |_| api::me());
    let session = SessionContext {
        me: (*me).clone(),
        reload: {
            let generation = session_generation.clone();
            Callback::from(move |()| generation.set(*generation + 1))
        },
    };

    // While someone is signed in, the server's live events keep open pages fresh.
    let live = use_state(LiveContext::default);
    let signed_in = matches!(&*me, Loadable::Loaded(m) if m.is_some());
    {
        let live = live.clone();
        use_effect_with(signed_in, move |signed_in| {
            if *signed_in {
                // The handle is read on each event: the latest state, not the one captured.
                let current = std::rc::Rc::new(std::cell::RefCell::new(LiveContext::default()));
                api::push::open_live(move |kind, subject| {
                    let mut next = current.borrow().clone();
                    match kind.as_str() {
                        "notice" => next.notices += 1,
                        "dossier" => {
                            let mut map = (*next.dossiers).clone();
                            *map.entry(subject).or_insert(0) += 1;
                            next.dossiers = std::rc::Rc::new(map);
                        }
                        "resync" => next.resyncs += 1,
                        _ => return,
                    }
                    *current.borrow_mut() = next.clone();
                    live.set(next);
                });
            } else {
                api::push::close_live();
            }
        });
    }

    html! {
        <ContextProvider<LangContext> context={context}>
            <ContextProvider<SessionContext> context={session}>
                <ContextProvider<LiveContext> context={(*live).clone()}>
                    <BrowserRouter>
                        <Frame pages={props.pages} />
                    </BrowserRouter>
                </ContextProvider<LiveContext>>
            </ContextProvider<SessionContext>>
        </ContextProvider<LangContext>>
    }
}

/// Header, main area and navigation around the current page.
#[component]
fn Frame(props: &AppProps) -> Html {
    let lang = crate::hooks::use_lang().lang;
    let route = use_route::<Route>().unwrap_or(Route::NotFound);
    // After a navigation, move focus to the new page so keyboard and screen-reader users start
    // at its top, as they would after a full page load.
    let first_render = use_mut_ref(|| true);
    use_effect_with(route.clone(), move |_| {
        if !std::mem::replace(&mut *first_render.borrow_mut(), false) {
            focus_main();
        }
    });

    html! {
        <>
            <a class="skip-link" href="#main">{ tr(lang, "app.skip_to_content") }</a>
            <header class="topbar">
                <Link<Route> to={Route::Home} classes="brand">
                    <img src="/icon.svg" alt="" width="32" height="32" />
                    <span>{ tr(lang, "app.name") }</span>
                </Link<Route>>
                <Nav placement="top" current={route.clone()} />
                <LangSwitch />
            </header>
            <main id="main" tabindex="-1">
                <Switch<Route> render={props.pages} />
            </main>
            <Nav placement="bottom" current={route} />
        </>
    }
}

fn focus_main() {
    use wasm_bindgen::JsCast;
    if let Some(main) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

/// Moves focus to the page's first heading (after a step changes within one page).
pub fn focus_first_heading() {
    use wasm_bindgen::JsCast;
    if let Some(heading) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("#main h1").ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = heading.focus();
    }
}
