// The wallet and the verifier, end to end on phones: An's renewed licence, once issued, is in
// his wallet with a QR; a verifier with no account reads that QR from a picture with the
// network cut off and sees "valid"; an officer revokes it; the online check says so at once and
// the verifier after its next refresh; trust data past its maximum age makes it ask to go online.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BASE_URL, DESKTOP, PHONE, launch, payFee, postWithCsrf as post, screenshot, signInWithEid } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});


test("a licence in the wallet verifies offline from a picture of its QR, until it is revoked", async () => {
  const citizen = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(citizen, "001088012345");
  await citizen.waitForURL(`${BASE_URL}/account`);
  const prefill = await (await citizen.request.get(`${BASE_URL}/api/v1/procedures/1.002804/prefill`)).json();
  const answers = Object.fromEntries(Object.entries(prefill.values).map(([k, v]) => [k, v.value]));
  answers.delivery = "post";
  const filed = await post(citizen, "/api/v1/dossiers", { procedure_code: "1.002804", answers, idempotency_key: `wallet-${Date.now()}` });
  assert.equal(filed.status(), 201);
  const dossier = await filed.json();
  // Its fee is due at filing: paid through the sandbox gateway first.
  await payFee(citizen, dossier.id);

  const officer = await (await browser.newContext(DESKTOP)).newPage();
  await signInWithEid(officer, "031180009876");
  await officer.waitForURL(`${BASE_URL}/account`);
  for (const action of ["receive", "start_processing", "approve", "issue_result"]) {
    const done = await post(officer, `/api/v1/officer/dossiers/${dossier.id}/actions`, { action });
    assert.equal(done.status(), 200, action);
  }

  // The wallet: the licence with its QR.
  await citizen.goto(`${BASE_URL}/wallet`);
  const card = citizen.getByRole("article", { name: "Giấy phép lái xe (bản điện tử)" }).first();
  await card.waitFor();
  await card.getByText("Còn hiệu lực", { exact: true }).waitFor();
  assert.match(await card.innerText(), /Nguyễn Văn An[\s\S]*010123456789/);
  await screenshot(citizen, "phone-wallet-licence-vi");
  // The printable PDF downloads from the card.
  const [download] = await Promise.all([
    citizen.waitForEvent("download"),
    card.getByRole("link", { name: "Tải bản PDF để in" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^motcua-[0-9a-f]{12}\.pdf$/);
  const pdf = await download.createReadStream();
  const head = await new Promise((resolve) => pdf.once("data", (chunk) => resolve(chunk.subarray(0, 5).toString())));
  assert.equal(head, "%PDF-");
  await card.getByRole("button", { name: "Xuất trình cho người kiểm tra" }).click();
  const shown = citizen.getByRole("dialog", { name: "Xuất trình cho người kiểm tra" });
  await shown.waitFor();
  await screenshot(citizen, "phone-wallet-show-vi");
  const picture = await shown.locator(".qr").screenshot();
  // The same QR as a camera would film it: a Y4M video that Chromium plays as its camera.
  const camera = join(mkdtempSync(join(tmpdir(), "motcua-camera-")), "qr.y4m");
  writeFileSync(camera, await y4mOf(citizen, picture));
  await shown.getByRole("button", { name: "Đóng" }).click();

  // With no network the wallet still opens, from what this device kept for An (IndexedDB).
  await citizen.waitForFunction(async () => {
    const db = await new Promise((resolve) => {
      const r = indexedDB.open("motcua", 1);
      r.onsuccess = () => resolve(r.result);
    });
    return db.objectStoreNames.contains("kept");
  });
  assert.match((await keptWallet(citizen)) ?? "", /"owner":"001088012345"/);
  await citizen.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
  await citizen.context().setOffline(true);
  await citizen.reload();
  await citizen.getByText("Bạn đang ngoại tuyến: đây là các giấy tờ đã lưu trên thiết bị này.", { exact: false }).waitFor();
  await citizen.getByRole("article", { name: "Giấy phép lái xe (bản điện tử)" }).first().locator(".qr").waitFor();
  await screenshot(citizen, "phone-wallet-offline-vi");
  await citizen.context().setOffline(false);

  // A verifier with no account: one visit online, then no network at all.
  const context = await browser.newContext(PHONE);
  const verifier = await context.newPage();
  await verifier.goto(`${BASE_URL}/verify`);
  await verifier.getByRole("heading", { level: 1, name: "Kiểm tra giấy tờ bằng mã QR" }).waitFor();
  await verifier.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
  await verifier.waitForFunction(() => localStorage.getItem("motcua.verifier.trust") !== null);
  await verifier.reload();
  await context.setOffline(true);
  await verifier.getByLabel("Chụp hoặc chọn ảnh mã QR").setInputFiles({ name: "qr.png", mimeType: "image/png", buffer: picture });
  const verdict = verifier.getByRole("status").filter({ hasText: "Hợp lệ" });
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /Nguyễn Văn An[\s\S]*B/);
  assert.match(await verdict.innerText(), /Dữ liệu tin cậy cập nhật \d+ phút trước/);
  await screenshot(verifier, "phone-verify-offline-valid-vi");
  const qr = await verifier.getByLabel("Hoặc dán nội dung mã QR (bắt đầu bằng VN1:)").inputValue();
  assert.match(qr, /^VN1:/);

  // The officer revokes it: the online check says so at once.
  const wallet = await (await citizen.request.get(`${BASE_URL}/api/v1/wallet`)).json();
  const licence = wallet.credentials.find((c) => c.qr === qr);
  const revoked = await post(officer, `/api/v1/officer/credentials/${licence.id}/status`, { status: "revoked", reason: "Cấp nhầm hạng" });
  assert.equal(revoked.status(), 204);
  const online = await (await citizen.request.post(`${BASE_URL}/api/v1/verify`, { data: { qr } })).json();
  assert.equal(online.revoked, true);
  // The offline verifier still has its earlier status list; once online it refreshes.
  await context.setOffline(false);
  await verifier.getByRole("button", { name: "Kiểm tra" }).click();
  await verifier.getByRole("status").filter({ hasText: "Đã bị thu hồi" }).waitFor();
  await screenshot(verifier, "phone-verify-revoked-vi");
  await context.close();

  // Scanning with the phone's camera: Chromium films the QR (the fake camera plays the Y4M);
  // the page reads it from the frames and checks it, and the camera is off again.
  const filming = await launch([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-video-capture=${camera}`,
  ]);
  try {
    const phone = await filming.newContext({ ...PHONE, permissions: ["camera"] });
    const scanner = await phone.newPage();
    await scanner.goto(`${BASE_URL}/verify`);
    await scanner.getByRole("button", { name: "Quét mã QR bằng camera" }).click();
    await scanner.getByRole("status").filter({ hasText: "Đã bị thu hồi" }).waitFor();
    assert.equal(await scanner.getByLabel("Hoặc dán nội dung mã QR (bắt đầu bằng VN1:)").inputValue(), qr);
    assert.equal(await scanner.locator("video").evaluate((v) => v.srcObject), null, "the camera is off");
    await screenshot(scanner, "phone-verify-camera-vi");
    // In English, the verdict stays.
    await scanner.getByRole("button", { name: "Switch the interface to English" }).click();
    await scanner.getByRole("heading", { level: 1, name: "Check a document by its QR code" }).waitFor();
    await scanner.getByRole("status").filter({ hasText: "Revoked" }).waitFor();
  } finally {
    await filming.close();
  }

  // Signing out leaves nothing of An's wallet on his phone.
  await citizen.goto(`${BASE_URL}/account`);
  await citizen.getByRole("button", { name: "Đăng xuất", exact: true }).click();
  await citizen.getByRole("link", { name: "Đăng nhập bằng VNeID" }).waitFor();
  assert.equal(await keptWallet(citizen), null);

  // Trust data older than its maximum age (48 h): the verifier asks to go online.
  const later = await browser.newContext(PHONE);
  const stale = await later.newPage();
  await stale.goto(`${BASE_URL}/verify`);
  await stale.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 15_000 });
  await stale.waitForFunction(() => localStorage.getItem("motcua.verifier.trust") !== null);
  await later.setOffline(true);
  await stale.clock.install({ time: Date.now() + 49 * 3600 * 1000 });
  await stale.reload();
  await stale.getByLabel("Hoặc dán nội dung mã QR (bắt đầu bằng VN1:)").fill(qr);
  await stale.getByRole("button", { name: "Kiểm tra" }).click();
  const ask = stale.getByRole("status").filter({ hasText: "Không thể xác nhận khi không có mạng" });
  await ask.waitFor();
  assert.doesNotMatch(await ask.innerText(), /Hợp lệ/);
  await screenshot(stale, "phone-verify-stale-vi");
  await later.close();
});

// A few seconds of 640×480 video (YUV 4:2:0) showing `png` on white, as Chromium's fake camera reads it.
async function y4mOf(page, png) {
  const base64 = await page.evaluate(async (data) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const image = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const [w, h] = [640, 480];
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    const side = Math.min(w, h) - 40;
    ctx.drawImage(image, (w - side) / 2, (h - side) / 2, side, side);
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const frame = new Uint8Array(w * h * 1.5).fill(128);
    for (let i = 0; i < w * h; i++) {
      frame[i] = (rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000;
    }
    let text = "";
    for (let i = 0; i < frame.length; i += 0x8000) text += String.fromCharCode(...frame.subarray(i, i + 0x8000));
    return btoa(text);
  }, png.toString("base64"));
  const frame = Buffer.from(base64, "base64");
  const parts = [Buffer.from("YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")];
  for (let i = 0; i < 10; i++) parts.push(Buffer.from("FRAME\n"), frame);
  return Buffer.concat(parts);
}

// The wallet this device keeps for offline use (IndexedDB "motcua", store "kept"), or null.
function keptWallet(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("motcua", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("kept");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("kept").objectStore("kept").get("wallet");
          get.onsuccess = () => resolve(get.result ?? null);
          get.onerror = () => reject(get.error);
        };
      }),
  );
}
