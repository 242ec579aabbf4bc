//! Entry point of the citizen bundle: filing a procedure and following one's dossiers.

fn main() {
    motcua_client::start(motcua_client::app::citizen_pages);
}
