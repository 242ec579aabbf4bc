//! Rebuilds the server when a translation changes: `rust_i18n::i18n!` compiles the PWA's
//! resource files in, and does not tell cargo about them.

fn main() {
    println!("cargo:rerun-if-changed=../client/locales");
}
