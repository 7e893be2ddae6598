// The live QR (the contract: docs/card-token.md, "live code"): every 30-second window the phone signs
// T + "." + W with its device key, and the QR carries PUBLIC_BASE_URL/v# + digits(T.W.S), the URL as
// a byte segment and the rest as a numeric segment, ECC level M, version 20 at most.
import { correction, generate, mode } from "../../vendor/lean-qr/index.mjs";
import { base64url } from "./store.js";

export const WINDOW_SECONDS = 30;
const DIGIT_OFFSET = 45; // "-", the lowest character of base64url and "."
export const MAX_VERSION = 20;

/** The window number for a phone clock corrected by `offsetMs` (server time minus phone time). */
export function currentWindow(offsetMs = 0, nowMs = Date.now()) {
  return Math.floor((nowMs + offsetMs) / 1000 / WINDOW_SECONDS);
}

/** Milliseconds until the next window starts (the app redraws then). */
export function msToNextWindow(offsetMs = 0, nowMs = Date.now()) {
  const corrected = nowMs + offsetMs;
  return WINDOW_SECONDS * 1000 - (corrected % (WINDOW_SECONDS * 1000));
}

export function toDigits(text) {
  let digits = "";
  for (let i = 0; i < text.length; i += 1) digits += String(text.charCodeAt(i) - DIGIT_OFFSET).padStart(2, "0");
  return digits;
}

/** The live code T.W.S for a window, signed with the device's private key (WebCrypto returns the
 *  64-byte r||s signature the format asks for). */
export async function liveCode(token, window, privateKey) {
  const signed = `${token}.${window}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    privateKey,
    new TextEncoder().encode(signed),
  );
  return `${signed}.${base64url(signature)}`;
}

/** The QR's modules for a live code: the verify URL's prefix as bytes, the code as digits. */
export function liveQr(prefix, code) {
  return generate(mode.multi(mode.iso8859_1(prefix), mode.numeric(toDigits(code))), {
    minCorrectionLevel: correction.M,
    maxCorrectionLevel: correction.M, // never boosted: the contract says M, and the decoder budget too
    maxVersion: MAX_VERSION,
  });
}

/** Draw the QR on a canvas at one pixel per module with the 4-module quiet zone; CSS scales it up
 *  (image-rendering: pixelated keeps the modules sharp). */
export function drawQr(canvas, qr) {
  qr.toCanvas(canvas, { pad: 4, on: [0, 0, 0, 255], off: [255, 255, 255, 255] });
}
