"""The vendored front-end files (static/vendor/, written by `make vendor`): they are what the
manifest says, at the versions package-lock.json pins, and, after `npm ci`, byte for byte what npm
installed. Each check is a function returning its problems, run on the real tree and on a
tampered copy (so that every check is seen to fail when it should)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from webapp.settings import PROJECT_ROOT

VENDOR = PROJECT_ROOT / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"
LOCK_FILE = PROJECT_ROOT / "package-lock.json"
PACKAGE_JSON = PROJECT_ROOT / "package.json"
NODE_MODULES = PROJECT_ROOT / "node_modules"
APP_CSS = PROJECT_ROOT / "static" / "css" / "app.css"
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_files(manifest: dict) -> list[tuple[str, dict]]:
    return [(package, file) for package, entry in manifest["packages"].items() for file in entry["files"]]


def locked_versions(lock: dict) -> dict[str, str]:
    """Top-level installed packages and their versions, from a lockfileVersion 3 package-lock.json."""
    return {
        location.removeprefix("node_modules/"): entry["version"]
        for location, entry in lock["packages"].items()
        if location.startswith("node_modules/") and "/node_modules/" not in location
    }


def hash_problems(vendor: Path, manifest: dict) -> list[str]:
    problems = []
    for _package, file in manifest_files(manifest):
        copy = vendor / file["path"]
        if not copy.is_file():
            problems.append(f"{file['path']}: listed in the manifest, missing from static/vendor/")
        elif sha256_of(copy) != file["sha256"] or copy.stat().st_size != file["bytes"]:
            problems.append(f"{file['path']}: its SHA-256 or size is not the manifest's")
    return problems


def version_problems(manifest: dict, lock: dict, package_json: dict) -> list[str]:
    locked = locked_versions(lock)
    problems = [
        f"{package}: the manifest says {entry['version']}, package-lock.json pins {locked.get(package)}"
        for package, entry in manifest["packages"].items()
        if locked.get(package) != entry["version"]
    ]
    for package, wanted in package_json["dependencies"].items():
        if not EXACT_VERSION.fullmatch(wanted):
            problems.append(f"{package}: package.json asks for {wanted!r}, not an exact version")
        elif locked.get(package) != wanted:
            problems.append(f"{package}: package.json pins {wanted}, package-lock.json {locked.get(package)}")
    return problems


def unlisted_files(vendor: Path, manifest: dict) -> list[str]:
    listed = {file["path"] for _package, file in manifest_files(manifest)} | {"manifest.json"}
    present = {path.relative_to(vendor).as_posix() for path in vendor.rglob("*") if path.is_file()}
    return sorted(present - listed)


def installed_copy_problems(vendor: Path, manifest: dict, node_modules: Path) -> list[str]:
    problems = []
    for package, file in manifest_files(manifest):
        installed = node_modules / package / file["source"]
        if not installed.is_file():
            problems.append(f"{file['path']}: {installed} is not installed")
        elif installed.read_bytes() != (vendor / file["path"]).read_bytes():
            problems.append(f"{file['path']}: differs from {package}/{file['source']} as npm installed it")
    return problems


@pytest.fixture
def manifest() -> dict:
    return read_json(MANIFEST)


@pytest.fixture
def lock() -> dict:
    return read_json(LOCK_FILE)


@pytest.fixture
def tampered(tmp_path: Path, manifest: dict) -> tuple[Path, dict]:
    """A copy of static/vendor/ and its manifest, for the tests to spoil."""
    copy = tmp_path / "vendor"
    shutil.copytree(VENDOR, copy)
    return copy, json.loads(json.dumps(manifest))


def test_every_copy_has_the_manifests_hash(manifest):
    """Each file the manifest lists is in static/vendor/ with the SHA-256 and size written there."""
    assert manifest_files(manifest), "the manifest lists no file"
    assert hash_problems(VENDOR, manifest) == []


def test_a_changed_or_missing_copy_is_caught(tampered):
    """One byte changed in a copy, or a copy deleted, is reported."""
    vendor, manifest = tampered
    wasm = vendor / "zxing-wasm" / "zxing_reader.wasm"
    data = bytearray(wasm.read_bytes())
    data[100] ^= 1
    wasm.write_bytes(bytes(data))
    (vendor / "uplot" / "uPlot.esm.js").unlink()
    assert hash_problems(vendor, manifest) == [
        "zxing-wasm/zxing_reader.wasm: its SHA-256 or size is not the manifest's",
        "uplot/uPlot.esm.js: listed in the manifest, missing from static/vendor/",
    ]


def test_manifest_and_package_json_versions_are_the_locked_ones(manifest, lock):
    """Each vendored package is at the version package-lock.json pins; package.json pins exact versions."""
    assert version_problems(manifest, lock, read_json(PACKAGE_JSON)) == []
    assert set(manifest["packages"]) <= set(read_json(PACKAGE_JSON)["dependencies"])


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        ("manifest", "uplot: the manifest says 0.0.1, package-lock.json pins"),
        ("range", "uplot: package.json asks for '^1.6.0', not an exact version"),
        ("package-json", "uplot: package.json pins 9.9.9, package-lock.json"),
    ],
)
def test_a_version_drift_is_caught(manifest, lock, spoil, expected):
    """A manifest or package.json that disagrees with the lock file, or a version range, is reported."""
    package_json = read_json(PACKAGE_JSON)
    if spoil == "manifest":
        manifest["packages"]["uplot"]["version"] = "0.0.1"
    else:
        package_json["dependencies"]["uplot"] = "^1.6.0" if spoil == "range" else "9.9.9"
    problems = version_problems(manifest, lock, package_json)
    assert len(problems) == 1 and problems[0].startswith(expected)


def test_static_vendor_holds_only_listed_files(manifest):
    """No file in static/vendor/ escapes the manifest (a leftover would be served unchecked)."""
    assert unlisted_files(VENDOR, manifest) == []


def test_an_unlisted_file_is_caught(tampered):
    """A file dropped into static/vendor/ by hand is reported."""
    vendor, manifest = tampered
    (vendor / "uplot" / "extra.js").write_text("alert(1)")
    assert unlisted_files(vendor, manifest) == ["uplot/extra.js"]


def test_the_wasm_is_the_one_the_ponyfill_expects(manifest, lock):
    """The vendored zxing .wasm has the SHA-256 and version the vendored barcode-detector build names
    (a mismatched wasm fails at run time with "memory access out of bounds")."""
    module = (VENDOR / "barcode-detector" / "zxing-exported.js").read_text(encoding="utf-8")
    expected_hashes = set(re.findall(r'"([0-9a-f]{64})"', module))
    assert sha256_of(VENDOR / "zxing-wasm" / "zxing_reader.wasm") in expected_hashes
    version = manifest["packages"]["zxing-wasm"]["version"]
    assert f"npm/zxing-wasm@{version}/" in module  # the build's default CDN URL names its wasm version
    assert lock["packages"]["node_modules/barcode-detector"]["dependencies"]["zxing-wasm"] == version


FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}")
FONT_URL = re.compile(r'url\("?\.\./vendor/([^")]+)"?\)')
UNICODE_RANGE = re.compile(r"unicode-range:\s*([^;]+);")


def app_css_font_faces() -> dict[str, str]:
    """The vendored font file of each @font-face in app.css, and its unicode-range."""
    faces = {}
    for body in FONT_FACE.findall(APP_CSS.read_text(encoding="utf-8")):
        url, unicode_range = FONT_URL.search(body), UNICODE_RANGE.search(body)
        assert url and unicode_range, f"an @font-face without a vendored url or a unicode-range: {body}"
        assert "font-display: swap" in body
        faces[url.group(1)] = unicode_range.group(1).strip()
    return faces


def test_app_css_declares_every_vendored_font_and_only_those(manifest):
    """Each vendored woff2 has its @font-face in app.css, and each @font-face points at a vendored file."""
    vendored = {file["path"] for _package, file in manifest_files(manifest) if file["path"].endswith(".woff2")}
    assert set(app_css_font_faces()) == vendored


def require_node_modules(lock: dict, manifest: dict) -> None:
    if not NODE_MODULES.is_dir():
        pytest.skip("node_modules/ is absent: run `make vendor` (npm ci) to compare the copies with npm's files")
    locked = locked_versions(lock)
    for package in manifest["packages"]:
        installed = read_json(NODE_MODULES / package / "package.json")["version"]
        if installed != locked[package]:
            pytest.skip(f"node_modules/ is stale ({package} {installed}, locked {locked[package]}): run `make vendor`")


def test_copies_are_byte_for_byte_the_installed_files(manifest, lock):
    """After `npm ci`, each copy equals the package file it came from."""
    require_node_modules(lock, manifest)
    assert installed_copy_problems(VENDOR, manifest, NODE_MODULES) == []


def test_a_copy_that_differs_from_npms_file_is_caught(tampered, tmp_path):
    """A copy edited by hand (its manifest hash updated too) differs from the installed file."""
    vendor, manifest = tampered
    node_modules = tmp_path / "node_modules"
    for package, file in manifest_files(manifest):
        installed = node_modules / package / file["source"]
        installed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(vendor / file["path"], installed)
    (vendor / "uplot" / "uPlot.min.css").write_text(".u-over { display: none }")
    assert installed_copy_problems(vendor, manifest, node_modules) == [
        "uplot/uPlot.min.css: differs from uplot/dist/uPlot.min.css as npm installed it"
    ]


def fontsource_unicode_ranges(package: str) -> dict[str, str]:
    """unicode-range of each woff2 file in fontsource's own CSS files, as installed."""
    ranges = {}
    for css in (NODE_MODULES / package).glob("[0-9]00.css"):
        for body in FONT_FACE.findall(css.read_text(encoding="utf-8")):
            woff2 = re.search(r"url\(\./files/([^)]+\.woff2)\)", body)
            unicode_range = UNICODE_RANGE.search(body)
            if woff2 and unicode_range:
                ranges[f"{package}/{woff2.group(1)}"] = unicode_range.group(1).strip()
    return ranges


def test_font_unicode_ranges_are_fontsources(manifest, lock):
    """After `npm ci`, each @font-face of app.css has the unicode-range fontsource gives its file."""
    require_node_modules(lock, manifest)
    expected = fontsource_unicode_ranges("@fontsource/noto-sans") | fontsource_unicode_ranges(
        "@fontsource/noto-sans-arabic"
    )
    faces = app_css_font_faces()
    assert {path: expected.get(path) for path in faces} == faces
