// How a verdict looks and how its dates read, shared by the verifier app (/scan) and the public
// verdict page (/v): the icon of each verdict (words and icon, never colour alone) and dates in the
// reader's language.

import { DateFormats, dateLocale } from "./formats.js";

export const VERDICT_ICONS = {
  valid: "icon-valid",
  expired: "icon-clock",
  suspended: "icon-pause",
  revoked: "icon-bad",
  bad_signature: "icon-bad",
  unknown_key: "icon-key",
  not_a_card: "icon-question",
  malformed: "icon-refresh",
  cannot_confirm: "icon-warn",
  replayed: "icon-warn",
};

// How the card was shown (docs/card-token.md section 13): the key of its words in the verdict texts.
export function presentationKey(presentation) {
  return { live: "shown_live", printed: "shown_printed" }[presentation] ?? null;
}

// Which date a card shows beside its verdict, and under which label: a revoked or suspended card is
// not "valid until" anything, so it shows the day of that change when the register gave it.
export function dateLine(verdict, card) {
  if ((verdict === "revoked" || verdict === "suspended") && card.statusSince) {
    return { label: `${verdict}_on`, date: card.statusSince };
  }
  const label = { valid: "valid_until", expired: "expired_on" }[verdict] ?? "expires_on";
  return { label, date: card.expiryDate };
}

export class Formats {
  constructor(language) {
    this.language = language;
    this.locale = dateLocale(language);
    this.dates = new DateFormats(language);
  }

  /** A calendar date "YYYY-MM-DD" (a day in Morocco) in the reader's words (static/js/lib/formats.js). */
  date(ymd) {
    return this.dates.day(ymd);
  }

  /** A moment (seconds) on the phone's own zone, date and time, as the server writes them. */
  moment(seconds) {
    return this.dates.moment(seconds * 1000);
  }

  /** "3 hours ago", "il y a 3 heures", "قبل 3 ساعات". */
  age(seconds) {
    const relative = new Intl.RelativeTimeFormat(this.locale, { numeric: "auto" });
    if (seconds < 60) return relative.format(0, "minute"); // "this minute", "cette minute-ci"
    if (seconds < 3600) return relative.format(-Math.round(seconds / 60), "minute");
    if (seconds < 48 * 3600) return relative.format(-Math.round(seconds / 3600), "hour");
    return relative.format(-Math.round(seconds / 86400), "day");
  }
}
