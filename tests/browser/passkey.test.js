// Passkeys on a phone: after an e-ID sign-in the person adds a passkey (Chromium's virtual
// authenticator, through the CDP WebAuthn domain, stands in for the phone's), signs out, and
// signs in again with the passkey alone, keeping the identity level earned with VNeID.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE_URL, PHONE, launch, screenshot, signInWithEid, startServer } from "./helpers.js";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function withAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

test("a passkey added after an e-ID sign-in then signs in alone, keeping level 2", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const { cdp, authenticatorId } = await withAuthenticator(context, page);

  await page.goto(`${BASE_URL}/account`);
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).click();
  await page.getByLabel("Số định danh cá nhân (CCCD)").fill("001088012345");
  await page.getByLabel("Mật khẩu").fill("demo1234");
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();

  await page.getByLabel("Tên khóa truy cập").fill("Điện thoại thử nghiệm");
  await page.getByRole("button", { name: "Thêm khóa truy cập trên thiết bị này" }).click();
  await page.locator("ul.passkeys").getByText("Điện thoại thử nghiệm").waitFor();
  await screenshot(page, "phone-account-passkey-added-vi");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, "a discoverable credential");

  await page.getByRole("button", { name: "Đăng xuất", exact: true }).click();
  await page.getByRole("button", { name: "Đăng nhập bằng khóa truy cập (passkey)" }).click();
  await page.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();
  assert.match(await page.locator("section.profile").innerText(), /Mức 2/);
  await page.locator("ul.devices").getByText(/Khóa truy cập · đăng nhập lúc/).waitFor();
  assert.match(await page.locator("ul.passkeys").innerText(), /dùng lần cuối/);
  await screenshot(page, "phone-account-passkey-signed-in-vi");

  // Step-up on this same session with the passkey: its verification time moves forward, and the
  // step-up's ceremony cannot be replayed as a sign-in.
  const outcome = await page.evaluate(async () => {
    const decode = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)), (c) => c.charCodeAt(0)).buffer;
    const encode = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const me = await (await fetch("/api/v1/me")).json();
    const headers = { "content-type": "application/json", "x-csrf-token": me.csrf_token };
    const start = await (await fetch("/api/v1/me/step-up/passkey/start", { method: "POST", headers, body: "{}" })).json();
    const pk = start.options.publicKey;
    const c = await navigator.credentials.get({
      publicKey: { ...pk, challenge: decode(pk.challenge), allowCredentials: pk.allowCredentials.map((a) => ({ ...a, id: decode(a.id) })) },
    });
    const credential = {
      id: c.id, rawId: encode(c.rawId), type: c.type, extensions: {},
      response: {
        authenticatorData: encode(c.response.authenticatorData), clientDataJSON: encode(c.response.clientDataJSON),
        signature: encode(c.response.signature), userHandle: c.response.userHandle ? encode(c.response.userHandle) : null,
      },
    };
    const body = JSON.stringify({ ceremony_id: start.ceremony_id, credential });
    const finish = await fetch("/api/v1/me/step-up/passkey/finish", { method: "POST", headers, body });
    const after = await (await fetch("/api/v1/me")).json();
    const replay = await fetch("/auth/passkey/finish", { method: "POST", headers: { "content-type": "application/json" }, body });
    return { finish: finish.status, before: me.authenticated_at, after: after.authenticated_at, replay: replay.status };
  });
  assert.equal(outcome.finish, 204);
  assert.ok(outcome.after > outcome.before, "the session counts as freshly verified");
  assert.equal(outcome.replay, 400, "a used step-up ceremony is gone");

  // "Sign out of all devices" from another browser, signed in with VNeID, also ends this
  // session opened with the passkey.
  const other = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(other, "001088012345");
  await other.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();
  await other.getByRole("button", { name: "Đăng xuất khỏi mọi thiết bị" }).click();
  await other.getByRole("link", { name: "Đăng nhập bằng VNeID" }).waitFor();
  const status = await page.evaluate(async () => (await fetch("/api/v1/me")).status);
  assert.equal(status, 401, "the passkey session ended too");
  await other.context().close();
  await context.close();
});

test("a passkey this site does not know is refused and signs nobody in", async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const { cdp, authenticatorId } = await withAuthenticator(context, page);
  // A passkey for this site's name that was never registered with the server.
  await page.goto(`${BASE_URL}/account`);
  await page.evaluate(async () => {
    const rand = (n) => crypto.getRandomValues(new Uint8Array(n));
    await navigator.credentials.create({
      publicKey: {
        challenge: rand(32),
        rp: { id: location.hostname, name: "elsewhere" },
        user: { id: rand(16), name: "stranger", displayName: "Stranger" },
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
        authenticatorSelection: { residentKey: "required", userVerification: "required" },
      },
    });
  });
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  await page.getByRole("button", { name: "Đăng nhập bằng khóa truy cập (passkey)" }).click();
  await page.getByRole("alert").getByText("Khóa truy cập không được chấp nhận hoặc chưa được đăng ký ở đây.").waitFor();
  const me = await page.evaluate(async () => (await fetch("/api/v1/me")).status);
  assert.equal(me, 401);
  await context.close();
});

test("a passkey confirms a level-2 filing once the e-ID sign-in is no longer fresh", async () => {
  // A server of this test's own, where a proof of identity counts as fresh for 2 seconds only.
  const server = await startServer({ host: "localhost", env: { MOTCUA_STEP_UP_MAX_AGE_SECS: "2" } });
  try {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    await withAuthenticator(context, page);
    await page.goto(`${server.url}/account`);
    await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).click();
    await page.getByLabel("Số định danh cá nhân (CCCD)").fill("001088012345");
    await page.getByLabel("Mật khẩu").fill("demo1234");
    await page.getByRole("button", { name: "Đăng nhập" }).click();
    await page.getByRole("heading", { level: 2, name: "Nguyễn Văn An" }).waitFor();
    await page.getByLabel("Tên khóa truy cập").fill("Điện thoại");
    await page.getByRole("button", { name: "Thêm khóa truy cập trên thiết bị này" }).click();
    await page.locator("ul.passkeys").getByText("Điện thoại").waitFor();

    await page.goto(`${server.url}/procedures/1.002804/file`);
    await page.getByRole("heading", { name: "Thông tin Nhà nước đã có" }).waitFor();
    for (const heading of ["Ảnh chân dung", "Số điện thoại"]) {
      await page.getByRole("button", { name: "Tiếp tục" }).click();
      await page.getByRole("heading", { name: heading }).waitFor();
    }
    await page.getByRole("button", { name: "Tiếp tục" }).click();
    await page.getByLabel("Tại bộ phận một cửa").check();
    await page.getByRole("button", { name: "Tiếp tục" }).click();
    await page.getByRole("heading", { name: "Kiểm tra lại trước khi nộp" }).waitFor();
    await page.waitForTimeout(2500);
    await page.getByRole("button", { name: "Nộp hồ sơ" }).click();
    // The sign-in is too old now: the person confirms with the passkey, and the filing goes on.
    const confirm = page.getByRole("button", { name: "Xác nhận bằng khóa truy cập" });
    await confirm.waitFor();
    await screenshot(page, "phone-filing-step-up-passkey-vi");
    await confirm.click();
    await page.getByRole("heading", { name: "Đã nộp hồ sơ" }).waitFor();
    assert.match(await page.locator(".receipt-number").innerText(), /^CA-PCSGT-\d{8}-0001$/);
  } finally {
    await server.stop();
  }
});
