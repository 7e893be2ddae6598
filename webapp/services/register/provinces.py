"""The provinces and prefectures of each of Morocco's 12 regions (the 2015 regional division), in
French and Arabic. The register stores a province by its French name (as it always has); a form
lists the region's provinces in the reader's language (English readers see the French names, as
on the country's signs).

An artisan's province must be one of their region's (`clean_province`): typed by an officer or
brought by an import, in either language, with or without accents and hyphens. Provinces already
stored in free text before this list existed are kept as they are and checked only when the
province or the region changes (see services/register/artisans.py).
"""

from __future__ import annotations

import unicodedata

# Region code -> (French name, Arabic name) of each province or prefecture.
PROVINCES: dict[str, tuple[tuple[str, str], ...]] = {
    "01": (
        ("Tanger-Assilah", "طنجة أصيلة"),
        ("M'diq-Fnideq", "المضيق الفنيدق"),
        ("Tétouan", "تطوان"),
        ("Fahs-Anjra", "الفحص أنجرة"),
        ("Larache", "العرائش"),
        ("Al Hoceïma", "الحسيمة"),
        ("Chefchaouen", "شفشاون"),
        ("Ouezzane", "وزان"),
    ),
    "02": (
        ("Oujda-Angad", "وجدة أنكاد"),
        ("Nador", "الناظور"),
        ("Driouch", "الدريوش"),
        ("Jerada", "جرادة"),
        ("Berkane", "بركان"),
        ("Taourirt", "تاوريرت"),
        ("Guercif", "جرسيف"),
        ("Figuig", "فجيج"),
    ),
    "03": (
        ("Fès", "فاس"),
        ("Meknès", "مكناس"),
        ("El Hajeb", "الحاجب"),
        ("Ifrane", "إفران"),
        ("Moulay Yacoub", "مولاي يعقوب"),
        ("Sefrou", "صفرو"),
        ("Boulemane", "بولمان"),
        ("Taounate", "تاونات"),
        ("Taza", "تازة"),
    ),
    "04": (
        ("Rabat", "الرباط"),
        ("Salé", "سلا"),
        ("Skhirate-Témara", "الصخيرات تمارة"),
        ("Kénitra", "القنيطرة"),
        ("Khémisset", "الخميسات"),
        ("Sidi Kacem", "سيدي قاسم"),
        ("Sidi Slimane", "سيدي سليمان"),
    ),
    "05": (
        ("Béni Mellal", "بني ملال"),
        ("Azilal", "أزيلال"),
        ("Fquih Ben Salah", "الفقيه بن صالح"),
        ("Khénifra", "خنيفرة"),
        ("Khouribga", "خريبكة"),
    ),
    "06": (
        ("Casablanca", "الدار البيضاء"),
        ("Mohammédia", "المحمدية"),
        ("El Jadida", "الجديدة"),
        ("Nouaceur", "النواصر"),
        ("Médiouna", "مديونة"),
        ("Benslimane", "بنسليمان"),
        ("Berrechid", "برشيد"),
        ("Settat", "سطات"),
        ("Sidi Bennour", "سيدي بنور"),
    ),
    "07": (
        ("Marrakech", "مراكش"),
        ("Chichaoua", "شيشاوة"),
        ("Al Haouz", "الحوز"),
        ("El Kelaâ des Sraghna", "قلعة السراغنة"),
        ("Essaouira", "الصويرة"),
        ("Rehamna", "الرحامنة"),
        ("Safi", "آسفي"),
        ("Youssoufia", "اليوسفية"),
    ),
    "08": (
        ("Errachidia", "الرشيدية"),
        ("Ouarzazate", "ورزازات"),
        ("Midelt", "ميدلت"),
        ("Tinghir", "تنغير"),
        ("Zagora", "زاكورة"),
    ),
    "09": (
        ("Agadir Ida-Outanane", "أكادير إداوتنان"),
        ("Inezgane-Aït Melloul", "إنزكان آيت ملول"),
        ("Chtouka-Aït Baha", "اشتوكة آيت باها"),
        ("Taroudant", "تارودانت"),
        ("Tiznit", "تيزنيت"),
        ("Tata", "طاطا"),
    ),
    "10": (
        ("Guelmim", "كلميم"),
        ("Assa-Zag", "أسا الزاك"),
        ("Tan-Tan", "طانطان"),
        ("Sidi Ifni", "سيدي إفني"),
    ),
    "11": (
        ("Laâyoune", "العيون"),
        ("Boujdour", "بوجدور"),
        ("Tarfaya", "طرفاية"),
        ("Es-Semara", "السمارة"),
    ),
    "12": (
        ("Oued Ed-Dahab", "وادي الذهب"),
        ("Aousserd", "أوسرد"),
    ),
}


def _folded(name: str) -> str:
    """A province's name as compared: no accents, case, hyphens, apostrophes or spaces; Arabic
    hamza forms of alef as plain alef."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ة", "ه")
    return "".join(char for char in plain if char.isalnum())


_BY_REGION: dict[str, dict[str, str]] = {
    region: {_folded(spelling): fr for fr, ar in provinces for spelling in (fr, ar)}
    for region, provinces in PROVINCES.items()
}


def province_of_region(region_code: str, typed: str) -> str | None:
    """The stored (French) name of the region's province written as `typed` (in French or Arabic,
    any accents or hyphens), or None if the region has no such province."""
    return _BY_REGION.get(region_code, {}).get(_folded(typed))


def province_region(typed: str) -> str | None:
    """The region a province belongs to (for a clearer refusal), or None if no region has it."""
    for region_code, names in _BY_REGION.items():
        if _folded(typed) in names:
            return region_code
    return None


def province_choices(language: str) -> dict[str, list[tuple[str, str]]]:
    """Each region's provinces as (stored value, name in the reader's language), for a select."""
    arabic = language == "ar"
    return {region: [(fr, ar if arabic else fr) for fr, ar in provinces] for region, provinces in PROVINCES.items()}


def province_name(stored: str, language: str) -> str:
    """A stored province in the reader's language (an old free-text one as it was typed)."""
    if language != "ar":
        return stored
    for provinces in PROVINCES.values():
        for fr, ar in provinces:
            if fr == stored:
                return ar
    return stored
