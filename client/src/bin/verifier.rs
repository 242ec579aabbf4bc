//! Entry point of the verifier bundle: checking a credential's QR, for anyone, also offline.
//! Written without Yew (see `motcua_client::verifier`), so its first load stays small.

fn main() {
    motcua_client::verifier::start();
}

/// For `cargo xtask bench` (tests/browser/verify-speed.mjs): milliseconds per verification of
/// `qr` in this very module, as a phone's browser runs it.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn verify_timing(qr: &str, n: u32) -> Option<f64> {
    motcua_client::verifier::time_verifications(qr, n)
}
