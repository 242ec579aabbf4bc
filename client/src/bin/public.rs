//! Entry point of the public bundle: home, catalogue, procedures and QR verification: the small first load of a visitor or a verifier.

fn main() {
    motcua_client::start(motcua_client::app::public_pages);
}
