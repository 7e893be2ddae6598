"""Draw the verifier app's icons (static/icons/scan/) with Pillow: a card with a QR-like mark and a
tick, in the product's accent colour. Run once when the design changes; the PNGs are committed.

    .venv/bin/python scripts/make_scan_icons.py

A "maskable" icon keeps everything inside the central 80% circle (the safe zone of the W3C
manifest spec), because launchers crop it to their own shape; the "any" icons fill the square.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ACCENT = (11, 92, 74)  # --accent in static/css/app.css
PAPER = (251, 248, 243)  # --paper
OUTPUT = Path(__file__).resolve().parent.parent / "static" / "icons" / "scan"


def draw_mark(draw: ImageDraw.ImageDraw, size: int, scale: float) -> None:
    """A card (rounded rectangle) with three QR finder squares and a tick, scaled around the centre."""
    centre = size / 2

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        # Coordinates on a 0..1 design grid, scaled around the centre.
        return tuple(centre + (value - 0.5) * size * scale for value in (x0, y0, x1, y1))  # type: ignore[return-value]

    draw.rounded_rectangle(box(0.08, 0.2, 0.92, 0.8), radius=size * scale * 0.06, fill=PAPER)
    for x, y in ((0.16, 0.28), (0.16, 0.52), (0.40, 0.28)):
        draw.rectangle(box(x, y, x + 0.18, y + 0.18), fill=ACCENT)
        draw.rectangle(box(x + 0.035, y + 0.035, x + 0.145, y + 0.145), fill=PAPER)
        draw.rectangle(box(x + 0.065, y + 0.065, x + 0.115, y + 0.115), fill=ACCENT)
    tick = [box(0.55, 0.55, 0.55, 0.55)[:2], box(0.64, 0.66, 0.64, 0.66)[:2], box(0.84, 0.38, 0.84, 0.38)[:2]]
    draw.line(tick, fill=ACCENT, width=max(2, round(size * scale * 0.07)), joint="curve")


def icon(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGB", (size, size), ACCENT)
    draw_mark(ImageDraw.Draw(image), size, scale=0.62 if maskable else 0.86)
    return image


def main() -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size, maskable=False).save(OUTPUT / f"icon-{size}.png", optimize=True)
    icon(512, maskable=True).save(OUTPUT / "maskable-512.png", optimize=True)
    icon(180, maskable=False).save(OUTPUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
