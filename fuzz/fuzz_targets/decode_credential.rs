//! Anything at all, read as a QR text, through the whole of what a verifier does with it:
//! decode (bounded), verify against a trust list, check a certified file, read a status list.
//! None of it may panic.
//!
//! The first byte picks the layer the rest is fed to, so the fuzzer reaches past each one:
//! 0 the QR text as is; 1 the bytes under base45 (COSE or zlib); 2 the bytes under zlib (COSE).
//! The seeds in `fuzz/seeds` are real credentials in the second and third forms.

#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_shared::credential::{self, TrustedKey, status};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = match mode % 3 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => format!("{}{}", credential::PREFIX, base45::encode(rest)),
        _ => format!(
            "{}{}",
            credential::PREFIX,
            base45::encode(miniz_oxide::deflate::compress_to_vec_zlib(rest, 1))
        ),
    };
    if let Ok(unverified) = credential::decode(&text) {
        assert!(text.len() <= credential::MAX_TEXT);
        let keys = [TrustedKey {
            kid: credential::to_hex(&unverified.kid),
            agency: unverified.credential.issuer.clone(),
            agency_name: String::new(),
            public_key: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a".into(),
            valid_from: 0,
            valid_until: None,
            withdrawn: false,
        }];
        let _ = unverified.credential.certifies_file(&"0".repeat(64));
        let _ = unverified.verify(&keys, 1_800_000_000);
    }
    // The same bytes as a compressed status list.
    let _ = status::read(rest, u64::from(rest.len() as u32) * 7);
});
