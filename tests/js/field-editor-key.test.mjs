// static/js/partner/field-editor.js: the key a redemption field gets from its French label when the
// manager leaves it empty, in the shape offer_fields.py accepts (lower-case letters, digits and _,
// starting with a letter, at most 32 characters).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

const { keyFrom } = await import("../../static/js/partner/field-editor.js");
const SHAPE = /^[a-z][a-z0-9_]{0,31}$/;

test("a French label gives a plain key", () => {
  assert.equal(keyFrom("Poids (kg)"), "poids_kg");
  assert.equal(keyFrom("Pays de destination"), "pays_de_destination");
  assert.equal(keyFrom("Numéro d’échéance"), "numero_d_echeance");
});

test("a key always has the accepted shape, or is empty", () => {
  for (const label of ["2e stand", "Élève", "  --  ", "x".repeat(80), "Durée (en mois) du prêt accordé à l’artisan"]) {
    const key = keyFrom(label);
    assert.ok(key === "" || SHAPE.test(key), `${label} -> ${key}`);
  }
  assert.equal(keyFrom("2e stand"), "f_2e_stand");
  assert.equal(keyFrom("  --  "), "");
});
