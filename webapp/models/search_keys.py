"""Search keys of an artisan: one folding of names and phone numbers, used both to index a row
(the derived columns `artisan.search_keys` and `artisan.phone_key`) and to read a query
(webapp/services/register/search.py), so both sides always agree.

Names are written in two scripts and each has its own variants; the folding turns a name into
*keys*, and a query word finds a row when it is the start of one of the row's keys. Every word gets
two keys, one per tier of tolerance (search.py shows the first tier's matches first):

Spelling key (tier 0: the same spelling, whatever the keyboard)
- Latin: Unicode NFKD, accents and cedillas dropped, lower case (Lahçen = LAHCEN = lahcen,
  Hélène = helene); apostrophes joined (M'hamed = mhamed); hyphens and other signs split words.
- Arabic: tashkeel (harakat, shadda, sukun, superscript alef), Quranic marks and tatweel dropped;
  أ إ آ ٱ -> ا, ى -> ي, ة -> ه, ؤ -> و, ئ -> ي, lone hamza ء dropped, Persian-keyboard look-alikes
  (ک ی ھ) -> ك ي ه. So محمّد = محمد and فاطمة = فاطمه.

Sound key (tier 1: another transliteration of the same name), written with a leading "0" so that
it never equals a spelling key in the index:
- Latin, a consonant skeleton of the word, because Arabic names are written without short vowels
  and each transliteration supplies its own (Mohamed, Mohammed, Mohamad, Muhammad, Mouhamed all
  fold to `mhmd`; Youssef, Yousef, Youssouf, Yusuf, Youcef to `ysf`; Fatima, Fatma, Fatema,
  Fatimah to `ftm`):
  1. doubled letters collapse (mm -> m: Mohammed, Abderrahim);
  2. French and English spellings of one sound meet: ph -> f, sh -> ch, dj -> j, ck -> k,
     q -> k, c -> s before e/i/y (Lahcen = Lahsen, Youcef) and -> k elsewhere;
  3. "ou" and "w" are the consonant w before a vowel (Ouazzani = Wazzani, Abdelouahab =
     Abdelwahab, Alaoui = Alawi) and the vowel u elsewhere (Youssouf = Yusuf); "y" is the
     consonant before a vowel (Youssef, Ayoub) and the vowel i elsewhere (Aycha = Aicha);
  4. a silent French final e and an h closing a final vowel go (Amine = Amin, Fatimah = Fatima);
  5. vowels go, except that a word starting with a vowel keeps one "a" for it (the alef or ain
     that the vowel stands for: Omar = Umar = `amr`, Abderrahim = Abdurrahim = `abdrhm`).
- Arabic, the spelling key with Maghrebi letters for g and v folded (ڭ ݣ گ -> ك, ڤ -> ف,
  ڨ -> ق) and long a (ا) after the first letter dropped, since Moroccan spelling adds or omits
  it (الرحمان = الرحمن).

Articles and compounds (both tiers)
- The Latin article written as its own word (El, Al, L, and the assimilated Er, Es, En, Ed, Et,
  Ez of Abd-er-Rahim) is not a key: El Alaoui = Al-Alaoui = Alaoui. The Arabic article is glued
  to its word: a word starting with ال is also keyed without it (العلوي finds علوي and back).
- "Abd" names ("servant of" + a name of God): the part after abd and its article is keyed too,
  and the sound key drops the article (Abdelkader = Abd El Kader = Abdul Kader, and Abdelrahim =
  Abderrahim; Abdel or Abdul written apart is just `abd`); same for عبدال... in Arabic.
- A name of several words (Fatima Zahra, Ait Ouahmane) is keyed word by word and also as one
  word (Fatimazahra, Aitouahmane).

Dropped first letters: the Maghrebi forms of a few names drop their initial i (Brahim for
Ibrahim, Driss for Idriss, Smail for Ismail): a Latin word starting with i and then br, dr, tr
or sm also gets the sound key without its i (Ibrahim: `0abrhm` and `0brhm`), on the row and on
the query, so each form finds the other in the sound tier.

Words in the query (webapp/services/register/search.py): a family name written in two words
(Ben Jelloun) finds the one-word spelling (Benjelloun): each pair of neighbouring query words is
also tried glued, as an alternative reading of the query (the rows already key a two-word name
glued, so Benjelloun finds Ben Jelloun).

Only near matches: a query word's sound key is used only when it keeps at least two letters and
the word has no letter three times in a row (AAAA folds to `a` and Zzzzzz to `z`, which start
thousands of keys; no name is written so): such a word matches by its spelling only.

What it does not do: it does not cross scripts (a Latin query finds Latin names), and a glued
Latin article (Elalaoui) stays one word. The sound key trades precision for recall on purpose
(Hassan, Hussein and Hasna share `hsn`): its matches come after the exact spellings.

Phones are keyed by their national significant number (0612345678, +212 6 12 34 56 78 and
00212612345678 are all `612345678`); a number that is not Moroccan keeps its digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The columns of an artisan that its search keys are made of.
NAME_FIELDS = ("first_name_latin", "last_name_latin", "first_name_ar", "last_name_ar")
SOUND_MARK = "0"  # starts every sound key (FTS5 and PostgreSQL both keep digits in a token)
MAX_QUERY_WORDS = 8

LATIN_ARTICLES = frozenset({"el", "al", "l", "er", "es", "en", "ed", "et", "ez"})
_LATIN_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
_APOSTROPHES = re.compile(r"['’ʼ`´‘]")
_LATIN_WORD = re.compile(r"[a-z]+")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u066e-\u06d3\u0762-\u0764]+")
# Harakat, shadda, sukun, superscript alef, Quranic annotation marks, tatweel.
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_SPELLING = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ء": None,
        "ک": "ك",
        "ی": "ي",
        "ھ": "ه",
    }
)
_ARABIC_SOUND = str.maketrans({"ڭ": "ك", "ݣ": "ك", "گ": "ك", "ڤ": "ف", "ڨ": "ق"})
_ARABIC_ARTICLE = "ال"
_ARABIC_ABD = "عبدال"
_VOWELS = frozenset("aeiou")
# Abd + vowels + the article's l (absent when assimilated: Abderrahim), then the name of God.
_LATIN_ABD = re.compile(r"^abd[aeiou]*l?(?=[a-z]{3})")
_LATIN_ABD_ALONE = re.compile(r"^abd[aeiou]*l?$")  # Abdel, Abdul, Abd written apart from the name
_DIGRAPHS = (("ph", "f"), ("sh", "ch"), ("dj", "j"), ("ck", "k"), ("q", "k"))
# An initial i that Maghrebi spellings drop (Ibrahim/Brahim, Idriss/Driss, Ismail/Smail).
_DROPPED_I = re.compile(r"^i(?=(?:br|dr|tr|sm)[a-z])")
# A letter three times in a row: not a name (AAAA, Zzzzzz); such a word gets no sound key.
_REPEATED_LETTER = re.compile(r"(.)\1\1")
MIN_SOUND_LENGTH = 2  # letters of a query word's sound key, after its mark


def _collapse_doubles(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def latin_words(text: str) -> list[str]:
    """Spelling keys of the Latin words of text: no accents, lower case, apostrophes joined."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LATIN_EXTRA))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _LATIN_WORD.findall(_APOSTROPHES.sub("", plain))


def arabic_words(text: str) -> list[str]:
    """Spelling keys of the Arabic words of text: no tashkeel or tatweel, one alef, ya, ha."""
    return _ARABIC_WORD.findall(_ARABIC_MARKS.sub("", text).translate(_ARABIC_SPELLING))


@lru_cache(maxsize=65_536)
def latin_sound(word: str) -> str:
    """The consonant skeleton of a Latin spelling key (rules 1-5 of the module docstring)."""
    if _LATIN_ABD_ALONE.match(word):
        return "abd"
    abd = _LATIN_ABD.match(word)
    if abd:
        # Abdelkader, Abd-er-Rahim: "abd" and the name of God's skeleton, without the article.
        return "abd" + latin_sound(word[abd.end() :]).lstrip("a")
    word = _collapse_doubles(word)
    for written, sound in _DIGRAPHS:
        word = word.replace(written, sound)
    word = re.sub(r"c(?!h)(?=[eiy])", "s", word)
    word = re.sub(r"c(?!h)", "k", word)
    # Mark each sound as consonant (upper case) or vowel (lower case), then keep the consonants.
    word = re.sub(r"(?:ou|w)(?=[aeiouy])", "W", word)
    word = re.sub(r"y(?=[aeiou])", "Y", word)
    word = word.replace("ou", "u").replace("w", "u").replace("y", "i")
    if len(word) > 3:
        word = re.sub(r"e$", "", word)
    word = re.sub(r"(?<=[aeiou])h$", "", word)
    skeleton = "".join(char for char in word if char not in _VOWELS).lower()
    return "a" + skeleton if word[:1] in _VOWELS else skeleton


@lru_cache(maxsize=65_536)
def arabic_sound(word: str) -> str:
    """An Arabic spelling key with Maghrebi g and v folded and long a after the first letter dropped."""
    folded = word.translate(_ARABIC_SOUND)
    return folded[:1] + folded[1:].replace("ا", "")


def _latin_parts(word: str) -> list[str]:
    """The word and, for an Abd name, the name of God after it (Abdelkader: kader)."""
    abd = _LATIN_ABD.match(word)
    return [word, word[abd.end() :]] if abd else [word]


def latin_extra_sounds(word: str) -> tuple[str, ...]:
    """Sound keys a Latin word has besides its own: without an initial i Maghrebi spellings drop."""
    dropped = _DROPPED_I.match(word)
    return (SOUND_MARK + latin_sound(word[dropped.end() :]),) if dropped else ()


def _arabic_parts(word: str) -> list[str]:
    """The word and, when it has them, its forms without the article or after عبدال."""
    parts = [word]
    if word.startswith(_ARABIC_ABD) and len(word) > len(_ARABIC_ABD) + 1:
        parts.append(word[len(_ARABIC_ABD) :])
    elif word.startswith(_ARABIC_ARTICLE) and len(word) > len(_ARABIC_ARTICLE) + 1:
        parts.append(word[len(_ARABIC_ARTICLE) :])
    return parts


def _without_articles(words: list[str]) -> list[str]:
    kept = [word for word in words if word not in LATIN_ARTICLES]
    return kept or words


def name_keys(*names: str | None) -> list[str]:
    """Every key of these name fields (spelling and sound, words and compounds), sorted, no repeats."""
    return sorted(set().union(*(_field_keys(name) for name in names if name)))


@lru_cache(maxsize=100_000)
def _field_keys(name: str) -> frozenset[str]:
    """The keys of one name field (cached: a register repeats its names, Mohamed most of all)."""
    keys: set[str] = set()
    latin = _without_articles(latin_words(name))
    arabic = arabic_words(name)
    for words, parts_of, sound in ((latin, _latin_parts, latin_sound), (arabic, _arabic_parts, arabic_sound)):
        if len(words) > 1:
            words = [*words, "".join(words)]
        for word in words:
            for part in parts_of(word):
                keys.add(part)
                keys.add(SOUND_MARK + sound(part))
        if sound is latin_sound:
            for word in words:
                keys.update(latin_extra_sounds(word))
    return frozenset(keys)


def search_keys_text(*names: str | None) -> str:
    """The stored form of the keys: one space between keys (`artisan.search_keys`)."""
    return " ".join(name_keys(*names))


def search_columns(artisan: Mapping[str, Any]) -> dict[str, str | None]:
    """The derived search columns of an artisan given as a mapping of its columns (the values of a
    bulk insert): `search_keys` and `phone_key`."""
    return {
        "search_keys": search_keys_text(*(artisan.get(field) for field in NAME_FIELDS)),
        "phone_key": phone_key(artisan.get("phone")),
    }


@dataclass(frozen=True)
class QueryWord:
    """What one word of a query matches: a row key starting with `spelling` (tier 0) or with
    `sound` (tier 1), or exactly equal to one of the `exact` keys (an Arabic word's form without
    its article: matched whole, or العلوي would find every word starting with علوي...)."""

    spelling: str
    sound: str | None  # None: the word matches by its spelling only (see _usable_sound)
    spelling_exact: tuple[str, ...] = ()
    sound_exact: tuple[str, ...] = ()


def _usable_sound(word: str, sound: str) -> str | None:
    """The query word's sound key if it is a near match of the word, None if it is too loose."""
    if len(sound) - len(SOUND_MARK) < MIN_SOUND_LENGTH or _REPEATED_LETTER.search(word):
        return None
    return sound


def _latin_query_word(word: str) -> QueryWord:
    return QueryWord(word, _usable_sound(word, SOUND_MARK + latin_sound(word)), (), latin_extra_sounds(word))


def query_words(text: str) -> list[QueryWord]:
    """The words of a query as keys, at most MAX_QUERY_WORDS of them, Latin articles left out."""
    words = [_latin_query_word(word) for word in _without_articles(latin_words(text))]
    for word in arabic_words(text):
        others = tuple(_arabic_parts(word)[1:])
        words.append(
            QueryWord(
                word,
                _usable_sound(word, SOUND_MARK + arabic_sound(word)),
                others,
                tuple(SOUND_MARK + arabic_sound(other) for other in others),
            )
        )
    return words[:MAX_QUERY_WORDS]


def glued_readings(words: list[QueryWord]) -> list[list[QueryWord]]:
    """Other readings of a query: each pair of neighbouring Latin words glued into one (Ben
    Jelloun: benjelloun), for family names written in one word or two."""
    readings = []
    for index in range(len(words) - 1):
        first, second = words[index].spelling, words[index + 1].spelling
        if first.isascii() and second.isascii():
            readings.append([*words[:index], _latin_query_word(first + second), *words[index + 2 :]])
    return readings


def phone_key(phone: str | None) -> str | None:
    """A phone number's national significant number when Moroccan, else its digits; None if it
    has too few digits to be a phone number."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    international = phone.lstrip().startswith("+") or digits.startswith("00")
    if international:
        digits = digits.removeprefix("00")
        if digits.startswith("212"):
            digits = digits[3:]  # +212 6..., 00212 6..., or +212 (0)6...
            if len(digits) == 10 and digits.startswith("0"):
                digits = digits[1:]
    elif len(digits) == 12 and digits.startswith("212"):
        digits = digits[3:]
    elif len(digits) == 10 and digits.startswith("0"):
        digits = digits[1:]
    return digits[:15] if len(digits) >= 6 else None
