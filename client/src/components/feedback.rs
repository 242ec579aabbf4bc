//! Loading, error and empty states, each announced to screen readers.

use yew::prelude::*;

use crate::{api::ApiFailure, hooks::use_lang, i18n::tr};

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    pub text: AttrValue,
}

/// A progress message shown while data loads (slow connections see it for a while).
#[component]
pub fn Loading(props: &LoadingProps) -> Html {
    html! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{ props.text.clone() }</span>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct FailureProps {
    pub failure: ApiFailure,
    pub on_retry: Callback<()>,
}

/// What went wrong, in words a person can act on, with a way to try again.
#[component]
pub fn Failure(props: &FailureProps) -> Html {
    let lang = use_lang().lang;
    let message = match &props.failure {
        ApiFailure::Network => tr(lang, "error.network"),
        // The PWA's own text of the code (the same resource the server renders from); the
        // server's message, already in the person's language, where the text names values.
        ApiFailure::Server { body, .. } => {
            let key = format!("error.{}", body.error);
            let text = tr(lang, &key);
            if text == key || text.ends_with(&key) || text.contains("%{") {
                body.message.clone()
            } else {
                text
            }
        }
        ApiFailure::Unexpected => tr(lang, "error.unexpected"),
    };
    let onclick = props.on_retry.reform(|_| ());
    // Step-up: the way forward is to prove it is you again, then come back here.
    // The provider is asked to authenticate the person again (and at level 2 when needed).
    let step_up = match &props.failure {
        ApiFailure::Server { body, .. } if body.error == "step_up_required" => Some("fresh"),
        ApiFailure::Server { body, .. } if body.error == "level2_required" => Some("level2"),
        _ => None,
    };
    let here = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into());
    html! {
        <div class="notice notice-error" role="alert">
            <p>{ message }</p>
            if let Some(step_up) = step_up {
                <a class="button button-eid" href={format!("/auth/login?step_up={step_up}&return_to={}", js_sys::encode_uri_component(&here))}>
                    { tr(lang, "account.signin_eid") }
                </a>
            } else {
                <button type="button" class="button" {onclick}>{ tr(lang, "error.retry") }</button>
            }
        </div>
    }
}

/// "Sign in first", with the e-ID button bringing the person back to this page.
#[component]
pub fn SignInPrompt() -> Html {
    let lang = use_lang().lang;
    let here = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into());
    html! {
        <div class="notice">
            <p>{ tr(lang, "account.signin_needed") }</p>
            <a class="button button-eid" href={format!("/auth/login?return_to={}", js_sys::encode_uri_component(&here))}>
                { tr(lang, "account.signin_eid") }
            </a>
        </div>
    }
}
