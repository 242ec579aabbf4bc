//! Entry point of the office bundle: the one-stop back office.

fn main() {
    motcua_client::start(motcua_client::app::office_pages);
}
