// Service quality in the browser: a dossier filed, processed and issued; the citizen rates it
// and sends feedback about it from the dossier page; the officer answers on their dashboard,
// which shows their agency only; the citizen judges the answer; and the public statistics page,
// without an account, draws the index, its groups, trends and processing times on a phone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, DESKTOP, PHONE, fileRenewal, launch, postWithCsrf as post, screenshot, signInWithEid } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const CITIZEN = "001088012345";
const TRAFFIC_OFFICER = "031180009876";
const COMMUNE_OFFICER = "048190002468";

async function signedIn(options, cccd) {
  const page = await (await browser.newContext(options)).newPage();
  page.setDefaultTimeout(15_000);
  await signInWithEid(page, cccd);
  await page.waitForURL(`${BASE_URL}/account`);
  return page;
}

test("a citizen rates an issued dossier and sends feedback; the officer answers on their dashboard; the citizen judges it", async () => {
  const citizen = await signedIn(PHONE, CITIZEN);
  const dossier = await fileRenewal(citizen);
  const officer = await signedIn(DESKTOP, TRAFFIC_OFFICER);
  for (const action of ["receive", "start_processing", "approve", "issue_result"]) {
    const done = await post(officer, `/api/v1/officer/dossiers/${dossier.id}/actions`, { action });
    assert.equal(done.status(), 200, action);
  }

  await citizen.goto(`${BASE_URL}/dossiers/${dossier.id}`);
  await citizen.getByRole("heading", { name: "Đánh giá chất lượng phục vụ" }).waitFor();
  const send = citizen.getByRole("button", { name: "Gửi đánh giá" });
  assert.equal(await send.isDisabled(), true, "nothing chosen yet");
  await citizen.getByLabel("Hài lòng", { exact: true }).check();
  for (const group of ["Đúng hẹn", "Hướng dẫn rõ ràng", "Thái độ cán bộ"]) {
    await citizen.getByRole("group", { name: group }).getByLabel("5").check();
  }
  await citizen.getByLabel("Nhận xét (không bắt buộc)").fill("Nhanh, không phải đi lại.");
  await send.click();
  await citizen.getByText("Đã lưu đánh giá. Cảm ơn bạn!").waitFor();
  await citizen.getByRole("button", { name: "Cập nhật đánh giá" }).waitFor();
  await screenshot(citizen, "phone-dossier-rated-vi");

  await citizen.getByRole("link", { name: "Gửi phản ánh về hồ sơ này" }).click();
  await citizen.getByRole("heading", { name: "Phản ánh, kiến nghị", level: 1 }).waitFor();
  // The dossier is chosen already.
  assert.equal(await citizen.getByLabel("Việc giải quyết một hồ sơ của tôi").isChecked(), true);
  await citizen.waitForFunction((id) => document.querySelector("#feedback-dossier")?.value === id, dossier.id);
  await citizen.getByLabel("Tiêu đề").fill("Hẹn trả kết quả chưa rõ");
  await citizen.getByLabel("Nội dung").fill("Tin nhắn hẹn không ghi giờ nhận kết quả.");
  await citizen.getByRole("button", { name: "Gửi phản ánh" }).click();
  await citizen.getByText("Đã gửi. Bạn sẽ nhận thông báo khi có trả lời.").waitFor();
  await citizen.getByRole("heading", { name: "Hẹn trả kết quả chưa rõ" }).waitFor();
  await screenshot(citizen, "phone-feedback-sent-vi");

  await officer.goto(`${BASE_URL}/office`);
  await officer.getByRole("link", { name: /Mở bảng điều khiển/ }).click();
  await officer.waitForURL(`${BASE_URL}/office/dashboard`);
  await officer.getByText("Cơ quan CA-PCSGT").waitFor();
  const card = officer.locator("article.feedback-card").filter({ hasText: "Hẹn trả kết quả chưa rõ" });
  await card.getByLabel("Trả lời").fill("Kết quả đã có trong ví giấy tờ của anh; chúng tôi sẽ ghi rõ giờ trong tin nhắn.");
  await card.getByRole("button", { name: "Gửi trả lời" }).click();
  await card.getByText("Kết quả đã có trong ví giấy tờ của anh").waitFor();
  // Ratings show without anyone's name or number.
  await officer.getByText("Nhanh, không phải đi lại.").first().waitFor();
  assert.equal(await officer.getByText(CITIZEN).count(), 0);
  await screenshot(officer, "desktop-office-dashboard-vi");

  await citizen.reload();
  const mine = citizen.locator("article.feedback-card").filter({ hasText: "Hẹn trả kết quả chưa rõ" });
  await mine.getByText("Trả lời của cơ quan").waitFor();
  await mine.getByRole("button", { name: "Đã giải quyết" }).click();
  await mine.getByText("Bạn cho biết: đã giải quyết").waitFor();
  await screenshot(citizen, "phone-feedback-answered-vi");
});

test("an officer's dashboard shows their own agency only", async () => {
  const commune = await signedIn(DESKTOP, COMMUNE_OFFICER);
  await commune.goto(`${BASE_URL}/office/dashboard`);
  await commune.getByText("Cơ quan UBND-XA").waitFor();
  // The traffic police's feedback and late dossiers are not theirs.
  assert.equal(await commune.getByText("Hẹn trả kết quả chưa rõ").count(), 0);
  const asked = await commune.request.get(`${BASE_URL}/api/v1/officer/dashboard?unit=01`);
  assert.equal(asked.status(), 403);
});

test("the public statistics page draws the index, its trend and processing times on a phone", async () => {
  const page = await (await browser.newContext(PHONE)).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${BASE_URL}/`);
  await page.getByRole("link", { name: /Chất lượng phục vụ/ }).click();
  await page.waitForURL(`${BASE_URL}/stats`);
  await page.getByRole("heading", { name: "Chất lượng phục vụ người dân, doanh nghiệp" }).waitFor();
  const total = page.locator(".score-number");
  await total.waitFor();
  assert.match(await total.innerText(), /\d+(,\d+)? \/ 100/);
  await page.getByRole("figure", { name: /Điểm theo nhóm chỉ số/ }).waitFor();
  assert.equal(await page.locator(".bars").first().locator("li").count(), 6, "six groups");
  await page.getByRole("figure", { name: /Tổng điểm theo tháng/ }).waitFor();
  assert.ok((await page.locator("svg.line-chart circle").count()) >= 1, "this month has a point");
  await page.getByRole("figure", { name: /Thời gian giải quyết theo thủ tục/ }).waitFor();
  // Every chart says in words what it shows, and opens as a table.
  const summaries = await page.locator("figure.chart .chart-summary").allInnerTexts();
  assert.ok(summaries.length >= 3 && summaries.every((s) => s.length > 10), summaries.join(" | "));
  await page.getByText("Xem dạng bảng").first().click();
  await page.locator("figure.chart table").first().getByRole("row").nth(1).waitFor();
  await screenshot(page, "phone-stats-vi");

  // A province: Hà Nội has the renewals; nobody filed in Hải Phòng.
  await page.getByLabel("Tỉnh, thành phố").selectOption("01");
  await page.getByLabel("Quận, huyện hoặc xã, phường").waitFor();
  await page.getByText(/hồ sơ được tiếp nhận/).waitFor();
  await page.getByLabel("Tỉnh, thành phố").selectOption("31");
  await page.getByText("0 hồ sơ được tiếp nhận, đang giải quyết hoặc trả kết quả trong kỳ.").waitFor();
});
