"""The drawing surface shared by card faces and letters: fpdf2 with HarfBuzz text shaping, the
committed Noto fonts, text that fits its box, and a cache of drawn text for speed.

Why a cache: fpdf2 shapes every string with HarfBuzz and runs the Unicode bidi algorithm on it
(~1 ms a string). A card's labels, its chamber, its trade and its region come from small sets,
so the PDF operators a string produces at a given place are recorded once per document and
replayed on later pages (fonts are subset per document, so glyph ids stay valid within it).
Only what differs per card (names, number, dates) is shaped each time. No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import BinaryIO, Literal

from fpdf import FPDF
from fpdf.enums import PDFResourceType
from fpdf.output import PDFPage

FONT_DIR = Path(__file__).parent / "fonts"
LATIN = "sans"
ARABIC = "arabic"
FONT_FILES = {
    (LATIN, ""): "NotoSans-Regular.ttf",
    (LATIN, "B"): "NotoSans-Bold.ttf",
    (ARABIC, ""): "NotoSansArabic-Regular.ttf",
    (ARABIC, "B"): "NotoSansArabic-Bold.ttf",
}
PT = 25.4 / 72  # one typographic point in millimetres
BLEED_MM = 3.0  # printers' usual bleed: background colour runs this far past the trim
LINE_SPACING = 1.22  # line height as a multiple of the font size

Align = Literal["L", "R", "C"]
Rgb = tuple[int, int, int]


def has_arabic(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" or "\ufb50" <= char <= "\ufefc" for char in text)


class Canvas(FPDF):
    """An FPDF document in millimetres with both fonts, shaping on, no automatic page breaks."""

    def __init__(self, page_size: tuple[float, float], *, bleed_boxes: bool = False) -> None:
        super().__init__(unit="mm", format=page_size)
        self.set_auto_page_break(False)
        self.set_margin(0)
        self.c_margin = 0
        self.set_creator("Carte Artisan")
        # Card pages carry a TrimBox BLEED_MM inside the page and a BleedBox equal to it (_BoxedPage).
        self._bleed_boxes = bleed_boxes
        for (family, style), name in FONT_FILES.items():
            self.add_font(family, style, str(FONT_DIR / name))
        # The Arabic font has Arabic-Indic and Latin digits but no Latin letters nor "/": those
        # come from Noto Sans inside the same shaped line, and Arabic inside a Latin line likewise.
        self.set_fallback_fonts([LATIN, ARABIC], exact_match=False)
        self._fallbacks = list(self._fallback_font_ids)
        self._chunks: dict[Hashable, tuple[bytes, frozenset[object]]] = {}

    def write(self, target: BinaryIO) -> int:
        """Write the PDF into `target` and release the font files; returns the pages written."""
        try:
            self.output(target)
        finally:
            self.close_fonts()
        return self.pages_count

    def close_fonts(self) -> None:
        # fpdf2 opens font files lazily and leaves them open (ResourceWarning): close them here.
        for font in self.fonts.values():
            ttfont = getattr(font, "ttfont", None)
            if ttfont is not None:
                ttfont.close()

    # -- pages -------------------------------------------------------------------------------
    def new_page(self) -> None:
        self.add_page()
        if self._bleed_boxes:
            self.pages[self.page].__class__ = _BoxedPage

    # -- text --------------------------------------------------------------------------------
    def text_width(self, text: str, family: str, style: str, size: float) -> float:
        self._use(family, style, size, text)
        return self.get_string_width(text)

    def text_box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        *,
        size: float,
        min_size: float | None = None,
        style: str = "",
        align: Align = "L",
        color: Rgb = (0, 0, 0),
        max_lines: int = 1,
        cache: bool = False,
    ) -> None:
        """Write `text` inside the box (x, y, w, h), never outside: shrink down to `min_size`, then
        wrap onto up to `max_lines` lines, then shrink further and finally narrow the glyphs."""
        if not text:
            return
        key = ("box", x, y, w, h, text, size, min_size, style, align, color, max_lines) if cache else None
        self._maybe_cached(
            key, lambda: self._text_box(x, y, w, h, text, size, min_size or size, style, align, color, max_lines)
        )

    def _text_box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        size: float,
        min_size: float,
        style: str,
        align: Align,
        color: Rgb,
        max_lines: int,
    ) -> None:
        family = ARABIC if has_arabic(text) else LATIN
        candidates = [[text]]
        if max_lines > 1 and " " in text:
            candidates.append(_balanced_lines(text, max_lines))
        # Widths grow linearly with the size: measure each line once, at `size`, and a candidate
        # only when the one before does not fit (shaping is most of a text box's cost).
        chosen, chosen_size, stretch = [], min_size, 100.0
        for candidate in candidates:
            lines = [(line, self.text_width(line, family, style, size)) for line in candidate]
            widest = max(width for _line, width in lines)
            fit_size = min(size, size * w / widest if widest else size, h / (len(lines) * LINE_SPACING * PT))
            chosen = lines
            if fit_size >= min_size:
                chosen_size = fit_size
                break
        else:
            # Longer than the box allows even at min_size on max_lines: smaller still, down to
            # 70 % of min_size, then glyphs narrowed horizontally; never over the box's edge.
            widest = max(width for _line, width in chosen)
            fit_size = min(size * w / widest, h / (len(chosen) * LINE_SPACING * PT))
            chosen_size = max(fit_size, min_size * 0.7)
            stretch = min(100.0, 100.0 * w / (widest * chosen_size / size))
            chosen_size = min(chosen_size, h / (len(chosen) * LINE_SPACING * PT))
        line_h = chosen_size * LINE_SPACING * PT
        top = y + (h - line_h * len(chosen)) / 2
        self.set_text_color(*color)
        self._use(family, style, chosen_size, text)
        if stretch < 100:
            self.set_stretching(stretch)
        for index, (line, _width) in enumerate(chosen):
            self.set_xy(x, top + index * line_h)
            self.cell(w, line_h, line, align=align)
        if stretch < 100:
            self.set_stretching(100)

    def paragraph(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        *,
        size: float,
        style: str = "",
        align: Align = "L",
        color: Rgb = (0, 0, 0),
        spacing: float = 1.35,
    ) -> float:
        """A wrapped paragraph from (x, y), `w` wide; returns the y below it. Arabic paragraphs
        are shaped, right-to-left, and wrapped by fpdf2's line breaking on shaped widths."""
        family = ARABIC if has_arabic(text) else LATIN
        self.set_text_color(*color)
        self._use(family, style, size, text)
        self.set_xy(x, y)
        self.multi_cell(w, size * spacing * PT, text, align=align, new_x="LEFT", new_y="NEXT")
        return self.get_y()

    def _use(self, family: str, style: str, size: float, text: str) -> None:
        self.set_font(family, style, size)
        arabic = family == ARABIC
        # Latin-only text needs no shaping engine (kerning aside): skipping it halves its cost.
        # The paragraph direction follows the first strong letter (Unicode bidi rules P2-P3): an
        # Arabic line is right-to-left with its Latin digits kept left-to-right inside it, and a
        # "French · عربي" label stays French first.
        if arabic:
            if not self.text_shaping:
                self.set_text_shaping(True)
            self._fallback_font_ids = self._fallbacks
            return
        if self.text_shaping:
            self.set_text_shaping(False)
        # fpdf2 takes its fast path (no per-character font lookup) without shaping and without
        # fallback fonts: drop them when the Latin font has every character of the text.
        cmap = self.current_font.cmap
        self._fallback_font_ids = [] if all(ord(char) in cmap for char in text) else self._fallbacks

    # -- the cache of drawn operators ---------------------------------------------------------
    def cached(self, key: Hashable, draw: Callable[[], None]) -> None:
        """Draw with `draw()` once per document; on later pages replay the recorded operators."""
        self._maybe_cached(key, draw)

    def _maybe_cached(self, key: Hashable | None, draw: Callable[[], None]) -> None:
        page = self.pages[self.page]
        if key is None:
            self._isolated(draw)
            return
        recorded = self._chunks.get(key)
        if recorded is None:
            before = self._page_resources()
            start = len(page.contents)
            self._isolated(draw)
            recorded = (bytes(page.contents[start:]), frozenset(self._page_resources() - before))
            self._chunks[key] = recorded
            return
        chunk, resources = recorded
        page.contents += chunk
        for resource_type, resource in resources:
            self._resource_catalog.add(resource_type, resource, self.page)

    def _isolated(self, draw: Callable[[], None]) -> None:
        # Self-contained operators: the graphics state saved and restored around them, and the
        # font re-emitted inside (fpdf2 skips set_font when it believes it is already current).
        self._out("q")
        self.font_family = ""
        draw()
        self.font_family = ""
        self._out("Q")

    def _page_resources(self) -> set[tuple[PDFResourceType, object]]:
        catalog = self._resource_catalog
        return {
            (resource_type, resource)
            for resource_type in (PDFResourceType.FONT, PDFResourceType.X_OBJECT, PDFResourceType.EXT_G_STATE)
            for resource in catalog.get_resources_per_page(self.page, resource_type)
        }


def _balanced_lines(text: str, lines: int) -> list[str]:
    """Split at spaces into `lines` lines of similar length (names break between words)."""
    words = text.split()
    if len(words) < lines:
        return [text]
    if lines == 2:
        best = min(range(1, len(words)), key=lambda cut: abs(len(" ".join(words[:cut])) - len(" ".join(words[cut:]))))
        return [" ".join(words[:best]), " ".join(words[best:])]
    per_line = -(-len(words) // lines)
    return [" ".join(words[start : start + per_line]) for start in range(0, len(words), per_line)]


# fpdf2 2.8 has no API for page boxes. Its page object serialises every public attribute of its
# class (snake_case → /CamelCase), so a subclass without new slots (hence assignable to
# __class__) adds /TrimBox and /BleedBox computed from the page's size.


class _BoxedPage(PDFPage):
    __slots__ = ()

    @property
    def trim_box(self) -> str:
        bleed = BLEED_MM / PT
        width, height = self.dimensions()
        return f"[{bleed:.4f} {bleed:.4f} {width - bleed:.4f} {height - bleed:.4f}]"

    @property
    def bleed_box(self) -> str:
        width, height = self.dimensions()
        return f"[0 0 {width:.4f} {height:.4f}]"
