//! Main navigation: a bar at the bottom of phones, links in the header on wider screens.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::{app::Route, hooks::use_lang, i18n::tr};

#[derive(Properties, PartialEq)]
pub struct NavProps {
    /// `top` (header, wide screens) or `bottom` (phones).
    pub placement: AttrValue,
    pub current: Route,
}

const ITEMS: [(Route, &str, &str); 5] = [
    (
        Route::Home,
        "nav.home",
        "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z",
    ),
    (
        Route::Procedures,
        "nav.procedures",
        "M5 3h10l4 4v14H5zM14 3v5h5M8 12h8M8 16h8",
    ),
    (Route::Dossiers, "nav.dossiers", "M4 6h6l2 2h8v11H4zM8 13h8"),
    (
        Route::Wallet,
        "nav.wallet",
        "M3 7h18v12H3zM3 7l3-3h12l3 3M16 13h2",
    ),
    (
        Route::Account,
        "nav.account",
        "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c1-4 4-6 8-6s7 2 8 6",
    ),
];

#[component]
pub fn Nav(props: &NavProps) -> Html {
    let lang = use_lang().lang;
    let class = format!("nav nav-{}", props.placement);
    let session = crate::hooks::use_session();
    // Officers get their back office in the header (it is a desktop page).
    let officer = props.placement == "top"
        && matches!(&session.me, crate::hooks::Loadable::Loaded(me)
            if me.as_ref().as_ref().is_some_and(|m| m.roles.contains(&motcua_shared::identity::Role::Officer)));
    let section = props.current.section();
    // Unread notices (the inbox is on "my dossiers"), kept current by live events and on
    // every move to another page.
    let signed_in = matches!(&session.me, crate::hooks::Loadable::Loaded(me) if me.is_some());
    let live = crate::hooks::use_live().of_notices();
    let unread = crate::hooks::use_quiet_load(
        (signed_in, live, props.current.clone()),
        |(signed_in, ..)| async move {
            if !signed_in {
                return Ok(0);
            }
            // The count is of all unread notices; one of them is enough to carry it.
            crate::api::get::<motcua_shared::dossier_api::NoticeList>(
                "/api/v1/me/notices",
                &[("unread", "true"), ("limit", "1")],
            )
            .await
            .map(|list| list.unread)
        },
    );
    let unread = match &*unread {
        crate::hooks::Loadable::Loaded(n) if signed_in => **n,
        _ => 0,
    };
    let office = officer.then(|| {
        let current = section == Route::Office;
        html! {
            <li>
                <Link<Route> to={Route::Office} classes={classes!("nav-link", current.then_some("is-current"))}>
                    <svg class="nav-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d="M3 8h18v12H3zM8 8V5h8v3M3 13h18" />
                    </svg>
                    <span>{ tr(lang, "nav.office") }</span>
                </Link<Route>>
            </li>
        }
    });
    html! {
        <nav {class} aria-label={tr(lang, "nav.label")}>
            <ul>
                { for ITEMS.iter().map(|(route, key, icon)| {
                    let current = section == *route;
                    html! {
                        <li>
                            <Link<Route> to={route.clone()} classes={classes!("nav-link", current.then_some("is-current"))}>
                                <svg class="nav-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                                    <path d={*icon} />
                                </svg>
                                <span>{ tr(lang, key) }</span>
                                if *route == Route::Dossiers && unread > 0 {
                                    <span class="nav-badge" data-unread={unread.to_string()}
                                        aria-label={crate::i18n::tr_count(lang, "notifications.unread", unread)}>
                                        { unread.to_string() }
                                    </span>
                                }
                            </Link<Route>>
                        </li>
                    }
                }) }
                { for office }
            </ul>
        </nav>
    }
}
