// A citizen on a phone opens the public catalogue, in Vietnamese first, searches it, and
// switches the interface to English.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, PHONE, launch, screenshot } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the home page opens in Vietnamese with the bottom navigation on a phone", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // A 401 from GET /api/v1/me is how an anonymous visitor is recognised; Chromium logs it.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${BASE_URL}/`);
  await page.getByRole("heading", { level: 1, name: "Làm thủ tục hành chính trực tuyến" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "vi");
  const bottomNav = page.locator("nav.nav-bottom");
  assert.ok(await bottomNav.isVisible(), "the bottom navigation shows on a phone");
  assert.ok(!(await page.locator("nav.nav-top").isVisible()), "the header links are hidden on a phone");
  assert.ok(await page.getByRole("button", { name: "Switch the interface to English" }).isVisible());
  await screenshot(page, "phone-home-vi");
  assert.deepEqual(errors, [], "no script errors (CSP included)");
  await context.close();
});

test("the catalogue lists the procedures with fees and time limits, and search narrows it", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  await page.locator("nav.nav-bottom").getByRole("link", { name: "Thủ tục" }).click();
  await page.getByRole("heading", { level: 1, name: "Danh mục thủ tục hành chính" }).waitFor();
  await page.getByText("Có 9 thủ tục").waitFor();
  const licence = page.getByRole("article", { name: "Cấp đổi giấy phép lái xe" });
  await licence.waitFor();
  const card = await licence.innerText();
  assert.match(card, /115\.000 ₫/);
  assert.match(card, /135\.000 ₫/);
  assert.match(card, /5 ngày làm việc/);
  assert.match(card, /Trực tuyến toàn trình/);
  assert.ok(await page.getByText("Trực tuyến một phần").first().isVisible(), "the partial-online procedure is labelled");
  await screenshot(page, "phone-procedures-vi");

  // Typed without diacritics, as many people do on a phone keyboard.
  await page.getByLabel("Tìm theo tên thủ tục").fill("khai sinh");
  await page.getByText("Có 1 thủ tục").waitFor();
  assert.ok(await page.getByRole("article", { name: /đăng ký khai sinh/i }).isVisible());
  assert.equal(await page.getByRole("article", { name: "Cấp đổi giấy phép lái xe" }).count(), 0);
  await page.getByLabel("Tìm theo tên thủ tục").fill("");
  await page.getByLabel("Cấp giải quyết").selectOption("district");
  await page.getByText("Có 2 thủ tục").waitFor();
  await screenshot(page, "phone-procedures-search-vi");
  await context.close();
});

test("English can be chosen and is remembered after a reload", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/procedures`);
  await page.getByRole("button", { name: "Switch the interface to English" }).click();
  await page.getByRole("heading", { level: 1, name: "Public services" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.getByRole("article", { name: "Driving licence renewal" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Public services" }).waitFor();
  assert.match(await page.title(), /Public services/);
  await screenshot(page, "phone-procedures-en");
  await context.close();
});

test("every section is reachable across bundles, and what is not built yet says so", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  // My dossiers (another bundle: the page loads anew) asks a signed-out person to sign in.
  await page.locator("nav.nav-bottom").getByRole("link", { name: "Hồ sơ" }).click();
  await page.getByRole("heading", { level: 1, name: "Hồ sơ của tôi" }).waitFor();
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).waitFor();
  assert.match(await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).getAttribute("href"), /return_to=%2Fdossiers$/);
  await screenshot(page, "phone-dossiers-signed-out-vi");
  await page.locator("nav.nav-bottom").getByRole("link", { name: "Ví giấy tờ" }).click();
  await page.getByRole("heading", { level: 1, name: "Ví giấy tờ" }).waitFor();
  assert.match(await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).getAttribute("href"), /return_to=%2Fwallet$/);
  await screenshot(page, "phone-wallet-signed-out-vi");
  await page.goto(`${BASE_URL}/verify`);
  await page.getByRole("heading", { level: 1, name: "Kiểm tra giấy tờ bằng mã QR" }).waitFor();
  await screenshot(page, "phone-verify-vi");
  await page.goto(`${BASE_URL}/no-such-page`);
  await page.getByRole("heading", { level: 1, name: "Không tìm thấy trang" }).waitFor();
  await screenshot(page, "phone-not-found-vi");
  await context.close();
});

test("a keyboard user can skip to the content and sees where focus is", async () => {
  const context = await browser.newContext({ ...PHONE, isMobile: false, hasTouch: false, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  await page.getByRole("heading", { level: 1 }).waitFor();
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, "Bỏ qua, đến nội dung chính");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(outline, "solid", "focus is visible");
  assert.ok(await page.locator("nav.nav-top").isVisible(), "the header links show on a desktop");
  await screenshot(page, "desktop-home-vi");
  await context.close();
});
