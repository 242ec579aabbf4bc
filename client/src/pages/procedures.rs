//! The public catalogue: search by name (diacritics optional), filter by level, one card each.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::{
    api,
    components::{
        feedback::{Failure, Loading},
        procedure_card::{ProcedureCard, level_key},
    },
    hooks::{Loadable, use_lang, use_load, use_title},
    i18n::{tr, tr_count},
};
use motcua_shared::procedure::Level;

#[component]
pub fn ProceduresPage() -> Html {
    let lang = use_lang().lang;
    use_title(tr(lang, "procedures.title"));
    let text = use_state(String::new);
    let level = use_state(String::new);
    let retries = use_state(|| 0u32);
    let catalogue = use_load(
        ((*text).clone(), (*level).clone(), *retries),
        |(text, level, _)| api::procedures(text, level),
    );

    let on_search = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let on_level = {
        let level = level.clone();
        Callback::from(move |e: Event| {
            level.set(e.target_unchecked_into::<HtmlSelectElement>().value())
        })
    };
    let on_submit = Callback::from(|e: SubmitEvent| e.prevent_default());
    let on_retry = {
        let retries = retries.clone();
        Callback::from(move |()| retries.set(*retries + 1))
    };

    let results = match &*catalogue {
        Loadable::Loading => html! { <Loading text={tr(lang, "procedures.loading")} /> },
        Loadable::Failed(failure) => html! { <Failure failure={failure.clone()} {on_retry} /> },
        Loadable::Loaded(list) if list.procedures.is_empty() => html! {
            <p class="notice" role="status">{ tr(lang, "procedures.none") }</p>
        },
        Loadable::Loaded(list) => html! {
            <>
                <p class="result-count" role="status">
                    { tr_count(lang, "procedures.count", list.procedures.len()) }
                </p>
                <ul class="cards">
                    { for list.procedures.iter().map(|p| html! {
                        <li key={p.code.clone()}><ProcedureCard procedure={p.clone()} /></li>
                    }) }
                </ul>
            </>
        },
    };

    html! {
        <div class="page">
            <h1>{ tr(lang, "procedures.title") }</h1>
            <p class="lead">{ tr(lang, "procedures.lead") }</p>
            <form class="filters" role="search" onsubmit={on_submit}>
                <div class="field">
                    <label for="procedure-search">{ tr(lang, "procedures.search_label") }</label>
                    <p class="hint" id="procedure-search-hint">{ tr(lang, "procedures.search_hint") }</p>
                    <input id="procedure-search" type="search" class="input" autocomplete="off"
                        aria-describedby="procedure-search-hint" value={(*text).clone()} oninput={on_search} />
                </div>
                <div class="field">
                    <label for="procedure-level">{ tr(lang, "procedures.level_label") }</label>
                    <select id="procedure-level" class="input" onchange={on_level}>
                        <option value="" selected={level.is_empty()}>{ tr(lang, "procedures.level_all") }</option>
                        { for [Level::Province, Level::District, Level::Commune].into_iter().map(|l| html! {
                            <option value={l.as_str()} selected={*level == l.as_str()}>{ tr(lang, level_key(l)) }</option>
                        }) }
                    </select>
                </div>
            </form>
            { results }
        </div>
    }
}
