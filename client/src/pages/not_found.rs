//! The page for an address the app does not know.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    app::Route,
    hooks::{use_lang, use_title},
    i18n::tr,
};

#[component]
pub fn NotFoundPage() -> Html {
    let lang = use_lang().lang;
    use_title(tr(lang, "not_found.title"));
    html! {
        <div class="page">
            <h1>{ tr(lang, "not_found.title") }</h1>
            <p>{ tr(lang, "not_found.body") }</p>
            <Link<Route> to={Route::Home} classes="button">{ tr(lang, "not_found.home") }</Link<Route>>
        </div>
    }
}
