// An officer acting on a dossier that changed while they were looking at it is told so in
// Vietnamese, from the same resource files the PWA uses, and nothing is changed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, DESKTOP, PHONE, launch, payFee, postWithCsrf as post, screenshot, signInWithEid } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});


test("an officer sees in Vietnamese that someone changed the dossier meanwhile", async () => {
  // An files a renewal (through the API, as the PWA does).
  const citizen = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(citizen, "001088012345");
  await citizen.waitForURL(`${BASE_URL}/account`);
  const prefill = await (await citizen.request.get(`${BASE_URL}/api/v1/procedures/1.002804/prefill`)).json();
  const answers = Object.fromEntries(Object.entries(prefill.values).map(([k, v]) => [k, v.value]));
  answers.delivery = "counter";
  const filed = await post(citizen, "/api/v1/dossiers", {
    procedure_code: "1.002804",
    answers,
    idempotency_key: `changed-meanwhile-${Date.now()}`,
  });
  assert.equal(filed.status(), 201);
  const dossier = await filed.json();
  // Its fee is due at filing: paid through the sandbox gateway first.
  await payFee(citizen, dossier.id);

  // Cường opens it in the back office.
  const officer = await (await browser.newContext(DESKTOP)).newPage();
  await signInWithEid(officer, "031180009876");
  await officer.waitForURL(`${BASE_URL}/account`);
  await officer.goto(`${BASE_URL}/office/${dossier.id}`);
  await officer.getByRole("button", { name: "Tiếp nhận", exact: true }).waitFor();

  // Meanwhile An withdraws it.
  assert.equal((await post(citizen, `/api/v1/dossiers/${dossier.id}/withdraw`)).status(), 200);

  // Cường acts on what he sees: refused, and told why in Vietnamese.
  await officer.getByRole("button", { name: "Tiếp nhận", exact: true }).click();
  const alert = officer.getByRole("alert");
  await alert.getByText("Hồ sơ đã được người khác thay đổi trong lúc bạn đang xem.", { exact: false }).waitFor();
  await screenshot(officer, "desktop-office-changed-meanwhile-vi");
  // Nothing changed: the dossier is withdrawn, not received.
  const now = await (await citizen.request.get(`${BASE_URL}/api/v1/dossiers/${dossier.id}`)).json();
  assert.equal(now.status, "withdrawn");
});
