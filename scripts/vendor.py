"""Copy the front-end files the app serves from node_modules/ into static/vendor/ (`make vendor`).

`make vendor` runs `npm ci` first, so node_modules/ holds exactly what package-lock.json pins; this
script then copies only the files listed in SERVED below (never a whole package), and writes
static/vendor/manifest.json: each package's version as locked, and each copied file's path, the
file it was copied from and its SHA-256. The copies are committed: running the app needs no Node,
and tests/test_vendor.py checks the copies against the manifest and the lock file.

Adding a package: `npm install --save-exact NAME@VERSION`, list its served files here, run
`make vendor`, commit package.json, package-lock.json and static/vendor/.

Python's standard library only, so it runs before the virtualenv exists.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"
LOCK_FILE = ROOT / "package-lock.json"

# package -> {file in the package: name under static/vendor/<package>/}. The licence files go
# along: the MIT, Apache and OFL licences ask for their notice to travel with the copies.
SERVED: dict[str, dict[str, str]] = {
    # The BarcodeDetector ponyfill (cameras without a native QR BarcodeDetector: Linux, Firefox,
    # iOS). Its ES build is two files; the second bundles zxing-wasm's reader JavaScript.
    "barcode-detector": {
        "dist/es/ponyfill.js": "ponyfill.js",
        "dist/es/zxing-exported.js": "zxing-exported.js",
        "LICENSE": "LICENSE",
    },
    # The reader-only WebAssembly (1.1 MB; the "full" build adds a QR writer we do not need). It must
    # be the exact version barcode-detector pins, else it fails with "memory access out of bounds".
    "zxing-wasm": {
        "dist/reader/zxing_reader.wasm": "zxing_reader.wasm",
        "LICENSE": "LICENSE",
    },
    # The API docs page (/api/docs): the UMD bundle (React included) and its stylesheet. It renders
    # under the app's strict CSP as it is, unlike Redoc and RapiDoc (inline <style>, Google Fonts).
    "swagger-ui-dist": {
        "swagger-ui-bundle.js": "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        "swagger-ui.css": "swagger-ui.css",
        "LICENSE": "LICENSE",
        "NOTICE": "NOTICE",
    },
    # Charts of the partner portal and the back office: 42 KB gzip as an ES module (Chart.js ~70 KB).
    "uplot": {
        "dist/uPlot.esm.js": "uPlot.esm.js",
        "dist/uPlot.min.css": "uPlot.min.css",
        "LICENSE": "LICENSE",
    },
    # The card app's QR encoder (the live QR, drawn on the phone every 30 seconds): one ES module of
    # 7 KB, with explicit segments (the URL as bytes, the live code as digits) and a fixed ECC level.
    "lean-qr": {
        "index.mjs": "index.mjs",
        "LICENSE": "LICENSE",
    },
    # The one typeface of every screen, from static/ rather than whatever the phone has: regular and
    # bold, woff2 only (every browser we serve reads it), Latin and Latin Extended subsets ...
    "@fontsource/noto-sans": {
        "files/noto-sans-latin-400-normal.woff2": "noto-sans-latin-400-normal.woff2",
        "files/noto-sans-latin-700-normal.woff2": "noto-sans-latin-700-normal.woff2",
        "files/noto-sans-latin-ext-400-normal.woff2": "noto-sans-latin-ext-400-normal.woff2",
        "files/noto-sans-latin-ext-700-normal.woff2": "noto-sans-latin-ext-700-normal.woff2",
        "LICENSE": "LICENSE",
    },
    # ... and the Arabic subset of Noto Sans Arabic (its Latin glyphs would duplicate Noto Sans').
    "@fontsource/noto-sans-arabic": {
        "files/noto-sans-arabic-arabic-400-normal.woff2": "noto-sans-arabic-arabic-400-normal.woff2",
        "files/noto-sans-arabic-arabic-700-normal.woff2": "noto-sans-arabic-arabic-700-normal.woff2",
        "LICENSE": "LICENSE",
    },
}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locked_versions(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """Each installed package's version as package-lock.json (lockfileVersion 3) pins it."""
    packages = json.loads(lock_file.read_text(encoding="utf-8"))["packages"]
    return {
        location.removeprefix("node_modules/"): entry["version"]
        for location, entry in packages.items()
        if location.startswith("node_modules/") and "/node_modules/" not in location
    }


def installed_version(package: str, node_modules: Path = NODE_MODULES) -> str:
    return json.loads((node_modules / package / "package.json").read_text(encoding="utf-8"))["version"]


def vendor(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR, lock_file: Path = LOCK_FILE) -> dict:
    """Replace vendor_dir with fresh copies of the SERVED files and return the manifest written."""
    versions = locked_versions(lock_file)
    installed = {package: installed_version(package, node_modules) for package in SERVED}
    problems = [
        f"{package}: package-lock.json pins {versions.get(package)}, node_modules has {installed[package]}"
        for package in SERVED
        if versions.get(package) != installed[package]
    ]
    if problems:
        raise SystemExit("node_modules does not match package-lock.json (run `npm ci`):\n" + "\n".join(problems))
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)  # a file no longer served must not linger
    manifest: dict = {
        "generated_by": "scripts/vendor.py (make vendor): do not edit by hand",
        "packages": {},
    }
    for package, files in SERVED.items():
        entries = []
        for source, name in files.items():
            origin = node_modules / package / source
            target = vendor_dir / package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
            entries.append(
                {
                    "path": target.relative_to(vendor_dir).as_posix(),
                    "source": source,
                    "bytes": target.stat().st_size,
                    "sha256": sha256_of(target),
                }
            )
        manifest["packages"][package] = {"version": versions[package], "files": entries}
    (vendor_dir / MANIFEST.name).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    if not NODE_MODULES.is_dir():
        raise SystemExit("node_modules/ is missing: run `npm ci` first (`make vendor` does)")
    manifest = vendor()
    for package, entry in manifest["packages"].items():
        size = sum(file["bytes"] for file in entry["files"])
        print(f"{package}@{entry['version']}: {len(entry['files'])} files, {size:,} bytes", file=sys.stdout)
    print(f"wrote {MANIFEST.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
