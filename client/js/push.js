// Web push and live updates in the browser. Push: whether this device can take it (an iPhone
// only as an installed app), the permission, subscribing through the service worker with the
// server's VAPID key, and unsubscribing. Live: one EventSource on /api/v1/me/events that
// reconnects by itself (sending Last-Event-ID) and hands each event to the app.

function decodeKey(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const isIos = () =>
  /iPhone|iPad|iPod/.test(navigator.userAgent) ||
  (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
const isInstalled = () =>
  window.matchMedia?.("(display-mode: standalone)").matches || navigator.standalone === true;

// "supported", "ios_install" (an iPhone browser tab: push needs the app on the Home Screen),
// or "unsupported".
export function pushSupport() {
  const api = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (isIos() && !isInstalled()) return "ios_install";
  return api ? "supported" : "unsupported";
}

// "default", "granted" or "denied".
export function pushPermission() {
  return "Notification" in window ? Notification.permission : "denied";
}

async function registration() {
  return navigator.serviceWorker.ready;
}

// This device's subscription endpoint, or "" when it has none.
export async function currentEndpoint() {
  if (pushSupport() !== "supported") return "";
  const sub = await (await registration()).pushManager.getSubscription();
  return sub ? sub.endpoint : "";
}

// Asks permission (only ever from a person's tap) and subscribes: PushSubscription.toJSON()
// as JSON text. Throws "denied" when the person or the browser refuses.
export async function subscribePush(vapidKey) {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("denied");
  const reg = await registration();
  const existing = await reg.pushManager.getSubscription();
  const sub =
    existing ||
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: decodeKey(vapidKey) }));
  return JSON.stringify(sub.toJSON());
}

// Unsubscribes this device; its endpoint (to remove on the server), or "".
export async function unsubscribePush() {
  const sub = await (await registration()).pushManager.getSubscription();
  if (!sub) return "";
  const endpoint = sub.endpoint;
  await sub.unsubscribe();
  return endpoint;
}

let source = null;

// Follows the signed-in person's live events: onEvent(kind, subject) for each.
export function openLive(onEvent) {
  if (source || typeof EventSource === "undefined") return;
  source = new EventSource("/api/v1/me/events");
  for (const kind of ["dossier", "notice", "payment", "resync"]) {
    source.addEventListener(kind, (event) => {
      let subject = "";
      try {
        subject = JSON.parse(event.data).subject || "";
      } catch (_) {}
      onEvent(kind, subject);
    });
  }
  source.onerror = () => {
    // Signed out (401) ends it for good; a dropped connection is retried by the browser.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
    }
  };
}

export function closeLive() {
  if (source) source.close();
  source = null;
}
