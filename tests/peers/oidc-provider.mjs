// A third-party OpenID Provider for interoperability tests: the certified `oidc-provider`
// package with one confidential client (PKCE required), an RS256 key made at start, the claims
// VNeID gives (name, birthdate, cccd, acr), and a sign-in that completes without a form.
// Usage: node tests/peers/oidc-provider.mjs REDIRECT_URI [ACR]   → prints "issuer URL" when ready.
// ACR is the `acr` the sign-in reports (default vneid:level1); "-" reports none.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const redirectUri = process.argv[2];
if (!redirectUri) {
  console.error("usage: oidc-provider.mjs REDIRECT_URI");
  process.exit(2);
}

export const CLIENT_ID = "motcua-interop";
export const CLIENT_SECRET = "interop-secret-0123456789";
const ACCOUNT = {
  sub: "interop-079195004321",
  cccd: "079195004321",
  name: "Trần Thị Bình",
  birthdate: "1995-11-02",
  acr: process.argv[3] === "-" ? undefined : (process.argv[3] ?? "vneid:level1"),
};

const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
Object.assign(jwk, { kid: "interop-rs256", use: "sig", alg: "RS256" });

const server = createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    scopes: ["openid", "profile"],
    claims: { openid: ["sub"], profile: ["name", "birthdate", "cccd"] },
    acrValues: ["vneid:level1", "vneid:level2", ...(ACCOUNT.acr && !ACCOUNT.acr.startsWith("vneid:") ? [ACCOUNT.acr] : [])],
    cookies: { keys: ["interop-cookie-signing-key"] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      if (id !== ACCOUNT.sub) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: ACCOUNT.name, birthdate: ACCOUNT.birthdate, cccd: ACCOUNT.cccd };
        },
      };
    },
  });
  const callback = provider.callback();
  server.on("request", async (req, res) => {
    if (!req.url.startsWith("/interaction/")) {
      callback(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      let result;
      if (details.prompt.name === "login") {
        result = { login: { accountId: ACCOUNT.sub, ...(ACCOUNT.acr ? { acr: ACCOUNT.acr } : {}) } };
      } else {
        const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        grant.addOIDCScope(details.params.scope);
        grant.addOIDCClaims(["name", "birthdate", "cccd"]);
        result = { consent: { grantId: await grant.save() } };
      }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  console.log(`issuer ${issuer}`);
});
