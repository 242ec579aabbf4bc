// Reads a QR from a picture: the browser's BarcodeDetector where it exists; otherwise the
// picture's grey levels for the WebAssembly decoder (rqrr).
export async function detectQr(file) {
  const bitmap = await createImageBitmap(file);
  if ("BarcodeDetector" in self) {
    try {
      const found = await new BarcodeDetector({ formats: ["qr_code"] }).detect(bitmap);
      if (found.length) return { text: found[0].rawValue };
    } catch {
      // fall through to the decoder
    }
  }
  // Large photos are scaled down: a QR needs a few pixels per module, not twelve megapixels.
  const scale = Math.min(1, 1200 / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = (rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000;
  }
  return { width, height, grey };
}

export function isOnline() {
  return navigator.onLine;
}

// The SHA-256 of a file, hex (to compare a file with the certified copy a QR names).
export async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
