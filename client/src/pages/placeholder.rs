//! Honest placeholders for the sections later work fills (dossiers, wallet, verify, account):
//! each says what it will do and that it is not available yet.

use yew::prelude::*;

use crate::{
    hooks::{use_lang, use_title},
    i18n::tr,
};

#[derive(Properties, PartialEq)]
pub struct PlaceholderProps {
    /// The section's key prefix in the translations: `dossiers`, `wallet`, `verify`, `account`.
    pub section: AttrValue,
}

#[component]
pub fn PlaceholderPage(props: &PlaceholderProps) -> Html {
    let lang = use_lang().lang;
    let title = tr(lang, &format!("{}.title", props.section));
    use_title(title.clone());
    html! {
        <div class="page">
            <h1>{ title }</h1>
            <div class="notice">
                <span class="badge badge-partial">{ tr(lang, "placeholder.coming") }</span>
                <p>{ tr(lang, &format!("{}.body", props.section)) }</p>
            </div>
        </div>
    }
}
