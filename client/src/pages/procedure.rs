//! One procedure: what it gives, who decides, fees, time limit, documents, and the way to file it.

use motcua_shared::procedure::OnlineLevel;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::{
    api,
    app::Route,
    components::{
        feedback::{Failure, Loading},
        procedure_card::ProcedureCard,
    },
    hooks::{Loadable, use_lang, use_load, use_title},
    i18n::tr,
};

#[derive(Properties, PartialEq)]
pub struct ProcedurePageProps {
    pub code: AttrValue,
}

#[component]
pub fn ProcedurePage(props: &ProcedurePageProps) -> Html {
    let lang = use_lang().lang;
    let retries = use_state(|| 0u32);
    let detail = use_load((props.code.to_string(), *retries), |(code, _)| {
        api::procedure(code)
    });
    let title = match &*detail {
        Loadable::Loaded(d) => d.procedure.name.get(lang).to_owned(),
        _ => tr(lang, "procedures.title"),
    };
    use_title(title);
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match &*detail {
        Loadable::Loading => html! { <Loading text={tr(lang, "procedures.loading")} /> },
        Loadable::Failed(failure) => html! { <Failure failure={failure.clone()} {on_retry} /> },
        Loadable::Loaded(d) => {
            let p = &d.procedure;
            let file = html! {
                <Link<Route> to={Route::File { code: p.code.clone() }} classes="button button-primary">
                    { tr(lang, "procedure.file_online") }
                </Link<Route>>
            };
            let action = match (&d.form, p.online_level) {
                (Some(_), OnlineLevel::Full) => file,
                // Filed online; the rest (a site inspection) happens in person.
                (Some(_), OnlineLevel::Partial) => html! {
                    <>
                        <p class="notice">{ tr(lang, "procedure.partial_note") }</p>
                        { file }
                    </>
                },
                (None, _) => html! { <p class="notice">{ tr(lang, "procedure.form_soon") }</p> },
            };
            html! {
                <>
                    <ProcedureCard procedure={p.clone()} heading_level={1} open_documents=true />
                    if d.min_acr == motcua_shared::identity::Acr::Level2 {
                        <p class="hint">{ tr(lang, "procedure.needs_level2") }</p>
                    }
                    { action }
                </>
            }
        }
    };
    html! {
        <div class="page">
            <Link<Route> to={Route::Procedures} classes="back-link">{ tr(lang, "procedure.back") }</Link<Route>>
            { body }
        </div>
    }
}
