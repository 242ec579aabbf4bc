//! Anything at all as an upload's bytes, through the sniffer that decides what a person may
//! upload (the server's, shared with the PWA). It may not panic, and what it lets through must
//! carry the magic bytes of the type it names: nothing else passes for a PDF, JPEG or PNG.

#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_shared::warehouse::sniff;

fuzz_target!(|bytes: &[u8]| {
    let magic: &[u8] = match sniff(bytes) {
        None => return,
        Some("application/pdf") => b"%PDF",
        Some("image/jpeg") => &[0xFF, 0xD8, 0xFF],
        Some("image/png") => &[0x89, b'P', b'N', b'G'],
        Some(other) => panic!("{other} is not a type a person may upload"),
    };
    assert!(
        bytes.starts_with(magic),
        "{:?} passed as {:?}",
        &bytes[..bytes.len().min(8)],
        sniff(bytes)
    );
});
