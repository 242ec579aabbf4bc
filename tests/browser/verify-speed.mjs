// `cargo xtask bench`: how long the verifier's WebAssembly takes to verify one credential in
// Chromium (decoding, signature, validity), for each credential in An's wallet, at full speed
// and with the CPU slowed 4x as Chrome's devtools do to stand in for a cheap phone.
// Prints one line per credential: "wasm-verify TYPE FULL_MS SLOW_MS VERSION".
import { BASE_URL, PHONE, launch, signInWithEid } from "./helpers.js";

const RUNS = 500;
const browser = await launch();
try {
  const citizen = await (await browser.newContext(PHONE)).newPage();
  await signInWithEid(citizen, "001088012345");
  await citizen.waitForURL(`${BASE_URL}/account`);
  const wallet = await (await citizen.request.get(`${BASE_URL}/api/v1/wallet`)).json();
  if (!wallet.credentials?.length) throw new Error("An's wallet is empty");

  const verifier = await (await browser.newContext(PHONE)).newPage();
  await verifier.goto(`${BASE_URL}/verify`);
  await verifier.waitForFunction(() => localStorage.getItem("motcua.verifier.trust") !== null);
  const cdp = await verifier.context().newCDPSession(verifier);
  const time = (qr) =>
    verifier.evaluate(
      async ({ qr, runs }) => {
        const module = await import(document.querySelector("link[rel=modulepreload]").href);
        module.verify_timing(qr, 20);
        return module.verify_timing(qr, runs);
      },
      { qr, runs: RUNS },
    );
  const seen = new Set();
  for (const credential of wallet.credentials) {
    if (seen.has(credential.type)) continue;
    seen.add(credential.type);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    const full = await time(credential.qr);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const slow = await time(credential.qr);
    if (full == null || slow == null) throw new Error(`${credential.type} did not verify in the page`);
    console.log(`wasm-verify ${credential.type} ${full.toFixed(3)} ${slow.toFixed(3)} ${credential.qr.length}`);
  }
} finally {
  await browser.close();
}
