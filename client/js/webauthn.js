// Passkeys in the browser: the server's WebAuthn options (JSON, base64url) become
// navigator.credentials calls, and the credential comes back as JSON for the server.
function decode(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function encode(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const withIds = (list) => (list ?? []).map((c) => ({ ...c, id: decode(c.id) }));

function toJson(credential) {
  const r = credential.response;
  const out = {
    id: credential.id,
    rawId: encode(credential.rawId),
    type: credential.type,
    extensions: credential.getClientExtensionResults?.() ?? {},
    response: { clientDataJSON: encode(r.clientDataJSON) },
  };
  if (r.attestationObject) {
    out.response.attestationObject = encode(r.attestationObject);
    out.response.transports = r.getTransports?.() ?? [];
  } else {
    out.response.authenticatorData = encode(r.authenticatorData);
    out.response.signature = encode(r.signature);
    out.response.userHandle = r.userHandle ? encode(r.userHandle) : null;
  }
  return out;
}

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

export async function createPasskey(optionsJson) {
  const pk = JSON.parse(optionsJson).publicKey;
  const publicKey = {
    ...pk,
    challenge: decode(pk.challenge),
    user: { ...pk.user, id: decode(pk.user.id) },
    excludeCredentials: withIds(pk.excludeCredentials),
  };
  return JSON.stringify(toJson(await navigator.credentials.create({ publicKey })));
}

export async function getPasskey(optionsJson) {
  const pk = JSON.parse(optionsJson).publicKey;
  const publicKey = { ...pk, challenge: decode(pk.challenge), allowCredentials: withIds(pk.allowCredentials) };
  return JSON.stringify(toJson(await navigator.credentials.get({ publicKey })));
}
