// A business representative pays land obligations online: An signs in with VNeID, acts for his
// cooperative, sees its two payment notices from the tax authority (one overdue, with late
// interest), pays both in one payment through the sandbox VNPay gateway, comes back, and sees
// them paid with the electronic receipt in his wallet.
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

test("a representative pays two land obligations, one late, in one payment and gets the receipt", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(page, "001088012345");
  await page.waitForURL(`${BASE_URL}/account`);
  await page.getByLabel(/Hợp tác xã Nông nghiệp An Bình/).check();
  await page.getByRole("link", { name: "Nghĩa vụ tài chính về đất đai" }).click();
  await page.getByRole("heading", { name: "Nghĩa vụ tài chính về đất đai" }).waitFor();
  const notices = page.locator("li.obligation");
  await notices.first().waitFor();
  assert.equal(await notices.count(), 2);
  const rent = notices.filter({ hasText: "TB-TTD-2026-0977" });
  const fee = notices.filter({ hasText: "TB-LPTB-2026-0458" });
  // The rent's first instalment is 20 days late: 0.03 % a day on 12.000.000 ₫ for 19 days.
  assert.match(await rent.innerText(), /Tiền chậm nộp 68\.400 ₫ \(19 ngày chậm\)/);
  assert.doesNotMatch(await fee.innerText(), /Tiền chậm nộp/);
  await screenshot(page, "phone-obligations-vi");

  await rent.getByRole("checkbox").check();
  await fee.getByRole("checkbox").check();
  await page.getByRole("button", { name: "Thanh toán các khoản đã chọn" }).click();
  await page.getByRole("heading", { name: "Xác nhận thanh toán" }).waitFor();
  // 24.000.000 + 68.400 interest + 6.000.000.
  assert.match(await page.locator(".pay-total").innerText(), /30\.068\.400 ₫/);
  await screenshot(page, "phone-obligations-confirm-vi");
  await page.getByRole("button", { name: /Đến cổng thanh toán/ }).click();
  await page.getByRole("heading", { name: /Cổng thanh toán VNPAY/ }).waitFor();
  assert.match(await page.locator(".amount").innerText(), /30\.068\.400 ₫/);
  await page.getByRole("button", { name: "Thanh toán", exact: true }).click();
  await page.waitForURL(/\/payments\/vnpay\/return\?/);
  await page.getByText("Thanh toán thành công.").waitFor();
  await screenshot(page, "phone-obligations-paid-vi");

  await page.getByRole("link", { name: "Về nghĩa vụ tài chính" }).click();
  await page.getByRole("heading", { name: "Nghĩa vụ tài chính về đất đai" }).waitFor();
  await page.locator("li.obligation.is-paid").nth(1).waitFor();
  assert.equal(await page.locator("li.obligation.is-paid").count(), 2);

  await page.goto(`${BASE_URL}/wallet`);
  await page.getByText("Biên lai thu điện tử").first().waitFor();
  await screenshot(page, "phone-wallet-receipt-vi");
});
