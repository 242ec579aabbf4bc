//! "Confirm with a passkey": when filing needs a fresh proof of identity, a passkey of this
//! device gives it on the spot, and the filing is sent again. (Kept out of the shared error
//! component so only the bundle that files pays for it.)

use yew::prelude::*;

use crate::{api, hooks::use_lang, i18n::tr};

#[derive(Properties, PartialEq)]
pub struct PasskeyStepUpProps {
    pub csrf: String,
    /// Called once the session counts as freshly verified.
    pub on_done: Callback<()>,
}

#[component]
pub fn PasskeyStepUp(props: &PasskeyStepUpProps) -> Html {
    let lang = use_lang().lang;
    let failed = use_state(|| false);
    if !api::webauthn::supported() {
        return html! {};
    }
    let onclick = {
        let (done, failed, csrf) = (props.on_done.clone(), failed.clone(), props.csrf.clone());
        Callback::from(move |_| {
            let (done, failed, csrf) = (done.clone(), failed.clone(), csrf.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::webauthn::step_up(&csrf).await {
                    Ok(()) => done.emit(()),
                    Err(_) => failed.set(true),
                }
            });
        })
    };
    html! {
        <div class="step-up">
            <button type="button" class="button" {onclick}>{ tr(lang, "account.step_up_passkey") }</button>
            if *failed {
                <p class="field-error" role="alert">{ tr(lang, "account.step_up_failed") }</p>
            }
        </div>
    }
}
