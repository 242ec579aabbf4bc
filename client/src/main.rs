//! Entry point of the full app (every page): signed-in pages and the back office.

fn main() {
    motcua_client::start(motcua_client::app::all_pages);
}
