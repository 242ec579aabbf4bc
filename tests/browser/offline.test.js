// The PWA keeps working without a connection: after one visit, the service worker serves the
// app shell and the last catalogue even when the server is gone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PHONE, launch, screenshot, startServer } from "./helpers.js";

test("an offline reload opens the app and the catalogue from the service worker", async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await page.goto(`${server.url}/procedures`);
    await page.getByText("Có 9 thủ tục").waitFor();
    // The worker installs, takes control of the page and has the shell cached.
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
    await page.reload();
    await page.getByText("Có 9 thủ tục").waitFor();

    const manifest = await page.evaluate(async () => (await fetch("/manifest.webmanifest")).json());
    assert.equal(manifest.lang, "vi");
    assert.ok(manifest.icons.some((i) => i.purpose === "maskable"));

    // Really offline: the server process is stopped, not just emulated away.
    await server.stop();
    await context.setOffline(true);
    const response = await page.reload();
    assert.ok(response?.fromServiceWorker(), "the page came from the service worker");
    await page.getByRole("heading", { level: 1, name: "Danh mục thủ tục hành chính" }).waitFor();
    await page.getByRole("article", { name: "Cấp đổi giấy phép lái xe" }).waitFor();
    await screenshot(page, "phone-procedures-offline-vi");

    await page.locator("nav.nav-bottom").getByRole("link", { name: "Trang chủ" }).click();
    await page.getByRole("heading", { level: 1, name: "Làm thủ tục hành chính trực tuyến" }).waitFor();
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
});
