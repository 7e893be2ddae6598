// Reads QR codes from camera frames and pictures, for every page that scans (DESIGN decision 10).
// The browser's own BarcodeDetector where it reads QR codes (Android, macOS, ChromeOS); elsewhere
// (Linux, Windows, Firefox, iOS) the vendored barcode-detector ponyfill, built on zxing-wasm.
// The ponyfill fetches its .wasm from a CDN unless told otherwise: we point it at our own copy,
// the exact version it pins (tests/test_vendor.py checks the hash). A page that uses the ponyfill
// needs 'wasm-unsafe-eval' in its script-src (webapp.security.content_security_policy).

const PONYFILL_URL = new URL("../../vendor/barcode-detector/ponyfill.js", import.meta.url).href;

// For the service worker's precache and the page's CSP: where the decoder's wasm is served.
export const ZXING_WASM_URL = new URL("../../vendor/zxing-wasm/zxing_reader.wasm", import.meta.url).href;

async function nativeQrDetector() {
  const Native = globalThis.BarcodeDetector;
  if (typeof Native !== "function" || typeof Native.getSupportedFormats !== "function") return null;
  const formats = await Native.getSupportedFormats().catch(() => []);
  return formats.includes("qr_code") ? new Native({ formats: ["qr_code"] }) : null;
}

async function ponyfillQrDetector() {
  // Loaded only when needed: phones with a native detector never download the wasm.
  const { BarcodeDetector, prepareZXingModule } = await import(PONYFILL_URL);
  prepareZXingModule({
    overrides: {
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? ZXING_WASM_URL : prefix + path),
    },
  });
  return new BarcodeDetector({ formats: ["qr_code"] });
}

/**
 * A BarcodeDetector for QR codes: `await detector.detect(source)` takes a video element, an image,
 * a canvas, an ImageBitmap, ImageData or a Blob (an uploaded photo), and gives the codes it read,
 * each with its text in `rawValue`. `{ native: false }` forces the ponyfill (tests, comparisons).
 */
export async function createQrDetector({ native = true } = {}) {
  return (native && (await nativeQrDetector())) || ponyfillQrDetector();
}
