// Starts the WebAssembly app and registers the service worker (which keeps the shell for offline use).
import init from "./{{JS}}";

// Where the QR decoder's module is, for the verifier to load when the browser has no detector.
self.MOTCUA_QRDECODE = { js: "/{{QR_JS}}", wasm: "/{{QR_WASM}}" };

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch((err) => console.warn("service worker not registered", err));
}

init({ module_or_path: "/{{WASM}}" })
  .then(() => document.getElementById("splash")?.remove())
  .catch((err) => {
    console.error(err);
    const splash = document.getElementById("splash");
    if (splash) {
      splash.querySelector("p").textContent =
        "Không mở được ứng dụng. Hãy tải lại trang. / The app could not start. Please reload.";
    }
  });
