//! Unread notices (a dossier changed, an apology for lateness, an escalation), each with a way to
//! mark it read. Shown on "my dossiers" and in the back office.

use motcua_shared::{dossier_api::NoticeList, time::format_vn_datetime};
use yew::prelude::*;

use crate::{
    api,
    hooks::{Loadable, use_lang, use_live, use_more, use_quiet_load},
    i18n::tr,
};

#[derive(Properties, PartialEq)]
pub struct NoticesProps {
    pub csrf: String,
}

#[component]
pub fn Notices(props: &NoticesProps) -> Html {
    let lang = use_lang().lang;
    let generation = use_state(|| 0u32);
    // Reloaded when a notice arrives live, without a flash of "loading".
    let live = use_live().of_notices();
    let loaded = use_quiet_load((*generation, live), |_| {
        api::get::<NoticeList>("/api/v1/me/notices", &[("unread", "true")])
    });
    let more = use_more(
        &loaded,
        "/api/v1/me/notices",
        vec![("unread", "true".into())],
    );
    let Loadable::Loaded(list) = &*loaded else {
        return html! {};
    };
    let unread: Vec<_> = list.notices.iter().filter(|n| !n.read).collect();
    if unread.is_empty() {
        return html! {};
    }
    html! {
        <section class="notices" aria-labelledby="notices-heading">
            <h2 id="notices-heading">{ format!("{} ({})", tr(lang, "notices.title"), list.unread) }</h2>
            <ul class="entries">
                { for unread.into_iter().map(|n| {
                    let onclick = {
                        let (generation, csrf) = (generation.clone(), props.csrf.clone());
                        let path = format!("/api/v1/me/notices/{}/read", api::enc(&n.id));
                        Callback::from(move |_| {
                            let (generation, csrf, path) = (generation.clone(), csrf.clone(), path.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                if api::send("POST", &path, &csrf).await.is_ok() {
                                    generation.set(*generation + 1);
                                }
                            });
                        })
                    };
                    let class = classes!("notice", (n.kind == "apology" || n.kind == "escalation").then_some("notice-warn"));
                    html! {
                        <li key={n.id.clone()} {class}>
                            <p><strong>{ n.title.get(lang) }</strong></p>
                            <p>{ n.body.get(lang) }</p>
                            <p class="access-when">{ format_vn_datetime(n.created_at) }</p>
                            if let Some(link) = &n.link {
                                <a href={link.clone()} class="notice-open">{ tr(lang, "notifications.open") }</a>
                                { " · " }
                            }
                            <button type="button" class="link-button" {onclick}>{ tr(lang, "notices.mark_read") }</button>
                        </li>
                    }
                }) }
            </ul>
            { more }
        </section>
    }
}
