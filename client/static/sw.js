// The service worker: keeps every entry bundle's shell and files so the app opens offline
// (installing it after a first visit fetches the other bundles in the background), and
// the public catalogue so it can still be read offline. Personal API data is never cached here.
const VERSION = "{{VERSION}}";
const SHELL_CACHE = `motcua-shell-${VERSION}`;
const DATA_CACHE = "motcua-data-v1";
const SHELL = {{SHELL}};
// Public, non-personal API answers that may be shown (marked as possibly stale) when offline.
const CACHEABLE_API = ["/api/v1/procedures"];

// Which bundle's shell answers which pages: generated from motcua_shared::pages::PAGES when
// the PWA is built (`*` is one path segment, `**` one or more).
const PAGES = {{PAGES}};

function matches(pattern, segments) {
  const want = pattern.split("/").slice(1);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === "**") return segments.length > i;
    if (i >= segments.length || (want[i] !== "*" && want[i] !== segments[i])) return false;
  }
  return want.length === segments.length;
}

// The entry bundle of a page and its shell, as motcua_shared::pages::bundle_of says.
function shellOf(path) {
  const segments = path.replace(/\/+$/, "").split("/").slice(1);
  const hit = PAGES.find(([pattern]) => matches(pattern, segments));
  return hit ? hit[1] : "/index.html";
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith("motcua-shell-") && k !== SHELL_CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  // The catalogue and one procedure; never a pre-fill (personal) below it.
  const cacheableApi =
    CACHEABLE_API.some((prefix) => url.pathname.startsWith(prefix)) && !url.pathname.endsWith("/prefill");
  const networkOnly =
    (url.pathname.startsWith("/api/") && !cacheableApi) ||
    url.pathname.startsWith("/auth/") ||
    url.pathname.startsWith("/sandbox/");
  if (networkOnly) return; // personal data and sign-in: the network only, never cached

  if (request.mode === "navigate") {
    // Pages: the network first (fresh HTML after a release), the cached shell when offline.
    const shell = shellOf(url.pathname);
    event.respondWith(fetch(request).catch(() => caches.match(shell, { cacheName: SHELL_CACHE })));
    return;
  }
  if (cacheableApi) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(DATA_CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request, { cacheName: DATA_CACHE }).then((hit) => hit || Response.error())),
    );
    return;
  }
  // Static files: hashed names never change, so the cache is always right for them.
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});

// A push from the server (RFC 8030): its payload, already in the person's language, is
// { title, body, url, tag }; the tag makes a newer notice about the same dossier replace an
// older one.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = { title: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Dịch vụ công";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || undefined,
      renotify: Boolean(data.tag),
      lang: data.lang || "vi",
      icon: "/icon-192.png",
      badge: "/icon-192.png",
      data: { url: data.url || "/dossiers" },
    }),
  );
});

// A tap opens the notice's page: in an open window of the app when there is one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/dossiers", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && "navigate" in client) {
          return client.focus().then(() => client.navigate(target.href));
        }
      }
      return self.clients.openWindow(target.href);
    }),
  );
});
