//! What the PWA keeps on the device for offline use: the signed-in person's wallet (so its QR
//! codes show with no network). In IndexedDB (`js/keep.js`), one account's at a time, keyed by
//! that account, and removed at sign-out; never in the service worker's caches, which every
//! account of the device shares.

use motcua_shared::wallet_api::Wallet;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/keep.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = keepText)]
    async fn keep_text(key: &str, text: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = keptText)]
    async fn kept_text(key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = forgetText)]
    async fn forget_text(key: &str) -> Result<JsValue, JsValue>;
}

const WALLET_KEY: &str = "wallet";
/// Where earlier versions kept it (localStorage): removed wherever it is still found.
const OLD_WALLET_KEY: &str = "motcua.wallet";

#[derive(Serialize, Deserialize)]
struct Kept {
    /// Whose wallet it is (their CCCD).
    owner: String,
    wallet: Wallet,
}

fn forget_old() {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.remove_item(OLD_WALLET_KEY);
    }
}

/// Keeps `owner`'s wallet on the device, replacing any other account's.
pub async fn keep_wallet(owner: &str, wallet: &Wallet) {
    forget_old();
    let kept = Kept {
        owner: owner.to_owned(),
        wallet: wallet.clone(),
    };
    if let Ok(text) = serde_json::to_string(&kept) {
        let _ = keep_text(WALLET_KEY, &text).await;
    }
}

/// The wallet kept on the device, with its owner.
pub async fn kept_wallet() -> Option<(String, Wallet)> {
    let text = kept_text(WALLET_KEY).await.ok()?.as_string()?;
    let kept: Kept = serde_json::from_str(&text).ok()?;
    Some((kept.owner, kept.wallet))
}

/// Removes what the device keeps of the person (at sign-out); done when it answers.
pub async fn forget() {
    forget_old();
    let _ = forget_text(WALLET_KEY).await;
}
