//! The application: routes, the language context and the page frame (header, main, bottom
//! navigation on phones).

use motcua_shared::Lang;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api,
    components::{lang_switch::LangSwitch, nav::Nav},
    hooks::{LangContext, SessionContext, use_load},
    i18n::{apply_lang, saved_lang, tr},
    pages,
};

#[derive(Clone, Copy, Routable, PartialEq, Eq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/procedures")]
    Procedures,
    #[at("/dossiers")]
    Dossiers,
    #[at("/wallet")]
    Wallet,
    #[at("/verify")]
    Verify,
    #[at("/account")]
    Account,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <pages::home::HomePage /> },
        Route::Procedures => html! { <pages::procedures::ProceduresPage /> },
        Route::Dossiers => html! { <pages::placeholder::PlaceholderPage section="dossiers" /> },
        Route::Wallet => html! { <pages::placeholder::PlaceholderPage section="wallet" /> },
        Route::Verify => html! { <pages::placeholder::PlaceholderPage section="verify" /> },
        Route::Account => html! { <pages::account::AccountPage /> },
        Route::NotFound => html! { <pages::not_found::NotFoundPage /> },
    }
}

#[component]
pub fn App() -> Html {
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

    html! {
        <ContextProvider<LangContext> context={context}>
            <ContextProvider<SessionContext> context={session}>
                <BrowserRouter>
                    <Frame />
                </BrowserRouter>
            </ContextProvider<SessionContext>>
        </ContextProvider<LangContext>>
    }
}

/// Header, main area and navigation around the current page.
#[component]
fn Frame() -> Html {
    let lang = crate::hooks::use_lang().lang;
    let route = use_route::<Route>().unwrap_or(Route::NotFound);
    // After a navigation, move focus to the new page so keyboard and screen-reader users start
    // at its top, as they would after a full page load.
    let first_render = use_mut_ref(|| true);
    use_effect_with(route, move |_| {
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
                <Nav placement="top" current={route} />
                <LangSwitch />
            </header>
            <main id="main" tabindex="-1">
                <Switch<Route> render={switch} />
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
