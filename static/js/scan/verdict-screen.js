// Drawing the app's screens: one verdict screen per verdict (colour, icon and words, never colour
// alone), the card's details, the partner's offers, the redemption form and the outbox list.

import { formatCardNumber } from "../lib/formats.js";
import { VERDICT_ICONS, dateLine, presentationKey } from "../lib/verdict-look.js";
import { checkValue, isRequired } from "../lib/offer-fields.js";

export function make(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) element.append(child);
  }
  return element;
}

export class VerdictScreen {
  constructor(root, { text, verdictText, formats, placeNames, onRecord, photoUrl }) {
    this.root = root;
    this.photoUrl = photoUrl; // (number) => URL of the holder's photo, for partner staff online; else null
    this.text = text;
    this.verdictText = verdictText;
    this.formats = formats;
    this.placeNames = placeNames;
    this.onRecord = onRecord;
    this.result = null;
    this.root.querySelector('[data-action="same-person"]').addEventListener("click", () => this.confirmIdentity());
  }

  part(name) {
    return this.root.querySelector(`[data-${name}]`);
  }

  /**
   * result: { verdict, reason?, card?: {number, name, nameAr?, trade, region, tradeName?, regionName?,
   *                                    expiryDate, statusSince?},
   *           presentation?: "live" | "printed" (a scanned QR code whose token verified),
   *           source: "server" | "phone" | "number", checkedAt (s), dataAge (s)?,
   *           offers: [{ id, name, benefit, eligible, failed: [], remaining, recordable }] }
   */
  show(result) {
    const { verdict } = result;
    const words = this.verdictText(verdict);
    this.root.className = `verdict-screen verdict-screen-${verdict}`;
    this.root.dataset.verdict = verdict;
    this.part("verdict-banner").className = `verdict-banner verdict-${verdict}`;
    this.part("verdict-icon").setAttribute("href", `#${VERDICT_ICONS[verdict] ?? "icon-question"}`);
    this.part("verdict-title").textContent = words.title;
    this.part("verdict-reason").textContent = result.reason || words.message;
    this.showPresentation(result.presentation);
    this.result = result;
    this.showCard(verdict, result.card, result.source);
    this.showIdentityCheck(result);
    this.showSource(result);
    // Offers belong to a card: a foreign or damaged code gets none (a list of "not eligible" is noise).
    this.showOffers(result.card ? (result.offers ?? []) : []);
    this.part("redemption-form").hidden = true;
    this.part("redemption-result").hidden = true;
    this.root.hidden = false;
    this.root.focus();
  }

  // "Shown live from the holder's phone" or "Printed card" (a live code, or the printed QR code).
  showPresentation(presentation) {
    const line = this.part("presentation");
    const key = presentationKey(presentation);
    line.textContent = key ? this.verdictText(key).message : "";
    line.hidden = !key;
  }

  showCard(verdict, card, source) {
    const details = this.part("card-details");
    details.hidden = !card;
    this.showPhoto(verdict === "valid" && (source === "server" || source === "number") ? card : null);
    if (!card) return;
    const trade = card.tradeName || this.placeNames.trades?.[card.trade] || card.trade || "";
    const region = card.regionName || this.placeNames.regions?.[card.region] || card.region || "";
    // A revoked or suspended card is not "valid until" anything: the day of that change when the
    // server gave it, else its expiry date under a plain label.
    const line = dateLine(verdict, card);
    const values = {
      name: card.name ?? "",
      name_ar: card.nameAr ?? "",
      number: card.number ? formatCardNumber(card.number) : "",
      trade,
      region,
      date: line.date ? this.formats.date(line.date) : "",
    };
    for (const field of details.querySelectorAll("[data-field]")) field.textContent = values[field.dataset.field];
    for (const field of details.querySelectorAll("[data-field]")) field.hidden = !values[field.dataset.field];
    for (const dd of details.querySelectorAll("dd")) {
      dd.hidden = ![...dd.querySelectorAll("[data-field]")].some((field) => !field.hidden);
      dd.previousElementSibling.hidden = dd.hidden;
    }
    this.part("date-label").textContent = this.text(line.label);
  }

  // The register's photo of the holder of a valid card, checked online by partner staff, so they
  // can tie the card to the person in front of them. Never stored on the phone (no-store).
  showPhoto(card) {
    const photo = this.part("holder-photo");
    photo.hidden = true;
    photo.removeAttribute("src");
    if (!card?.number || !this.photoUrl) return;
    const url = this.photoUrl(card.number);
    if (!url) return;
    photo.onload = () => {
      photo.hidden = false;
    };
    photo.onerror = () => {
      photo.hidden = true; // no photo in the register
      if (this.result?.source === "number" && this.result.card === card) this.part("identity-no-photo").hidden = false;
    };
    photo.src = url;
  }

  /**
   * A card checked by its number: the number proves nothing about the person at the counter, so the
   * screen says so beside the register's name and photo, and the offers can be recorded only once the
   * agent says they compared them with the person (result.identityConfirmed).
   */
  showIdentityCheck(result) {
    const box = this.part("identity-check");
    const byNumber = result.source === "number" && Boolean(result.card?.name);
    box.hidden = !byNumber;
    this.part("identity-no-photo").hidden = true;
    const recordable = (result.offers ?? []).some((offer) => offer.eligible && offer.recordable);
    box.querySelector('[data-action="same-person"]').hidden = !recordable || Boolean(result.identityConfirmed);
    this.part("identity-confirmed").hidden = !result.identityConfirmed;
  }

  confirmIdentity() {
    if (!this.result) return;
    this.result.identityConfirmed = true;
    this.showIdentityCheck(this.result);
    this.showOffers(this.result.offers ?? []);
    this.part("offer-list").querySelector("button")?.focus();
  }

  /** Whether an offer's "record" button is shown: by number, only once the person was compared. */
  mayRecord(offer) {
    if (!offer.eligible || !offer.recordable) return false;
    return this.result?.source !== "number" || Boolean(this.result.identityConfirmed);
  }

  showSource(result) {
    const time = this.formats.moment(result.checkedAt);
    const line = {
      server: () => this.text("checked_online", { time }),
      number: () => this.text("checked_by_number", { time }),
      phone: () =>
        this.text("checked_offline", { time, age: result.dataAge === null ? "—" : this.formats.age(result.dataAge) }),
    }[result.source];
    this.part("verdict-source").textContent = line ? line() : "";
  }

  showOffers(offers) {
    const section = this.part("offers");
    const list = this.part("offer-list");
    list.replaceChildren(
      ...offers.map((offer) => {
        const badge = make(
          "span",
          { className: `badge ${offer.eligible ? "badge-valid" : "badge-bad"}` },
          this.text(offer.eligible ? "eligible" : "not_eligible"),
        );
        const failed = (offer.failed ?? []).length
          ? make("ul", { className: "failed-conditions" }, offer.failed.map((label) => make("li", {}, label)))
          : null;
        const remaining =
          Number.isInteger(offer.remaining) && offer.eligible
            ? make("p", { className: "help" }, this.text("remaining", { count: offer.remaining }))
            : null;
        let record = null;
        if (this.mayRecord(offer)) {
          record = make("button", { type: "button", className: "button-secondary" }, this.text("record"));
          record.addEventListener("click", () => this.onRecord(offer));
        }
        return make(
          "li",
          { className: `offer-standing ${offer.eligible ? "offer-eligible" : "offer-not-eligible"}` },
          make("p", { className: "offer-name" }, make("strong", {}, make("bdi", {}, offer.name)), " ", badge),
          offer.benefit ? make("p", {}, offer.benefit) : null,
          failed,
          remaining,
          record,
        );
      }),
    );
    section.hidden = offers.length === 0;
  }
}

/**
 * The inputs of an offer's redemption fields (docs/offers.md), checked by static/js/lib/offer-fields.js:
 * per field { element, name, input, spec, show(problem) }. A problem is said under its own field (the
 * field's label is just above it, in the reader's language), never as the field's key.
 * `describe(problem)` gives a problem's words; `countries` names the countries for a country field;
 * `idPrefix` keeps two forms' ids apart (the verdict's form and an entry to correct).
 */
export function redemptionInputs(fields, language, { describe, countries, hint, idPrefix = "redemption-field" }) {
  const label = (value) => (typeof value === "string" ? value : (value?.[language] ?? value?.fr ?? ""));
  return fields.map((spec, position) => {
    const id = `${idPrefix}-${position}`;
    const required = isRequired(spec);
    const errorId = `${id}-error`;
    const hintId = `${id}-hint`;
    let input;
    let list = null;
    let hintText = "";
    if (spec.type === "choice") {
      input = make(
        "select",
        { id, name: spec.name, required },
        make("option", { value: "" }, ""),
        (spec.options ?? []).map((option) => make("option", { value: option.value }, label(option.label))),
      );
    } else {
      // No maxlength cap on the input: the browser would cut a paste or fast typing without a word
      // ("France" became "Fr"). The limit is said below the field, and a longer text is refused there.
      const kinds = {
        number: { inputmode: "decimal", dir: "ltr" },
        integer: { inputmode: "numeric", dir: "ltr" },
        country: { list: `${id}-countries`, autocapitalize: "words", dir: "auto" },
        text: { dir: "auto" },
      };
      input = make("input", { id, name: spec.name, type: "text", autocomplete: "off", required, ...kinds[spec.type] });
      if (spec.type === "country") {
        // The names in the reader's language to pick from; a code (FR, MA) may be typed too.
        list = make(
          "datalist",
          { id: `${id}-countries` },
          Object.values(countries.names)
            .sort((a, b) => a.localeCompare(b, language))
            .map((name) => make("option", { value: name })),
        );
      }
      hintText = hint(spec);
    }
    const hintLine = hintText ? make("p", { className: "help", id: hintId }, hintText) : null;
    const error = make("p", { className: "field-error", id: errorId, role: "alert", hidden: true });
    input.setAttribute("aria-describedby", [hintLine ? hintId : null, errorId].filter(Boolean).join(" "));
    const field = make("div", { className: "field" }, make("label", { for: id }, label(spec.label)), input, list, hintLine, error);
    const show = (problem) => {
      error.textContent = problem ? describe(problem) : "";
      error.hidden = !problem;
      field.classList.toggle("field-invalid", Boolean(problem));
      if (problem) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    };
    // Said while typing: a text past its limit (nothing is cut), and a mistake fixed clears its message.
    input.addEventListener("input", () => {
      const checked = checkValue(spec, input.value, countries);
      if (checked.problem?.key === "field_too_long") show(checked.problem);
      else if (field.classList.contains("field-invalid") && !checked.problem) show(null);
    });
    return { element: field, name: spec.name, input, spec, show };
  });
}
