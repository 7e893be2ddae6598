// static/js/card/live-qr.js, the card app's live QR: the digit alphabet the printed QR uses, the
// 30-second window with the phone's clock offset, the device signature WebCrypto makes (verified
// here with the public key, over exactly T + "." + W), and the QR's segments, ECC M, version <= 20.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";

globalThis.crypto ??= webcrypto; // Node 18 (CI's Debian nodejs) has WebCrypto only here

const { MAX_VERSION, currentWindow, liveCode, liveQr, msToNextWindow, toDigits } = await import(
  "../../static/js/card/live-qr.js"
);

function fromBase64url(text) {
  return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
}

test("digits: two per character, '-' is 00, '.' is 01, 'z' is 77 (as the printed QR)", () => {
  assert.equal(toDigits("-.09AZ_az"), "000103122045505277");
});

test("the window is floor(corrected unix seconds / 30), the offset added to the phone's clock", () => {
  assert.equal(currentWindow(0, 1_796_630_429_999), 59_887_680);
  assert.equal(currentWindow(1, 1_796_630_429_999), 59_887_681);
  assert.equal(currentWindow(-120_000, 1_796_630_430_000), 59_887_677);
  assert.equal(msToNextWindow(0, 1_796_630_400_000), 30_000);
  assert.equal(msToNextWindow(5_000, 1_796_630_400_000), 25_000);
});

test("the live code is T.W.S with S the device key's 64-byte r||s signature over T.W", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const token = "eyJhbGciOiJFUzI1NiJ9.eyJjbiI6IlhDMjk0UVo4Uk4ifQ.c2lnbmF0dXJl";
  const code = await liveCode(token, 59_887_680, pair.privateKey);
  const parts = code.split(".");
  assert.equal(parts.length, 5);
  assert.equal(parts[3], "59887680");
  const signature = fromBase64url(parts[4]);
  assert.equal(signature.length, 64);
  const signed = new TextEncoder().encode(`${token}.59887680`);
  const ecdsa = { name: "ECDSA", hash: "SHA-256" };
  assert.ok(await crypto.subtle.verify(ecdsa, pair.publicKey, signature, signed));
  const otherWindow = new TextEncoder().encode(`${token}.59887681`);
  assert.ok(!(await crypto.subtle.verify(ecdsa, pair.publicKey, signature, otherWindow)));
});

test("a live code of a long holder-bound token fits version 20 at ECC M", () => {
  // A holder-bound token is about 520 characters (the printed token plus cnf.k and ds); a 640-character
  // stand-in plus the window and a signature is the worst case the contract budgets.
  const code = `${"A".repeat(640)}.59887680.${"B".repeat(86)}`;
  const qr = liveQr("https://carte.artisanat.ma/v#", code);
  const version = (qr.size - 17) / 4;
  assert.ok(version <= MAX_VERSION, `version ${version}`);
  assert.throws(() => liveQr("https://carte.artisanat.ma/v#", "A".repeat(2000)));
});
