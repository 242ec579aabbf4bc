// A citizen signs in on a phone with the national e-identity (the sandbox provider, over real
// OpenID Connect redirects), sees the profile the state verified, and signs out.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, PHONE, launch, screenshot, signInWithEid } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});


test("a citizen signs in with VNeID, sees their verified profile and signs out", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/account`);
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).waitFor();
  await screenshot(page, "phone-account-signed-out-vi");
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).click();
  await page.getByRole("heading", { name: "Đăng nhập bằng tài khoản định danh điện tử" }).waitFor();
  await screenshot(page, "phone-sandbox-vneid-signin");
  await page.getByLabel("Số định danh cá nhân (CCCD)").fill("001088012345");
  await page.getByLabel("Mật khẩu").fill("demo1234");
  await page.getByRole("button", { name: "Đăng nhập" }).click();

  await page.waitForURL(`${BASE_URL}/account`);
  await page.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();
  const profile = await page.locator("section.profile").innerText();
  assert.match(profile, /001088012345/);
  assert.match(profile, /14\/03\/1988/);
  assert.match(profile, /Mức 2/);
  assert.match(profile, /Nhà nước đã xác thực/);
  await page.getByText("Thiết bị này", { exact: true }).waitFor();
  // The sign-in's own reading of the e-ID (the wallet's register reads may come just after it).
  const signInRead = page.locator("ol.access-log li", { hasText: "VNeID" }).first();
  await signInRead.waitFor();
  assert.match(await signInRead.innerText(), /Đăng nhập/);
  await screenshot(page, "phone-account-signed-in-vi");

  // Once-only: what the national registers hold, read on request and logged at once.
  await page.getByRole("button", { name: "Xem thông tin cư trú và giấy phép lái xe" }).click();
  await page.getByText(/Hàng Bông/).waitFor();
  assert.match(await page.locator("section", { has: page.locator("#records-heading") }).innerText(), /Còn hiệu lực/);
  await page.locator("ol.access-log li", { hasText: "CSDL quốc gia về dân cư" }).first().waitFor();
  await screenshot(page, "phone-account-records-vi");

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "motcua_session");
  assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
  assert.equal(await page.evaluate(() => document.cookie.includes("motcua_session")), false);
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes("csrf")), false, "no token in storage");

  await page.getByRole("button", { name: "Đăng xuất", exact: true }).click();
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).waitFor();
  const me = await page.evaluate(async () => (await fetch("/api/v1/me")).status);
  assert.equal(me, 401);
  await context.close();
});

test("a wrong password is refused at the provider with a message, and nothing is signed in", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await signInWithEid(page, "001088012345", "wrong-password");
  await page.getByRole("alert").getByText("Số định danh cá nhân hoặc mật khẩu không đúng.").waitFor();
  await screenshot(page, "phone-sandbox-vneid-wrong-password");
  const me = await page.evaluate(async () => (await fetch("/api/v1/me")).status);
  assert.equal(me, 401);
  await context.close();
});

test("a refused sign-in is explained on the account page in the person's language", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/account?signin_error=invalid_state`);
  await page.getByRole("alert").getByText("Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy đăng nhập lại.").waitFor();
  await screenshot(page, "phone-account-signin-error-vi");
  await context.close();
});

test("a representative chooses to act for their company, and the choice holds", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await signInWithEid(page, "048190002468");
  await page.getByRole("heading", { level: 2, name: "Phạm Thu Hà" }).waitFor();
  const company = page.getByRole("radio", { name: /Công ty TNHH Thương mại Hà Thu/ });
  assert.equal(await page.getByRole("radio", { name: /Cá nhân/ }).isChecked(), true);
  await company.check();
  await page.waitForFunction(async () => (await (await fetch("/api/v1/me")).json()).acting_for === "0312345673");
  await page.reload();
  await page.getByRole("radio", { name: /Công ty TNHH Thương mại Hà Thu/ }).waitFor();
  assert.equal(await page.getByRole("radio", { name: /Công ty TNHH Thương mại Hà Thu/ }).isChecked(), true);
  await screenshot(page, "phone-account-acting-for-company-vi");
  await context.close();
});

test("a long data-access log shows a page at a time, with a button for more", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  await signInWithEid(page, "079195004321");
  await page.waitForURL(`${BASE_URL}/account`);
  // Each reading of the registers is logged: read them until the log is longer than a page.
  for (let i = 0; i < 40; i++) {
    const log = await (await page.request.get(`${BASE_URL}/api/v1/me/data-access?limit=200`)).json();
    if (log.entries.length > 60) break;
    const read = await page.request.get(`${BASE_URL}/api/v1/me/records`);
    assert.equal(read.status(), 200);
  }
  await page.reload();
  const entries = page.locator("ol.access-log li");
  await entries.first().waitFor();
  assert.equal(await entries.count(), 50, "the first page");
  const more = page.getByRole("button", { name: "Xem thêm" });
  await more.scrollIntoViewIfNeeded();
  await screenshot(page, "phone-account-data-access-more-vi");
  await more.focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelectorAll("ol.access-log li").length > 50);
  const total = (await (await page.request.get(`${BASE_URL}/api/v1/me/data-access?limit=200`)).json()).entries.length;
  assert.equal(await entries.count(), Math.min(total, 100), "the second page follows the first");
  await context.close();
});
