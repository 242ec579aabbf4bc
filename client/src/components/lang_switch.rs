//! The language switch: one button that offers the other language, labelled in that language.

use motcua_shared::Lang;
use yew::prelude::*;

use crate::{hooks::use_lang, i18n::tr};

#[component]
pub fn LangSwitch() -> Html {
    let ctx = use_lang();
    let other = match ctx.lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    let onclick = {
        let set = ctx.set.clone();
        Callback::from(move |_| set.emit(other))
    };
    html! {
        <button type="button" class="button button-quiet lang-switch" lang={other.code()}
            aria-label={tr(ctx.lang, "app.switch_language_label")} {onclick}>
            { tr(ctx.lang, "app.switch_language") }
        </button>
    }
}
