"""A fake camera for Chromium: a .y4m video of a picture (e.g. a card's QR code the app issued), for
--use-file-for-fake-video-capture. Written with Pillow, no ffmpeg (FACTS.md, browser scanning)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

WIDTH, HEIGHT = 640, 480
FRAMES = 3  # Chromium plays the file in a loop
Y4M_HEADER = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode("ascii")


def picture_frame(png: bytes, size: int = 420) -> Image.Image:
    """The picture, grey, scaled to `size` px (crisp modules), centred on a white 640x480 frame."""
    picture = Image.open(io.BytesIO(png)).convert("L")
    picture = picture.resize((size, size), Image.Resampling.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(picture, ((WIDTH - size) // 2, (HEIGHT - size) // 2))
    return frame


def write_y4m(frame: Image.Image, path: Path) -> Path:
    """4:2:0 planes: luma in the BT.601 studio range (16-235), both chroma planes neutral (grey)."""
    luma = frame.point(lambda value: 16 + value * 219 // 255).tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2) * 2)
    with path.open("wb") as video:
        video.write(Y4M_HEADER)
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + luma + chroma)
    return path


def png_to_y4m(png: bytes, path: Path) -> Path:
    return write_y4m(picture_frame(png), path)
