//! The home page: what the service does and the three ways in.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    app::Route,
    hooks::{use_lang, use_title},
    i18n::tr,
};

#[component]
pub fn HomePage() -> Html {
    let lang = use_lang().lang;
    use_title(tr(lang, "nav.home"));
    let entry = |route: Route, title: &str, hint: &str| {
        html! {
            <li>
                <Link<Route> to={route} classes="card card-link">
                    <span class="card-title">{ tr(lang, title) }</span>
                    <span class="card-hint">{ tr(lang, hint) }</span>
                </Link<Route>>
            </li>
        }
    };
    html! {
        <div class="page">
            <h1>{ tr(lang, "home.title") }</h1>
            <p class="lead">{ tr(lang, "home.lead") }</p>
            <ul class="entries">
                { entry(Route::Procedures, "home.find_procedure", "home.find_procedure_hint") }
                { entry(Route::Verify, "home.verify", "home.verify_hint") }
                { entry(Route::Wallet, "home.wallet", "home.wallet_hint") }
                { entry(Route::Stats, "home.stats", "home.stats_hint") }
            </ul>
        </div>
    }
}
