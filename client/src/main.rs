//! Entry point of the PWA's WebAssembly module.

fn main() {
    motcua_client::start();
}
