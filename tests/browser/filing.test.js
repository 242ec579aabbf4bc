// The heart of the product, end to end: a citizen on a phone files a driving-licence renewal with
// everything the state knows pre-filled and locked, choosing only how to receive it; an officer
// at a desktop receives, processes and approves it; the citizen sees the new status. And a
// level-1 person is asked to step up before a level-2 procedure.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, DESKTOP, PHONE, launch, screenshot, signInWithEid } from "./helpers.js";

// A 1×1 PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478" +
    "9c63f8cfc00000030101 00c9fe92ef0000000049454e44ae426082".replace(/ /g, ""),
  "hex",
);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a citizen files a renewal without typing, an officer approves it, the citizen sees it", async () => {
  const citizen = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(citizen, "001088012345");
  await citizen.waitForURL(`${BASE_URL}/account`);
  await citizen.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();

  await citizen.goto(`${BASE_URL}/procedures`);
  await citizen.getByRole("link", { name: "Cấp đổi giấy phép lái xe" }).click();
  await citizen.getByRole("heading", { level: 1, name: "Cấp đổi giấy phép lái xe" }).waitFor();
  await screenshot(citizen, "phone-procedure-renewal-vi");
  await citizen.getByRole("link", { name: "Nộp hồ sơ trực tuyến" }).click();

  // What the state already knows: verified, locked, with where it came from.
  await citizen.getByRole("heading", { name: "Thông tin Nhà nước đã có" }).waitFor();
  const known = await citizen.locator("dl.answers").innerText();
  for (const value of [
    "Nguyễn Văn An",
    "14/03/1988",
    "001088012345",
    "Số 12 phố Hàng Bông, Phường Hàng Trống, Quận Hoàn Kiếm, Thành phố Hà Nội",
    "010123456789",
    "GKSK-2026-010-88123",
  ]) {
    assert.ok(known.includes(value), `${value} is pre-filled`);
  }
  assert.equal(await citizen.getByText("✓ Nhà nước đã xác thực").count(), 7);
  assert.ok(known.includes("Từ CSDL giấy khám sức khỏe điện tử"));
  await screenshot(citizen, "phone-filing-verified-vi");
  await citizen.getByRole("button", { name: "Tiếp tục" }).click();

  // The portrait comes from the warehouse (uploaded before); the person uploads a newer one,
  // watching its progress, and it is chosen.
  await citizen.getByRole("heading", { name: "Ảnh chân dung" }).waitFor();
  assert.ok(await citizen.getByLabel(/Ảnh chân dung nền trắng/).isChecked());
  // A file that only claims to be a picture is refused in the page, before any upload.
  await citizen.getByLabel("Hoặc tải lên bản khác").setInputFiles({ name: "anh-gia.png", mimeType: "image/png", buffer: Buffer.from("<html>not a picture</html>") });
  await citizen.getByRole("alert").filter({ hasText: "Tệp không phải PDF, JPEG hay PNG" }).waitFor();
  assert.ok(await citizen.getByLabel(/Ảnh chân dung nền trắng/).isChecked(), "the earlier choice stays");
  assert.equal(await citizen.getByLabel(/anh-gia\.png/).count(), 0, "nothing was uploaded");
  await citizen.getByLabel("Hoặc tải lên bản khác").setInputFiles({ name: "anh-moi.png", mimeType: "image/png", buffer: PNG });
  await citizen.getByLabel(/anh-moi\.png/).waitFor();
  assert.ok(await citizen.getByLabel(/anh-moi\.png/).isChecked(), "the new upload is chosen");
  await screenshot(citizen, "phone-filing-document-vi");
  await citizen.getByRole("button", { name: "Tiếp tục" }).click();

  // The phone number is a suggestion from the population register: kept as it is.
  await citizen.getByRole("heading", { name: "Số điện thoại" }).waitFor();
  assert.equal(await citizen.getByLabel("Số điện thoại").inputValue(), "0912345678");
  await citizen.getByRole("button", { name: "Tiếp tục" }).click();

  // The one real choice; continuing without it says what to do.
  await citizen.getByRole("heading", { name: "Nhận giấy phép lái xe mới" }).waitFor();
  await citizen.getByRole("button", { name: "Tiếp tục" }).click();
  await citizen.locator(".field-error").waitFor();
  await citizen.getByLabel("Qua bưu chính, tại nơi thường trú").check();
  await screenshot(citizen, "phone-filing-question-vi");
  await citizen.getByRole("button", { name: "Tiếp tục" }).click();

  await citizen.getByRole("heading", { name: "Kiểm tra lại trước khi nộp" }).waitFor();
  assert.match(await citizen.locator("dl.answers").innerText(), /Qua bưu chính/);
  await screenshot(citizen, "phone-filing-check-vi");
  await citizen.getByRole("button", { name: "Nộp hồ sơ" }).click();

  await citizen.getByRole("heading", { name: "Đã nộp hồ sơ" }).waitFor();
  const receipt = (await citizen.locator(".receipt-number").innerText()).trim();
  assert.match(receipt, /^CA-PCSGT-\d{8}-\d{4}$/);
  // The renewal's reduced online fee is due now: the dossier waits for it, and its clock
  // starts when the gateway confirms the payment.
  const fee = citizen.locator(".confirmation .fee");
  assert.match(await fee.innerText(), /Lệ phí: 115\.000 ₫/);
  assert.match(await fee.innerText(), /Hồ sơ đang chờ thanh toán lệ phí/);
  await screenshot(citizen, "phone-filing-done-vi");
  await citizen.getByRole("button", { name: "Thanh toán lệ phí" }).click();
  await citizen.getByRole("heading", { name: "Xác nhận thanh toán" }).waitFor();
  assert.match(await citizen.locator(".pay-total").innerText(), /115\.000 ₫/);
  await screenshot(citizen, "phone-pay-confirm-vi");
  await citizen.getByRole("button", { name: /Đến cổng thanh toán/ }).click();
  // The sandbox gateway's own page, then back.
  await citizen.getByRole("heading", { name: /Cổng thanh toán VNPAY/ }).waitFor();
  await screenshot(citizen, "phone-gateway-vi");
  await citizen.getByRole("button", { name: "Thanh toán", exact: true }).click();
  await citizen.waitForURL(/\/payments\/vnpay\/return\?/);
  await citizen.getByText("Thanh toán thành công.").waitFor();
  await screenshot(citizen, "phone-pay-return-vi");
  await citizen.getByRole("link", { name: "Xem hồ sơ" }).click();
  await citizen.getByText("Đã thanh toán lệ phí; bắt đầu tính thời hạn").waitFor();
  assert.match(await citizen.locator(".clocks").innerText(), /Hạn trả kết quả\s+\d{2}\/\d{2}\/\d{4} 17:00/);
  await screenshot(citizen, "phone-dossier-paid-vi");

  // The officer of the traffic police of Hà Nội, at a desktop.
  const officer = await (await browser.newContext(DESKTOP)).newPage();
  await signInWithEid(officer, "031180009876");
  await officer.waitForURL(`${BASE_URL}/account`);
  await officer.getByRole("link", { name: "Một cửa", exact: true }).click();
  await officer.getByRole("heading", { name: "Hồ sơ chờ xử lý" }).waitFor();
  await officer.getByRole("link", { name: receipt }).waitFor();
  await screenshot(officer, "desktop-office-queue-vi");
  await officer.getByRole("link", { name: receipt }).click();
  await officer.getByRole("heading", { level: 1, name: "Cấp đổi giấy phép lái xe" }).waitFor();
  assert.match(await officer.locator("dl.answers").innerText(), /010123456789/);
  // The portrait the citizen attached opens for the officer (and the opening is logged for the citizen).
  const href = await officer.locator("dl.answers").getByRole("link", { name: "Mở giấy tờ" }).getAttribute("href");
  assert.match(href, /^\/api\/v1\/officer\/dossiers\/[^/]+\/documents\/[^/]+$/);
  const portrait = await officer.request.get(`${BASE_URL}${href}`);
  assert.equal(portrait.status(), 200);
  assert.equal(portrait.headers()["content-type"], "image/png");
  // As the desk's lead he could hand it to an officer of the desk; he takes it on himself.
  await officer.getByLabel("Giao cho cán bộ").locator("option", { hasText: "Lê Minh Cường" }).waitFor({ state: "attached" });
  await officer.getByRole("button", { name: "Nhận xử lý" }).click();
  await officer.locator("aside strong", { hasText: "Lê Minh Cường" }).waitFor();
  for (const [action, status] of [
    ["Tiếp nhận", "Đã tiếp nhận"],
    ["Bắt đầu giải quyết", "Đang giải quyết"],
    ["Phê duyệt", "Đã phê duyệt"],
  ]) {
    await officer.getByRole("button", { name: action, exact: true }).click();
    await officer.locator(".office-main .badge", { hasText: status }).waitFor();
  }
  await screenshot(officer, "desktop-office-approved-vi");

  // The citizen sees it, and is told (the outbox worker makes the notice within seconds).
  await citizen.goto(`${BASE_URL}/dossiers`);
  for (let i = 0; i < 20 && !(await citizen.getByText(`Hồ sơ ${receipt} đã được phê duyệt`).count()); i++) {
    await citizen.waitForTimeout(500);
    await citizen.reload();
  }
  await citizen.getByText(`Hồ sơ ${receipt} đã được phê duyệt`).waitFor();
  const card = citizen.locator("article.dossier", { hasText: receipt });
  await card.locator(".badge", { hasText: "Đã phê duyệt" }).waitFor();
  await card.getByRole("link").click();
  const timeline = citizen.locator("ol.timeline");
  await timeline.getByText("Phê duyệt", { exact: true }).waitFor();
  assert.match(await timeline.innerText(), /Nộp hồ sơ[\s\S]*Cán bộ tiếp nhận[\s\S]*Phê duyệt/);
  await screenshot(citizen, "phone-dossier-approved-vi");
});

test("a level-1 person is asked to step up before a level-2 procedure", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(page, "079195004321");
  await page.waitForURL(`${BASE_URL}/account`);
  await page.goto(`${BASE_URL}/procedures/1.002804`);
  await page.getByText("Cần tài khoản định danh điện tử mức 2").waitFor();
  await page.getByRole("link", { name: "Nộp hồ sơ trực tuyến" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /mức 2/);
  // The way forward: sign in again with VNeID, authenticated anew at level 2, coming back to
  // this page.
  const link = alert.getByRole("link", { name: "Đăng nhập bằng VNeID" });
  assert.match(await link.getAttribute("href"), /^\/auth\/login\?step_up=level2&return_to=%2Fprocedures%2F1\.002804%2Ffile$/);
  await screenshot(page, "phone-filing-step-up-vi");
});
