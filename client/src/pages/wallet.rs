//! The wallet: the person's signed results, each with what it says, its status and a large QR
//! to show; "show to verifier" fills the screen with the QR and keeps the screen awake where the
//! browser allows.

use motcua_shared::{
    Lang,
    credential::{Field, qr_svg, status::Status},
    time::format_vn_date,
    wallet_api::WalletCredential,
};
use yew::prelude::*;

use crate::{
    api,
    components::feedback::{Failure, Loading, SignInPrompt},
    hooks::{Loadable, use_lang, use_load, use_session, use_title},
    i18n::tr,
};

#[component]
pub fn WalletPage() -> Html {
    let lang = use_lang().lang;
    let session = use_session();
    use_title(tr(lang, "wallet.title"));
    let owner = match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.cccd.clone()),
        _ => None,
    };
    let retries = use_state(|| 0u32);
    let list = use_load((owner.clone(), *retries), |(owner, _)| async move {
        match owner {
            Some(owner) => {
                // Every page: the copy kept for offline use must hold every credential.
                let mut wallet: motcua_shared::wallet_api::Wallet =
                    api::get("/api/v1/wallet", &[("limit", "200")]).await?;
                while let Some(after) = wallet.next.take() {
                    let more: motcua_shared::wallet_api::Wallet =
                        api::get("/api/v1/wallet", &[("limit", "200"), ("after", &after)]).await?;
                    wallet.credentials.extend(more.credentials);
                    wallet.next = more.next;
                }
                // Kept on the device for this account, to show offline.
                crate::offline::keep_wallet(&owner, &wallet).await;
                Ok(Some(wallet))
            }
            None => Ok(None),
        }
    });
    // Offline: the wallet this device kept (signing out removes it).
    let offline = matches!(
        &session.me,
        Loadable::Failed(crate::api::ApiFailure::Network)
    ) || matches!(&*list, Loadable::Failed(crate::api::ApiFailure::Network));
    let kept_state = use_state(|| None::<(String, motcua_shared::wallet_api::Wallet)>);
    {
        let kept_state = kept_state.clone();
        use_effect_with(offline, move |offline| {
            if *offline {
                wasm_bindgen_futures::spawn_local(async move {
                    kept_state.set(crate::offline::kept_wallet().await);
                });
            }
        });
    }
    let kept = (*kept_state).clone().filter(|_| offline);
    let csrf = match &session.me {
        Loadable::Loaded(me) => me.as_ref().as_ref().map(|m| m.csrf_token.clone()),
        _ => None,
    };
    let adding = use_state(|| None::<Result<(), crate::api::ApiFailure>>);
    let add = {
        let (adding, retries, csrf) = (adding.clone(), retries.clone(), csrf.clone());
        Callback::from(move |document: &'static str| {
            let Some(csrf) = csrf.clone() else { return };
            let (adding, retries) = (adding.clone(), retries.clone());
            adding.set(Some(Ok(())));
            wasm_bindgen_futures::spawn_local(async move {
                let result: Result<serde_json::Value, _> = crate::api::post_json(
                    "/api/v1/wallet/from-register",
                    &serde_json::json!({ "document": document }),
                    Some(&csrf),
                )
                .await;
                match result {
                    Ok(_) => {
                        adding.set(None);
                        retries.set(*retries + 1);
                    }
                    Err(f) => adding.set(Some(Err(f))),
                }
            });
        })
    };
    let on_change = {
        let retries = retries.clone();
        Callback::from(move |()| retries.set(*retries + 1))
    };
    let on_retry = Callback::from(move |()| retries.set(*retries + 1));
    let body = match (&session.me, &*list, kept) {
        (_, _, Some((_, wallet))) => {
            html! {
                <>
                    <p class="notice" role="status">{ tr(lang, "wallet.offline") }</p>
                    <ul class="cards">
                        { for wallet.credentials.iter().map(|c| html! {
                            <li key={c.id.clone()}><CredentialCard credential={c.clone()} csrf={None::<String>} on_change={Callback::noop()} /></li>
                        }) }
                    </ul>
                </>
            }
        }
        (Loadable::Loaded(me), _, None) if me.is_none() => html! { <SignInPrompt /> },
        (Loadable::Loading, _, None) | (_, Loadable::Loading, None) => {
            html! { <Loading text={tr(lang, "wallet.loading")} /> }
        }
        (_, Loadable::Failed(failure), None) => {
            html! { <Failure failure={failure.clone()} {on_retry} /> }
        }
        (_, Loadable::Loaded(wallet), None) => match wallet.as_ref() {
            Some(w) if !w.credentials.is_empty() => html! {
                <ul class="cards">
                    { for w.credentials.iter().map(|c| html! {
                        <li key={c.id.clone()}><CredentialCard credential={c.clone()} csrf={csrf.clone()} on_change={on_change.clone()} /></li>
                    }) }
                </ul>
            },
            _ => html! { <div class="notice"><p>{ tr(lang, "wallet.none") }</p></div> },
        },
    };
    html! {
        <div class="page">
            <h1>{ tr(lang, "wallet.title") }</h1>
            <p class="lead">{ tr(lang, "wallet.lead") }</p>
            { body }
            if csrf.is_some() {
                <section class="wallet-add" aria-labelledby="wallet-add-title">
                    <h2 id="wallet-add-title">{ tr(lang, "wallet.add_title") }</h2>
                    <p>{ tr(lang, "wallet.add_hint") }</p>
                    <div class="actions">
                        <button type="button" class="button" onclick={add.reform(|_| "driving_licence")}
                            disabled={matches!(*adding, Some(Ok(())))}>{ tr(lang, "wallet.add_licence") }</button>
                        <button type="button" class="button" onclick={add.reform(|_| "health_insurance_card")}
                            disabled={matches!(*adding, Some(Ok(())))}>{ tr(lang, "wallet.add_insurance") }</button>
                    </div>
                    if let Some(Err(f)) = (*adding).clone() {
                        <Failure failure={f} on_retry={Callback::noop()} />
                    }
                </section>
            }
        </div>
    }
}

fn status_badge(lang: Lang, status: Status) -> Html {
    let (tone, key) = match status {
        Status::Valid => ("badge-full", "wallet.status.valid"),
        Status::Revoked => ("badge-muted", "wallet.status.revoked"),
        Status::Suspended => ("badge-warn", "wallet.status.suspended"),
        Status::Replaced => ("badge-muted", "wallet.status.replaced"),
    };
    html! { <span class={classes!("badge", tone)}>{ tr(lang, key) }</span> }
}

/// What a credential says, in the person's words.
pub fn claims_list(lang: Lang, fields: &[Field]) -> Html {
    html! {
        <dl class="answers">
            { for motcua_shared::credential::claim_rows(fields).into_iter().map(|(key, value)| html! {
                <div class="answer"><dt>{ tr(lang, key) }</dt><dd>{ value }</dd></div>
            }) }
        </dl>
    }
}

/// A QR as inline SVG (no script in it; the CSP allows it as markup).
pub fn qr(text: &str, label: String) -> Html {
    let Some((svg, _)) = qr_svg(text) else {
        return Html::default();
    };
    let svg = svg
        .find("<svg")
        .map_or(svg.as_str(), |at| &svg[at..])
        .to_owned();
    html! {
        <div class="qr" role="img" aria-label={label}>
            { Html::from_html_unchecked(AttrValue::from(svg)) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    credential: WalletCredential,
    csrf: Option<String>,
    /// The wallet changed (a proof was made): load it again.
    on_change: Callback<()>,
}

#[component]
fn CredentialCard(props: &CardProps) -> Html {
    let lang = use_lang().lang;
    let c = &props.credential;
    let showing = use_state(|| false);
    let show = {
        let showing = showing.clone();
        Callback::from(move |_| {
            showing.set(true);
            crate::api::screen::keep_awake(true);
        })
    };
    let hide = {
        let showing = showing.clone();
        Callback::from(move |_| {
            showing.set(false);
            crate::api::screen::keep_awake(false);
        })
    };
    let title = c.title.get(lang).to_owned();
    let usable = c.status == Status::Valid;
    let failure = use_state(|| None::<crate::api::ApiFailure>);
    let make_proof = {
        let (csrf, id, on_change, failure) = (
            props.csrf.clone(),
            c.id.clone(),
            props.on_change.clone(),
            failure.clone(),
        );
        Callback::from(move |_| {
            let Some(csrf) = csrf.clone() else { return };
            let (id, on_change, failure) = (id.clone(), on_change.clone(), failure.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/wallet/{}/proof", crate::api::enc(&id));
                let made: Result<serde_json::Value, _> =
                    crate::api::post_json(&path, &serde_json::json!({}), Some(&csrf)).await;
                match made {
                    Ok(_) => on_change.emit(()),
                    Err(f) => failure.set(Some(f)),
                }
            });
        })
    };
    let licence = c.kind == motcua_shared::credential::CredentialKind::DrivingLicence;
    html! {
        <article class="card credential" aria-label={title.clone()}>
            <h2>{ &title }</h2>
            <p class="meta">{ c.issuer.name.get(lang) }</p>
            <div class="badges">{ status_badge(lang, c.status) }</div>
            <dl class="answers">
                <div class="answer"><dt>{ tr(lang, "wallet.issued_at") }</dt><dd>{ format_vn_date(&c.issued_at) }</dd></div>
                <div class="answer"><dt>{ tr(lang, "wallet.expires_at") }</dt><dd>{
                    c.expires_at.as_deref().map_or_else(|| tr(lang, "wallet.no_expiry"), format_vn_date)
                }</dd></div>
            </dl>
            { claims_list(lang, &c.claims.fields) }
            if let Some(reason) = c.status_reason.as_ref().filter(|_| !usable) {
                <p class="notice notice-warn">{ reason }</p>
            }
            if usable {
                { qr(&c.qr, tr(lang, "wallet.qr_label")) }
                <button type="button" class="button button-primary" onclick={show}>{ tr(lang, "wallet.show") }</button>
                if props.csrf.is_some() {
                    <a class="button" href={format!("/api/v1/wallet/{}/pdf", c.id)} download="">{ tr(lang, "wallet.download_pdf") }</a>
                }
                if licence && props.csrf.is_some() {
                    <p class="hint">{ tr(lang, "wallet.proof_hint") }</p>
                    <button type="button" class="button" onclick={make_proof}>{ tr(lang, "wallet.make_proof") }</button>
                }
            }
            if let Some(f) = (*failure).clone() {
                <Failure failure={f} on_retry={Callback::noop()} />
            }
            if *showing {
                <div class="qr-show" role="dialog" aria-modal="true" aria-label={tr(lang, "wallet.show")}>
                    <p class="qr-show-title">{ &title }</p>
                    { qr(&c.qr, tr(lang, "wallet.qr_label")) }
                    <button type="button" class="button" onclick={hide}>{ tr(lang, "wallet.close") }</button>
                </div>
            }
        </article>
    }
}
