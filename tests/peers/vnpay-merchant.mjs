// A third-party merchant implementation of the VNPay protocol 2.1.0, the npm `vnpay` package, as
// the interoperability tests' peer. Prints one JSON line.
//
//   node vnpay-merchant.mjs pay-url HOST TMN SECRET TXN_REF AMOUNT_VND RETURN_URL
//     the pay URL the package builds (HOST: the gateway's base, e.g. http://…/sandbox/vnpay)
//   node vnpay-merchant.mjs verify TMN SECRET QUERY
//     what the package reads from a return or IPN query (isVerified, isSuccess, the amount)
import { VNPay, ignoreLogger } from "vnpay";

const [command, ...args] = process.argv.slice(2);

function client(host, tmnCode, secureSecret) {
  return new VNPay({ tmnCode, secureSecret, vnpayHost: host, hashAlgorithm: "SHA512", enableLog: false, loggerFn: ignoreLogger });
}

// yyyyMMddHHmmss in GMT+7.
function gmt7(date) {
  const d = new Date(date.getTime() + 7 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

if (command === "pay-url") {
  const [host, tmn, secret, txnRef, amount, returnUrl] = args;
  const now = new Date();
  const url = client(host, tmn, secret).buildPaymentUrl({
    vnp_Amount: Number(amount),
    vnp_IpAddr: "127.0.0.1",
    vnp_ReturnUrl: returnUrl,
    vnp_TxnRef: txnRef,
    vnp_OrderInfo: `Thanh toan don hang ${txnRef}`,
    vnp_CreateDate: gmt7(now),
    vnp_ExpireDate: gmt7(new Date(now.getTime() + 15 * 60 * 1000)),
  });
  console.log(JSON.stringify({ url }));
} else if (command === "verify") {
  const [tmn, secret, query] = args;
  const params = Object.fromEntries(new URLSearchParams(query));
  const verified = client("http://unused", tmn, secret).verifyIpnCall(params);
  console.log(JSON.stringify({ isVerified: verified.isVerified, isSuccess: verified.isSuccess, amount: verified.vnp_Amount, txnRef: verified.vnp_TxnRef }));
} else {
  console.error("usage: vnpay-merchant.mjs pay-url … | verify …");
  process.exit(2);
}
