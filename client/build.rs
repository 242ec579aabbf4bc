//! Rebuilds the PWA when a translation changes: the translations are compiled in by
//! `rust_i18n::i18n!`, which does not tell cargo about the files it reads.

fn main() {
    println!("cargo:rerun-if-changed=locales");
    // The national root key the verifier trusts (the demo root when unset).
    println!("cargo:rerun-if-env-changed=MOTCUA_TRUST_ROOT");
}
