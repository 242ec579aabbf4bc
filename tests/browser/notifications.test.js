// Notifications in the browser. With the PWA open on a dossier, an officer's action changes
// its status on the page and the unread count in the navigation, without a reload (Server-Sent
// Events). And web push end to end: the account page turns notifications on through the real
// service worker, the server pushes to a real push service (npm web-push-testing, which
// decrypts what it receives), and that push, handed to the service worker as Chromium would
// (DevTools' ServiceWorker.deliverPushMessage), is shown as a notification that opens the
// dossier. Headless Chromium cannot reach a browser vendor's push service, so the page's
// PushManager.subscribe is pointed at the emulator; everything after it is the product's own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  BASE_URL,
  DESKTOP,
  PHONE,
  fileRenewal,
  freePort,
  launch,
  postWithCsrf as post,
  screenshot,
  signInWithEid,
  startServer,
} from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("an officer's action shows on the open dossier page and in the unread count, live", async () => {
  const citizen = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(citizen, "001088012345");
  await citizen.waitForURL(`${BASE_URL}/account`);
  const dossier = await fileRenewal(citizen);
  await citizen.goto(`${BASE_URL}/dossiers/${dossier.id}`);
  await citizen.getByText("Đã nộp, chờ tiếp nhận").first().waitFor();
  // The fee's notices arrive (worker tick 1 s): the count settles before the officer acts.
  const badge = citizen.locator("nav.nav-bottom .nav-badge");
  await badge.waitFor();
  await citizen.waitForTimeout(1500);
  const before = Number(await badge.getAttribute("data-unread"));
  // Any reload would lose this.
  await citizen.evaluate(() => {
    window.__stillHere = true;
  });

  const officer = await (await browser.newContext(DESKTOP)).newPage();
  await signInWithEid(officer, "031180009876");
  await officer.waitForURL(`${BASE_URL}/account`);
  const received = await post(officer, `/api/v1/officer/dossiers/${dossier.id}/actions`, { action: "receive" });
  assert.equal(received.status(), 200);

  await citizen.getByText("Đã tiếp nhận", { exact: true }).first().waitFor({ timeout: 10_000 });
  await citizen.getByText("Hồ sơ vừa được cập nhật.").waitFor();
  await citizen.waitForFunction((n) => Number(document.querySelector("nav.nav-bottom .nav-badge")?.dataset.unread) === n + 1, before, { timeout: 10_000 });
  assert.equal(await citizen.evaluate(() => window.__stillHere), true, "no reload");
  await screenshot(citizen, "phone-dossier-live-update-vi");
});

/** The npm web-push-testing push service on a free port; { origin, stop }. */
async function startPushService() {
  const port = await freePort();
  const script = join(import.meta.dirname, "../../node_modules/web-push-testing/src/bin/server.js");
  const child = spawn(process.execPath, [script, String(port)], { stdio: ["ignore", "ignore", "inherit"] });
  const origin = `http://localhost:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${origin}/status`, { method: "POST" })).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { origin, stop: () => child.kill() };
}

test("notifications turned on in the account page arrive as a push the service worker shows", async () => {
  const push = await startPushService();
  const server = await startServer({
    env: { MOTCUA_PUSH_SERVICES: push.origin, MOTCUA_WORKER_INTERVAL_SECS: "1", MOTCUA_REMINDERS_EVERY_SECS: "0" },
  });
  try {
    const context = await browser.newContext(PHONE);
    await context.grantPermissions(["notifications"], { origin: server.url });
    // The browser's push service is the emulator: subscribing asks it (from Node: it sends no
    // CORS headers), and the subscription is kept as a browser keeps it.
    await context.exposeBinding("__subscribeAtPushService", async (_, key) => {
      const answer = await fetch(`${push.origin}/subscribe`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ userVisibleOnly: "true", applicationServerKey: key }),
      });
      return (await answer.json()).data;
    });
    await context.addInitScript(() => {
      if (!("PushManager" in self)) return;
      const b64url = (bytes) =>
        btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      const wrap = (data) => ({
        endpoint: data.endpoint,
        toJSON: () => ({ endpoint: data.endpoint, keys: data.keys }),
        unsubscribe: async () => {
          localStorage.removeItem("test.push");
          return true;
        },
      });
      PushManager.prototype.subscribe = async function (options) {
        const data = await self.__subscribeAtPushService(b64url(options.applicationServerKey));
        localStorage.setItem("test.push", JSON.stringify(data));
        return wrap(data);
      };
      PushManager.prototype.getSubscription = async function () {
        const saved = localStorage.getItem("test.push");
        return saved ? wrap(JSON.parse(saved)) : null;
      };
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await signInWithEid(page, "001088012345", "demo1234", server.url);
    await page.waitForURL(`${server.url}/account`);
    const section = page.getByRole("region", { name: "Thông báo" });
    await section.getByRole("button", { name: "Bật thông báo trên thiết bị này" }).click();
    await section.getByText("Thiết bị này đang nhận thông báo.").waitFor();
    // No quiet hours, so the test does not depend on the time of day.
    await section.getByLabel("Từ", { exact: true }).fill("00:00");
    await section.getByLabel("Đến", { exact: true }).fill("00:00");
    await section.getByRole("button", { name: "Lưu lựa chọn" }).click();
    await section.getByText("Đã lưu.").waitFor();
    await section.getByRole("list", { name: "Thiết bị nhận thông báo" }).getByRole("listitem").first().waitFor();
    await screenshot(page, "phone-account-notifications-vi");

    // Filing and paying writes notices; the server pushes them to the push service.
    const dossier = await fileRenewal(page, server.url);
    const saved = JSON.parse(await page.evaluate(() => localStorage.getItem("test.push")));
    let messages = [];
    for (let i = 0; i < 100 && messages.length < 2; i++) {
      const answer = await fetch(`${push.origin}/get-notifications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ clientHash: saved.clientHash }),
      });
      messages = (await answer.json()).data.messages;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(messages.length, 2, JSON.stringify(messages));
    const payloads = messages.map((m) => JSON.parse(m));
    const fee = payloads.find((p) => p.tag === `dossier:${dossier.id}`);
    assert.ok(fee, JSON.stringify(payloads));
    assert.match(fee.title, /^Đã nhận lệ phí hồ sơ /);
    assert.equal(fee.url, `/dossiers/${dossier.id}`);

    // Handed to the real service worker, as Chromium does with a push it receives.
    const cdp = await context.newCDPSession(page);
    const registration = new Promise((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
        const mine = registrations.find((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted);
        if (mine) resolve(mine.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registration;
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: server.url, registrationId, data: messages[payloads.indexOf(fee)] });
    let shown = [];
    for (let i = 0; i < 50 && shown.length === 0; i++) {
      shown = await page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url })),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.equal(shown[0].title, fee.title);
    assert.equal(shown[0].body, "Mở Dịch vụ công để xem chi tiết.");
    assert.equal(shown[0].tag, `dossier:${dossier.id}`);
    assert.equal(shown[0].url, `/dossiers/${dossier.id}`);
  } finally {
    await server.stop();
    push.stop();
  }
});
