// `cargo xtask bench`: Lighthouse (npm `lighthouse`) on the public pages, as a phone on a slow
// connection sees them: the mobile form factor with Lighthouse's simulated slow 4G and 4x CPU
// slowdown (its defaults). Each page three times, the median run kept. Prints one line per page:
// "lighthouse PATH PERFORMANCE LCP_MS FCP_MS TBT_MS CLS".
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const BASE_URL = process.env.BASE_URL ?? "http://localhost:8080";
const PAGES = ["/", "/procedures", "/procedures/1.002804"];
const RUNS = 3;

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
try {
  for (const path of PAGES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const result = await lighthouse(`${BASE_URL}${path}`, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance"],
      });
      const { categories, audits } = result.lhr;
      if (result.lhr.runtimeError) throw new Error(`${path}: ${result.lhr.runtimeError.message}`);
      runs.push({
        score: categories.performance.score,
        lcp: audits["largest-contentful-paint"].numericValue,
        fcp: audits["first-contentful-paint"].numericValue,
        tbt: audits["total-blocking-time"].numericValue,
        cls: audits["cumulative-layout-shift"].numericValue,
      });
    }
    runs.sort((a, b) => a.score - b.score);
    const m = runs[Math.floor(runs.length / 2)];
    console.log(
      `lighthouse ${path} ${m.score.toFixed(2)} ${m.lcp.toFixed(0)} ${m.fcp.toFixed(0)} ${m.tbt.toFixed(0)} ${m.cls.toFixed(3)}`,
    );
  }
} finally {
  await chrome.kill();
}
