// Passkeys on a phone: after an e-ID sign-in the person adds a passkey (Chromium's virtual
// authenticator, through the CDP WebAuthn domain, stands in for the phone's), signs out, and
// signs in again with the passkey alone, keeping the identity level earned with VNeID.
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
