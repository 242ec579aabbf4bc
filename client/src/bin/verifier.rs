//! Entry point of the verifier bundle: checking a credential's QR, for anyone, also offline.
//! Written without Yew (see `motcua_client::verifier`), so its first load stays small.

fn main() {
    motcua_client::verifier::start();
}
