//! Entry point of the verifier bundle: checking a credential's QR, for anyone, also offline.

fn main() {
    motcua_client::start(motcua_client::app::verifier_pages);
}
