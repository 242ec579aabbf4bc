// Reads QR codes from a picture or from the camera: the browser's BarcodeDetector where it
// exists; otherwise the WebAssembly decoder (rqrr, a module of its own), fetched the first time
// it is needed, on grey levels of the picture or of a camera frame.

let decoder = null;

// The decoder module, loaded once (boot.js says where the build put it).
function loadDecoder() {
  if (!decoder) {
    const where = self.MOTCUA_QRDECODE;
    decoder = import(where.js).then(async (module) => {
      await module.default({ module_or_path: where.wasm });
      return module;
    });
    decoder.catch(() => {
      decoder = null;
    });
  }
  return decoder;
}

// The QR text in `source` (an ImageBitmap or a playing <video>), or null.
async function detectIn(source, width, height) {
  if ("BarcodeDetector" in self) {
    try {
      const found = await new BarcodeDetector({ formats: ["qr_code"] }).detect(source);
      if (found.length) return found[0].rawValue;
      return null;
    } catch {
      // fall through to the decoder
    }
  }
  // Large photos are scaled down: a QR needs a few pixels per module, not twelve megapixels.
  const scale = Math.min(1, 1200 / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, w, h);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const grey = new Uint8Array(w * h);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = (rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000;
  }
  const module = await loadDecoder();
  return module.decode_qr(w, h, grey) ?? null;
}

// The QR text in a picture file, or null.
export async function detectQr(file) {
  const bitmap = await createImageBitmap(file);
  return detectIn(bitmap, bitmap.width, bitmap.height);
}

let stream = null;
let scanning = 0;

// Scans with the back camera into `video` until a QR is read (its text) or the scan is stopped
// (null); throws when there is no camera or it is refused.
export async function scanCamera(video) {
  const mine = ++scanning;
  releaseCamera(video);
  stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment" },
    audio: false,
  });
  if (mine !== scanning) {
    releaseCamera(video);
    return null;
  }
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  video.muted = true;
  await video.play();
  while (mine === scanning) {
    const text = video.videoWidth
      ? await detectIn(video, video.videoWidth, video.videoHeight).catch(() => null)
      : null;
    if (text && mine === scanning) {
      releaseCamera(video);
      return text;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}

// Stops a scan (its promise answers null) and turns the camera off.
export function stopCamera(video) {
  scanning++;
  releaseCamera(video);
}

function releaseCamera(video) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  if (video) video.srcObject = null;
}

export function hasCamera() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

export function isOnline() {
  return navigator.onLine;
}

// The SHA-256 of a file, hex (to compare a file with the certified copy a QR names).
export async function sha256Hex(file) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
