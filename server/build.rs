//! Rebuilds the server when a translation or a migration changes: `rust_i18n::i18n!` compiles
//! the PWA's resource files in and `sqlx::migrate!` the migrations, and neither tells cargo.

fn main() {
    println!("cargo:rerun-if-changed=../client/locales");
    println!("cargo:rerun-if-changed=../migrations");
}
