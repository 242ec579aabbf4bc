//! What the PWA keeps on the device for offline use: the signed-in person's wallet (so its QR
//! codes show with no network). One account's at a time, keyed by that account, and removed
//! at sign-out; never in the service worker's caches, which every account of the device shares.

use motcua_shared::wallet_api::Wallet;
use serde::{Deserialize, Serialize};

const WALLET_KEY: &str = "motcua.wallet";

#[derive(Serialize, Deserialize)]
struct Kept {
    /// Whose wallet it is (their CCCD).
    owner: String,
    wallet: Wallet,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Keeps `owner`'s wallet on the device, replacing any other account's.
pub fn keep_wallet(owner: &str, wallet: &Wallet) {
    let kept = Kept {
        owner: owner.to_owned(),
        wallet: wallet.clone(),
    };
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(&kept)) {
        let _ = s.set_item(WALLET_KEY, &text);
    }
}

/// The wallet kept on the device, with its owner.
pub fn kept_wallet() -> Option<(String, Wallet)> {
    let text = storage()?.get_item(WALLET_KEY).ok().flatten()?;
    let kept: Kept = serde_json::from_str(&text).ok()?;
    Some((kept.owner, kept.wallet))
}

/// Removes what the device keeps of the person (at sign-out).
pub fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(WALLET_KEY);
    }
}
