"""The card letter: one A4 page per artisan, in French and Arabic, posted with the printed card.

It says whom it is for (the delivery address, or the chamber's when the card is collected
there), the activation code, how to use the card (activate it on the phone at /card/activate with
the card number, the code and the birth date; show it; what partners give), and how to reach the
chamber. How codes are made is not decided here: the caller passes them. No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from webapp.services.cards.numbers import format_card_number
from webapp.services.printing.canvas import Canvas
from webapp.services.printing.card_faces import ACCENT, GOLD, INK, MUTED, PAPER, display_url

A4 = (210.0, 297.0)
MARGIN = 18.0
COLUMN_GAP = 8.0
ACTIVATE_PATH = "/card/activate"


@dataclass(frozen=True)
class Letter:
    card_number: str
    name_latin: str
    name_ar: str
    delivery_address: tuple[str, ...] | None  # lines; None: the card is collected at the chamber
    activation_code: str
    card_app_url: str  # the product's public base URL; the letter prints <url>/card/activate
    chamber_name_fr: str
    chamber_name_ar: str
    chamber_address_fr: str
    chamber_address_ar: str
    code_valid_until: date | None = None


def render_letters_pdf(letters: Iterable[Letter], target: BinaryIO) -> int:
    """Write one PDF with a page per letter into `target`; returns the pages written."""
    canvas = Canvas(A4)
    canvas.set_title("Lettres d'accompagnement des cartes")
    try:
        for letter in letters:
            draw_letter(canvas, letter)
        return canvas.write(target)
    finally:
        canvas.close_fonts()


def activation_url(letter: Letter) -> str:
    return display_url(letter.card_app_url.rstrip("/") + ACTIVATE_PATH)


def _column_width() -> float:
    return (A4[0] - 2 * MARGIN - COLUMN_GAP) / 2


def draw_letter(canvas: Canvas, letter: Letter) -> None:
    canvas.new_page()
    left, right = MARGIN, A4[0] - MARGIN
    column = _column_width()
    arabic_x = right - column
    chamber_key = (letter.chamber_name_fr, letter.chamber_name_ar, letter.chamber_address_fr, letter.chamber_address_ar)
    canvas.cached(("letter-head", chamber_key), lambda: _head(canvas, letter))
    # The recipient, where a window envelope shows it (right-hand window of a DL envelope).
    window_x, window_w = 110.0, right - 110.0
    canvas.text_box(window_x, 46.0, window_w, 6.0, letter.name_latin, size=11, min_size=8, style="B", color=INK)
    canvas.text_box(
        window_x, 52.0, window_w, 6.0, letter.name_ar, size=11.5, min_size=8, style="B", color=INK, align="R"
    )
    if letter.delivery_address:
        y = 59.0
        for line in letter.delivery_address[:5]:
            canvas.text_box(
                window_x, y, window_w, 4.8, line, size=9.5, min_size=7, color=INK, align="R" if _arabic(line) else "L"
            )
            y += 4.8
    else:
        canvas.cached(("collect-at", chamber_key), lambda: _collect_at(canvas, letter, window_x, window_w))
    # The card number, beside the window.
    canvas.cached(
        "number-label", lambda: canvas.text_box(left, 46.0, 80.0, 4.0, "Carte n° · رقم البطاقة", size=8, color=MUTED)
    )
    number = format_card_number(letter.card_number)  # grouped as on the card and every screen
    canvas.text_box(left, 50.5, 80.0, 8.0, number, size=16, min_size=12, style="B", color=INK)
    # The activation code, in a box across the page.
    canvas.cached("code-box", lambda: _code_box(canvas))
    code = letter.activation_code
    canvas.text_box(
        left + 6, 129.0, right - left - 12, 12.0, code, size=24, min_size=14, style="B", color=ACCENT, align="C"
    )
    if letter.code_valid_until is not None:
        until = letter.code_valid_until.strftime("%d/%m/%Y")
        canvas.text_box(
            left + 6, 141.5, column - 6, 5.0, f"Valable jusqu'au {until}", size=8.5, color=MUTED, cache=True
        )
        canvas.text_box(
            arabic_x, 141.5, column - 6, 5.0, f"صالح إلى غاية {until}", size=9, color=MUTED, align="R", cache=True
        )
    canvas.text_box(left, 84.0, column, 7.0, f"Madame, Monsieur {letter.name_latin},", size=10, min_size=7.5, color=INK)
    canvas.text_box(
        arabic_x, 84.0, column, 7.0, f"السيدة، السيد {letter.name_ar}،", size=10.5, min_size=8, color=INK, align="R"
    )
    # The body's paragraphs are the same on every letter of a document (shaping and wrapping them
    # is most of a letter's cost): drawn once, replayed; only the footer varies, by chamber.
    canvas.cached(("letter-body", letter.card_app_url), lambda: _body(canvas, letter))
    canvas.cached(("letter-footer", chamber_key), lambda: _footer(canvas, letter))


def _arabic(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in text)


def _head(canvas: Canvas, letter: Letter) -> None:
    left, right = MARGIN, A4[0] - MARGIN
    width = right - left
    canvas.set_fill_color(*ACCENT)
    canvas.rect(left, 12.0, width, 20.0, style="F", round_corners=True, corner_radius=2.0)
    canvas.set_draw_color(*GOLD)
    canvas.set_line_width(0.4)
    canvas.circle(A4[0] / 2, 22.0, 6.5, style="D")
    canvas.set_fill_color(*GOLD)
    canvas.star(A4[0] / 2, 22.0, 2.6, 4.9, 8, style="F")
    half = width / 2 - 12.0
    canvas.text_box(
        left + 5,
        14.5,
        half - 5,
        7.5,
        letter.chamber_name_fr,
        size=10.5,
        min_size=7.5,
        style="B",
        color=(255, 255, 255),
        max_lines=2,
    )
    canvas.text_box(left + 5, 22.5, half - 5, 6.5, "Carte professionnelle de l'artisan", size=8.5, color=GOLD)
    canvas.text_box(
        right - half,
        14.5,
        half - 5,
        7.5,
        letter.chamber_name_ar,
        size=11,
        min_size=8,
        style="B",
        color=(255, 255, 255),
        align="R",
        max_lines=2,
    )
    canvas.text_box(right - half, 22.5, half - 5, 6.5, "البطاقة المهنية للصانع التقليدي", size=9, color=GOLD, align="R")


def _collect_at(canvas: Canvas, letter: Letter, x: float, w: float) -> None:
    canvas.text_box(x, 59.0, w, 4.6, "À retirer à la chambre · تسحب من الغرفة", size=8.5, color=MUTED)
    canvas.text_box(x, 63.6, w, 4.8, letter.chamber_address_fr, size=9.5, min_size=7, color=INK, max_lines=2)
    canvas.text_box(x, 68.6, w, 4.8, letter.chamber_address_ar, size=10, min_size=7, color=INK, align="R", max_lines=2)


def _code_box(canvas: Canvas) -> None:
    left, right = MARGIN, A4[0] - MARGIN
    canvas.set_fill_color(*PAPER)
    canvas.set_draw_color(*GOLD)
    canvas.set_line_width(0.5)
    canvas.rect(left, 118.0, right - left, 30.0, style="DF", round_corners=True, corner_radius=2.5)
    column = _column_width()
    canvas.text_box(left + 6, 121.0, column - 6, 6.0, "Votre code d'activation", size=10, style="B", color=INK)
    canvas.text_box(
        right - column, 121.0, column - 6, 6.0, "رمز التفعيل الخاص بكم", size=10.5, style="B", color=INK, align="R"
    )


def _body(canvas: Canvas, letter: Letter) -> None:
    left, right = MARGIN, A4[0] - MARGIN
    column = _column_width()
    arabic_x = right - column
    url = activation_url(letter)
    canvas.paragraph(left, 66.0 + 26.0, column, FRENCH_INTRO, size=9.5, color=INK)
    canvas.paragraph(arabic_x, 66.0 + 26.0, column, ARABIC_INTRO, size=10, color=INK, align="R")
    y_fr = canvas.paragraph(
        left, 154.0, column, "Activer la carte sur votre téléphone", size=11, style="B", color=ACCENT
    )
    y_ar = canvas.paragraph(
        arabic_x, 154.0, column, "تفعيل البطاقة على هاتفكم", size=11.5, style="B", color=ACCENT, align="R"
    )
    steps_fr = [
        f"1. Ouvrez {url} dans le navigateur de votre téléphone.",
        "2. Saisissez le numéro de carte, le code d'activation ci-dessus et votre date de naissance.",
        "3. Votre carte s'affiche sur le téléphone, même sans connexion : montrez-la aux partenaires, "
        "comme la carte imprimée.",
    ]
    steps_ar = [
        f"1. افتحوا {url} في متصفح هاتفكم.",
        "2. أدخلوا رقم البطاقة ورمز التفعيل أعلاه وتاريخ ازديادكم.",
        "3. تظهر بطاقتكم على الهاتف ولو بدون اتصال: أظهروها للشركاء، مثل البطاقة المطبوعة.",
    ]
    for step in steps_fr:
        y_fr = canvas.paragraph(left, y_fr + 1.2, column, step, size=9.5, color=INK)
    for step in steps_ar:
        y_ar = canvas.paragraph(arabic_x, y_ar + 1.2, column, step, size=10, color=INK, align="R")
    y = max(y_fr, y_ar) + 5.0
    y_fr = canvas.paragraph(left, y, column, "Ce que la carte vous ouvre", size=11, style="B", color=ACCENT)
    y_ar = canvas.paragraph(arabic_x, y, column, "ما تتيحه لكم البطاقة", size=11.5, style="B", color=ACCENT, align="R")
    canvas.paragraph(left, y_fr + 1.2, column, FRENCH_PARTNERS, size=9.5, color=INK)
    canvas.paragraph(arabic_x, y_ar + 1.2, column, ARABIC_PARTNERS, size=10, color=INK, align="R")


def _footer(canvas: Canvas, letter: Letter) -> None:
    left, right = MARGIN, A4[0] - MARGIN
    column = _column_width()
    arabic_x = right - column
    canvas.set_draw_color(*GOLD)
    canvas.set_line_width(0.3)
    canvas.line(left, 262.0, right, 262.0)
    canvas.text_box(left, 264.0, column, 4.5, "Votre chambre", size=8.5, style="B", color=MUTED)
    canvas.text_box(arabic_x, 264.0, column, 4.5, "غرفتكم", size=9, style="B", color=MUTED, align="R")
    canvas.text_box(left, 268.5, column, 9.0, letter.chamber_name_fr, size=9, min_size=7, color=INK, max_lines=2)
    canvas.text_box(
        arabic_x, 268.5, column, 9.0, letter.chamber_name_ar, size=9.5, min_size=7, color=INK, align="R", max_lines=2
    )
    canvas.text_box(left, 277.5, column, 9.0, letter.chamber_address_fr, size=9, min_size=7, color=INK, max_lines=2)
    canvas.text_box(
        arabic_x, 277.5, column, 9.0, letter.chamber_address_ar, size=9.5, min_size=7, color=INK, align="R", max_lines=2
    )


FRENCH_INTRO = (
    "Votre carte professionnelle d'artisan est jointe à cette lettre. Elle prouve votre "
    "inscription au Registre national de l'artisanat. Gardez ce code pour vous : la chambre ne "
    "vous le demandera jamais."
)
ARABIC_INTRO = (
    "تجدون رفقته بطاقتكم المهنية للصانع التقليدي، وهي تثبت تسجيلكم في السجل الوطني للصناعة "
    "التقليدية. احتفظوا بهذا الرمز لأنفسكم: لن تطلبه منكم الغرفة أبدا."
)
FRENCH_PARTNERS = (
    "Montrez la carte (ou son code QR sur votre téléphone) aux partenaires : offres de "
    "financement, tarifs préférentiels pour le transport de vos produits au Maroc et à "
    "l'étranger, accès aux marchés et salons, et les services que d'autres partenaires ajouteront. "
    "Chaque partenaire vérifie la carte et vous indique ses propres offres."
)
ARABIC_PARTNERS = (
    "أظهروا البطاقة (أو رمزها على هاتفكم) للشركاء: عروض التمويل، وأسعار تفضيلية لنقل منتجاتكم "
    "داخل المغرب وخارجه، والولوج إلى الأسواق والمعارض، والخدمات التي سيضيفها شركاء آخرون. "
    "يتحقق كل شريك من البطاقة ويبين لكم عروضه."
)
