// How the browser writes card numbers and dates: the same as the server's screens, printouts and
// placeholders (webapp/services/cards/numbers.py format_card_number, webapp/clock.py). The cases
// both must give are in docs/display-formats.json (tests/js/formats.test.mjs and
// tests/test_display_formats.py run them).

// Two groups of five joined by a no-break space, so a number never breaks across lines.
export const GROUP_SEPARATOR = "\u00a0";

export function formatCardNumber(number) {
  return `${number.slice(0, 5)}${GROUP_SEPARATOR}${number.slice(5)}`;
}

// Morocco's usage: Arabic month names as the Moroccan administration writes them (دجنبر, not
// ديسمبر) with Latin digits, French of Morocco, British English (day month year, 24-hour clock).
export const DATE_LOCALES = { fr: "fr-MA", ar: "ar-MA-u-nu-latn", en: "en-GB" };
// Between the day and the time, as Babel's medium date-time pattern of each locale ("{1}, {0}").
const DAY_TIME_GLUE = { ar: "، " };

export function dateLocale(language) {
  return DATE_LOCALES[language] ?? language;
}

export class DateFormats {
  constructor(language) {
    this.language = language;
    this.locale = dateLocale(language);
    this.days = new Intl.DateTimeFormat(this.locale, { dateStyle: "long", timeZone: "UTC" });
    this.localDays = new Intl.DateTimeFormat(this.locale, { dateStyle: "long" });
    this.times = new Intl.DateTimeFormat(this.locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  /** A calendar day "YYYY-MM-DD" (a day in Morocco): "7 décembre 2026", "7 دجنبر 2026". */
  day(ymd) {
    const [year, month, day] = ymd.split("-").map(Number);
    return this.days.format(Date.UTC(year, month - 1, day));
  }

  /** A moment (a Date or milliseconds) on the phone's clock: "7 décembre 2026, 11:29". */
  moment(when) {
    const date = new Date(when);
    return `${this.localDays.format(date)}${DAY_TIME_GLUE[this.language] ?? ", "}${this.times.format(date)}`;
  }
}
