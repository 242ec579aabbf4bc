//! The WebAssembly QR decoder (rqrr), a module of its own: the verifier loads it only when the
//! browser has no BarcodeDetector, so its tables (64 KB of Galois-field products) stay out of
//! the verifier's first load. `client/js/qrimage.js` calls [`decode_qr`] on a picture or on
//! camera frames, as grey levels.

use wasm_bindgen::prelude::*;

/// The text of the first QR found in a `width` × `height` picture of grey levels (row by row).
#[wasm_bindgen]
pub fn decode_qr(width: usize, height: usize, grey: &[u8]) -> Option<String> {
    if width.checked_mul(height) != Some(grey.len()) {
        return None;
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

fn main() {}
