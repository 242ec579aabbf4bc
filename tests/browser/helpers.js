// Shared set-up of the browser tests: Debian's Chromium driven by playwright-core, a phone
// viewport, screenshots of every page visited, and motcua server processes of the tests' own.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:8080";
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? "target/screenshots";

export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: "vi-VN",
  timezoneId: "Asia/Ho_Chi_Minh",
};

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

/** Saves a full-page screenshot as target/screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a motcua server of this test's own (fresh SQLite database, the built PWA), for tests
 * that must stop it or configure it (`env`). Returns { url, stop }.
 */
export async function startServer({ host = "127.0.0.1", env = {} } = {}) {
  const binary = process.env.MOTCUA_SERVER_BIN;
  if (!binary) throw new Error("MOTCUA_SERVER_BIN is not set (cargo xtask test sets it)");
  const port = await freePort();
  // `localhost` where passkeys are used: browsers refuse them for an IP address.
  const url = `http://${host}:${port}`;
  const data = mkdtempSync(join(tmpdir(), "motcua-browser-"));
  const child = spawn(binary, ["serve"], {
    env: {
      ...process.env,
      MOTCUA_ADDR: `127.0.0.1:${port}`,
      MOTCUA_PUBLIC_URL: url,
      MOTCUA_DATABASE_URL: `sqlite://${data}/motcua.db`,
      MOTCUA_DATA_DIR: data,
      MOTCUA_SANDBOX: "true",
      MOTCUA_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("the server did not become healthy within 30 s");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Signs in through the sandbox VNeID provider from the account page (real OIDC redirects). */
export async function signInWithEid(page, cccd, password = "demo1234", base = BASE_URL) {
  await page.goto(`${base}/account`);
  await page.getByRole("link", { name: "Đăng nhập bằng VNeID" }).click();
  await page.getByRole("heading", { name: "Đăng nhập bằng tài khoản định danh điện tử" }).waitFor();
  await page.getByLabel("Số định danh cá nhân (CCCD)").fill(cccd);
  await page.getByLabel("Mật khẩu").fill(password);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
}

export const DESKTOP = {
  viewport: { width: 1280, height: 800 },
  locale: "vi-VN",
  timezoneId: "Asia/Ho_Chi_Minh",
};

/** A state-changing API call with the session's CSRF token, from a signed-in page's context. */
export async function postWithCsrf(page, path, body, base = BASE_URL) {
  const me = await (await page.request.get(`${base}/api/v1/me`)).json();
  return page.request.post(`${base}${path}`, { headers: { "x-csrf-token": me.csrf_token }, data: body ?? {} });
}

/**
 * Pays a dossier's fee as the PWA starts it (POST /api/v1/payments with an Idempotency-Key),
 * then at the sandbox gateway's page ("Thanh toán"), whose IPN confirms it; returns the payment.
 */
export async function payFee(page, dossierId, base = BASE_URL) {
  const me = await (await page.request.get(`${base}/api/v1/me`)).json();
  const started = await page.request.post(`${base}/api/v1/payments`, {
    headers: { "x-csrf-token": me.csrf_token, "idempotency-key": `fee-${dossierId}` },
    data: { dossier_id: dossierId },
  });
  if (![200, 201].includes(started.status())) throw new Error(`payment not started: ${await started.text()}`);
  const payment = await started.json();
  const gateway = await page.request.get(payment.pay_url);
  if (gateway.status() !== 200) throw new Error(`the gateway's page answered ${gateway.status()}`);
  const txnRef = new URL(payment.pay_url).searchParams.get("vnp_TxnRef");
  await page.request.post(`${new URL(payment.pay_url).origin}/sandbox/vnpay/paymentv2/pay`, {
    form: { txn_ref: txnRef, outcome: "success", bank: "NCB", ipn: "now" },
    maxRedirects: 0,
  });
  const paid = await (await page.request.get(`${base}/api/v1/payments/${payment.id}`)).json();
  if (paid.state !== "paid") throw new Error(`the payment is ${paid.state}`);
  return paid;
}

/** Files the driving-licence renewal as the signed-in person (answers pre-filled) and pays its fee. */
export async function fileRenewal(page, base = BASE_URL) {
  const prefill = await (await page.request.get(`${base}/api/v1/procedures/1.002804/prefill`)).json();
  const answers = Object.fromEntries(Object.entries(prefill.values).map(([k, v]) => [k, v.value]));
  answers.delivery = "counter";
  const filed = await postWithCsrf(
    page,
    "/api/v1/dossiers",
    { procedure_code: "1.002804", answers, idempotency_key: `renewal-${Date.now()}-${Math.floor(Math.random() * 1e9)}` },
    base,
  );
  if (filed.status() !== 201) throw new Error(`not filed: ${await filed.text()}`);
  const dossier = await filed.json();
  await payFee(page, dossier.id, base);
  return dossier;
}
