//! Entry point of the account bundle: signing in, the profile, passkeys, devices and who read my data.

fn main() {
    motcua_client::start(motcua_client::app::account_pages);
}
