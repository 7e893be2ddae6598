// static/js/lib/offer-fields.js, the verifier app's check of a redemption's fields before anything is
// sent or queued: the same rules as the server (webapp/services/partners/offer_fields.py), each
// problem under its field's name, a typed country name read as its code, and nothing ever cut.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { Countries, checkValue, checkValues, lengthOf } from "../../static/js/lib/offer-fields.js";

const LABEL = { fr: "Champ", ar: "حقل", en: "Field" };
const WEIGHT = { name: "weight_kg", type: "number", label: LABEL, min: 0.1, max: 30 };
const PIECES = { name: "pieces", type: "integer", label: LABEL, min: 1, max: 5 };
const DESTINATION = { name: "destination", type: "country", label: LABEL };
const NOTE = { name: "note", type: "text", label: LABEL, max_length: 10, required: false };
const SIZE = { name: "size", type: "choice", label: LABEL, options: [{ value: "s", label: LABEL }, { value: "l", label: LABEL }] };
const COUNTRIES = new Countries({ FR: "France", MA: "Maroc", EG: "Égypte" });

const key = (checked) => checked.problem?.key ?? null;

for (const [spec, typed, value] of [
  [WEIGHT, "2,5", "2.5"],
  [WEIGHT, " 30 ", "30"],
  [WEIGHT, "0.1", "0.1"],
  [PIECES, "3", "3"],
  [DESTINATION, "fr", "FR"],
  [DESTINATION, "France", "FR"],
  [DESTINATION, "  egypte ", "EG"],
  [DESTINATION, "Morocco", "MA"],
  [DESTINATION, "فرنسا", "FR"],
  [NOTE, "é".repeat(10), "é".repeat(10)],
  [NOTE, "", null],
  [SIZE, "l", "l"],
]) {
  test(`${spec.type} ${JSON.stringify(typed)} is accepted as ${JSON.stringify(value)}`, () => {
    assert.deepEqual(checkValue(spec, typed, COUNTRIES), { value });
  });
}

for (const [spec, typed, problem] of [
  [WEIGHT, "", "field_required"],
  [WEIGHT, "   ", "field_required"],
  [WEIGHT, "deux", "field_number"],
  [WEIGHT, "2,5,1", "field_number"],
  [WEIGHT, "1".repeat(33), "field_number"],
  [WEIGHT, "0", "field_min"],
  [WEIGHT, "30.5", "field_max"],
  [PIECES, "2.5", "field_integer"],
  [PIECES, "9", "field_max"],
  [DESTINATION, "Fr", null],
  [DESTINATION, "Franc", "field_country"],
  [DESTINATION, "XX", "field_country"],
  [SIZE, "m", "field_choice"],
  [NOTE, "x".repeat(11), "field_too_long"],
]) {
  test(`${spec.type} ${JSON.stringify(typed)} gives ${problem ?? "no problem"}`, () => {
    assert.equal(key(checkValue(spec, typed, COUNTRIES)), problem);
  });
}

test("a too long text says its length and the limit, and is never cut", () => {
  const typed = "Livraison à Fès, porte bleue";
  assert.deepEqual(checkValue(NOTE, typed), { problem: { key: "field_too_long", values: { count: 10, length: 28 } } });
});

test("bounds come with the problem, for the message", () => {
  assert.deepEqual(checkValue(WEIGHT, "31").problem, { key: "field_max", values: { max: 30 } });
  assert.deepEqual(checkValue(WEIGHT, "0,05").problem, { key: "field_min", values: { min: 0.1 } });
});

test("lengths count characters as the server does (one emoji is one)", () => {
  assert.equal(lengthOf("🇲🇦"), 2);
  assert.equal(lengthOf("👍"), 1);
});

test("every field at once: the values to send, and every problem by the field's name", () => {
  const specs = [WEIGHT, DESTINATION, NOTE];
  assert.deepEqual(checkValues(specs, { weight_kg: "2,5", destination: "Maroc", note: "" }, COUNTRIES), {
    values: { weight_kg: "2.5", destination: "MA" },
    problems: {},
  });
  const { problems } = checkValues(specs, { weight_kg: "40", destination: "Atlantis", note: "x".repeat(12) }, COUNTRIES);
  assert.deepEqual(Object.keys(problems), ["weight_kg", "destination", "note"]);
});
