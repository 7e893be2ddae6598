// An offer's redemption fields checked on the phone, by the same rules as the server
// (webapp/services/partners/offer_fields.py, docs/offers.md "Redemption fields"), so a typing mistake
// is said on its field before anything is sent or queued, and nothing is ever cut to fit.
// No DOM here: the verifier app draws the form; tests/js/offer-fields.test.mjs runs this under node.

const DEFAULT_MAX_LENGTH = 200;
const MAX_NUMBER_TEXT = 32; // as the server: a longer "number" is no number
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Characters as the server counts them (code points, not UTF-16 units). */
export const lengthOf = (text) => [...text].length;

export function maxLength(spec) {
  return spec.type === "text" ? (spec.max_length ?? DEFAULT_MAX_LENGTH) : null;
}

export function isRequired(spec) {
  return spec.required !== false;
}

/** Letters without accents, lower case, single spaces: "Égypte " and "egypte" are one name. */
export function foldName(text) {
  return String(text)
    .normalize("NFD")
    .replace(/[\u0300-\u036f\u064b-\u0652]/g, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

// A country's name in any of the app's languages is read too: an agent reading Arabic may type "France".
const NAME_LANGUAGES = ["fr", "ar", "en"];

/**
 * Countries as the field reads them: `names` maps each ISO code to its name in the reader's language
 * ({"FR": "France", ...}), the list the agent picks from. A typed code (any case) or a name (accents
 * and case ignored; in French, Arabic or English where the browser names countries) gives the code.
 */
export class Countries {
  constructor(names = {}) {
    this.names = names;
    this.byName = new Map();
    for (const language of NAME_LANGUAGES) {
      let display = null;
      try {
        display = new Intl.DisplayNames([language], { type: "region" });
      } catch {
        continue; // a browser without Intl.DisplayNames: the reader's own names below
      }
      for (const code of Object.keys(names)) {
        const name = display.of(code);
        if (name && name !== code) this.byName.set(foldName(name), code);
      }
    }
    for (const [code, name] of Object.entries(names)) this.byName.set(foldName(name), code);
  }

  codeOf(typed) {
    const upper = typed.trim().toUpperCase();
    if (upper in this.names) return upper;
    return this.byName.get(foldName(typed)) ?? null;
  }
}

/**
 * One field's typed value: { value } (what is sent; null when left blank and optional) or
 * { problem: { key, values } }, `key` one of the app's texts (field_required, field_number, ...).
 */
export function checkValue(spec, raw, countries = new Countries()) {
  const text = String(raw ?? "").trim();
  if (!text) return isRequired(spec) ? problem("field_required") : { value: null };
  if (spec.type === "number" || spec.type === "integer") return checkNumber(spec, text);
  if (spec.type === "country") {
    const code = countries.codeOf(text);
    return code ? { value: code } : problem("field_country");
  }
  if (spec.type === "choice") {
    return (spec.options ?? []).some((option) => option.value === text) ? { value: text } : problem("field_choice");
  }
  const limit = maxLength(spec);
  const length = lengthOf(text);
  return length > limit ? problem("field_too_long", { count: limit, length }) : { value: text };
}

function checkNumber(spec, text) {
  const typed = text.replace(",", "."); // "2,5" typed on a French keyboard
  if (text.length > MAX_NUMBER_TEXT || !DECIMAL.test(typed)) return problem("field_number");
  const number = Number(typed);
  if (!Number.isFinite(number)) return problem("field_number");
  if (spec.type === "integer" && !Number.isInteger(number)) return problem("field_integer");
  if (spec.min !== null && spec.min !== undefined && number < spec.min) return problem("field_min", { min: spec.min });
  if (spec.max !== null && spec.max !== undefined && number > spec.max) return problem("field_max", { max: spec.max });
  return { value: typed };
}

function problem(key, values = {}) {
  return { problem: { key, values } };
}

/** Every field at once: { values, problems } with problems by field name (empty when all fit). */
export function checkValues(specs, typed, countries = new Countries()) {
  const values = {};
  const problems = {};
  for (const spec of specs) {
    const checked = checkValue(spec, typed[spec.name], countries);
    if (checked.problem) problems[spec.name] = checked.problem;
    else if (checked.value !== null) values[spec.name] = checked.value;
  }
  return { values, problems };
}
