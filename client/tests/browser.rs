//! The PWA's pieces rendered in headless Chromium: translations complete in both languages, and
//! a catalogue card showing what a citizen needs to decide.
#![cfg(target_arch = "wasm32")]

use std::{collections::BTreeSet, time::Duration};

use motcua_client::{components::procedure_card::ProcedureCard, hooks::LangContext};
use motcua_shared::{
    Lang, Localized, Vnd,
    procedure::{Agency, Level, OnlineLevel, Procedure, RequiredDocument},
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

fn keys(yaml: &str) -> BTreeSet<String> {
    yaml.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with(' '))
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim().to_owned()))
        .collect()
}

#[wasm_bindgen_test]
fn both_languages_have_the_same_texts() {
    let vi = keys(include_str!("../locales/vi.yml"));
    let en = keys(include_str!("../locales/en.yml"));
    assert!(vi.len() > 40, "{} keys", vi.len());
    let only_vi: Vec<_> = vi.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&vi).collect();
    assert!(
        only_vi.is_empty() && only_en.is_empty(),
        "only vi: {only_vi:?}; only en: {only_en:?}"
    );
}

#[wasm_bindgen_test]
fn texts_resolve_and_interpolate_in_both_languages() {
    assert_eq!(
        motcua_client::i18n::tr(Lang::Vi, "nav.procedures"),
        "Thủ tục"
    );
    assert_eq!(
        motcua_client::i18n::tr(Lang::En, "nav.procedures"),
        "Services"
    );
    let days = motcua_client::i18n::tr_count(Lang::Vi, "procedures.working_days", 5);
    assert_eq!(days, "5 ngày làm việc");
}

fn licence() -> Procedure {
    let text = |vi: &str, en: &str| Localized {
        vi: vi.into(),
        en: en.into(),
    };
    Procedure {
        code: "1.002804".into(),
        name: text("Cấp đổi giấy phép lái xe", "Driving licence renewal"),
        category: text("Đường bộ", "Road transport"),
        summary: text("Đổi giấy phép lái xe.", "Renew a driving licence."),
        agency: Agency {
            code: "CA-PCSGT".into(),
            name: text("Phòng CSGT", "Traffic Police"),
        },
        level: Level::Province,
        online_level: OnlineLevel::Full,
        fee_vnd: Vnd(135_000),
        online_fee_vnd: Vnd(115_000),
        fee_paid: motcua_shared::procedure::FeeTiming::AtFiling,
        time_limit_working_days: 5,
        required_documents: vec![RequiredDocument {
            code: "health-certificate".into(),
            name: text("Giấy khám sức khỏe", "Health certificate"),
            provided_by: Some("health.code".into()),
        }],
    }
}

#[derive(Properties, PartialEq)]
struct InLangProps {
    lang: Lang,
}

#[component]
fn CardIn(props: &InLangProps) -> Html {
    let context = LangContext {
        lang: props.lang,
        set: Callback::noop(),
    };
    html! {
        <ContextProvider<LangContext> {context}>
            // The card's name links to the procedure's page: links need a router.
            <yew_router::BrowserRouter>
                <ProcedureCard procedure={licence()} />
            </yew_router::BrowserRouter>
        </ContextProvider<LangContext>>
    }
}

/// Where the last rendered card's name links to.
async fn root_link() -> Option<String> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("h2.procedure-name a").ok().flatten())
        .and_then(|a| a.get_attribute("href"))
}

async fn render(lang: Lang) -> String {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let root = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("attached");
    yew::Renderer::<CardIn>::with_root_and_props(root.clone(), InLangProps { lang }).render();
    yew::platform::time::sleep(Duration::from_millis(50)).await;
    root.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_card_shows_the_reduced_online_fee_and_the_time_limit_in_vietnamese() {
    let text = render(Lang::Vi).await;
    assert!(text.contains("Cấp đổi giấy phép lái xe"), "{text}");
    assert!(
        text.contains("115.000 ₫") && text.contains("135.000 ₫"),
        "{text}"
    );
    assert!(text.contains("5 ngày làm việc"), "{text}");
    let link = root_link().await;
    assert_eq!(link.as_deref(), Some("/procedures/1.002804"));
    assert!(
        text.contains("Trực tuyến toàn trình") && text.contains("Cấp tỉnh"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn a_card_speaks_english_when_english_is_chosen() {
    let text = render(Lang::En).await;
    assert!(text.contains("Driving licence renewal"), "{text}");
    assert!(
        text.contains("5 working days") && text.contains("Fully online"),
        "{text}"
    );
}

#[wasm_bindgen_test]
fn devices_are_named_by_browser_and_system() {
    use motcua_client::pages::account::describe_device;
    let android = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
    assert_eq!(
        describe_device(android).as_deref(),
        Some("Chrome · Android")
    );
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
    assert_eq!(describe_device(iphone).as_deref(), Some("Safari · iPhone"));
    assert_eq!(describe_device("curl/8.0"), None);
}

#[wasm_bindgen_test]
fn every_route_is_held_by_the_bundle_the_server_answers_it_with() {
    use motcua_client::app::Route;
    use motcua_shared::pages::{Bundle, bundle_of};
    use yew_router::Routable;
    for path in [
        "/",
        "/procedures",
        "/procedures/1.002804",
        "/procedures/1.002804/file",
        "/dossiers",
        "/dossiers/abc",
        "/office",
        "/office/abc",
        "/office/dashboard",
        "/stats",
        "/feedback",
        "/account",
        "/wallet",
        "/payments/vnpay/return",
        "/business",
        "/verify",
        "/no/such/page",
    ] {
        let route = Route::recognize(path).expect("a route");
        let holder = match route {
            Route::Home
            | Route::Procedures
            | Route::Procedure { .. }
            | Route::Stats
            | Route::NotFound => Bundle::Public,
            Route::Verify => Bundle::Verifier,
            Route::File { .. }
            | Route::Dossiers
            | Route::Dossier { .. }
            | Route::Wallet
            | Route::PaymentReturn
            | Route::Business
            | Route::Feedback => Bundle::Citizen,
            Route::Account => Bundle::Account,
            Route::Office | Route::OfficeDossier { .. } | Route::Desk => Bundle::Office,
        };
        assert_eq!(bundle_of(path), holder, "{path}");
    }
    // The dashboard is its own page, not a dossier whose id is "dashboard".
    assert_eq!(Route::recognize("/office/dashboard"), Some(Route::Desk));
}
