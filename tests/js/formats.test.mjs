// static/js/lib/formats.js against docs/display-formats.json: the browser groups card numbers and
// writes days as the server does (tests/test_display_formats.py runs the same cases in Python).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const { DateFormats, formatCardNumber } = await import("../../static/js/lib/formats.js");
const vectors = JSON.parse(readFileSync(new URL("../../docs/display-formats.json", import.meta.url), "utf8"));

test("card numbers are grouped as on the server", () => {
  for (const { number, shown } of vectors.card_numbers) assert.equal(formatCardNumber(number), shown);
});

test("days read as on the server, with Morocco's Arabic month names", () => {
  for (const { language, day, shown } of vectors.days) assert.equal(new DateFormats(language).day(day), shown);
});
