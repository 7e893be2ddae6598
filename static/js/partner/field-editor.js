// The offer form's redemption field editor (templates/partner/offer_form.html): one block per field
// a counter agent fills in at a redemption (label in French, Arabic and English, key, type,
// required, limits), added, removed and reordered here, written as the JSON the server checks
// (webapp/services/partners/offer_fields.py, docs/offers.md) into the fields textarea, which stays
// under "Advanced: JSON" for experts and works without this script.

import { element, readTextarea } from "./json-editor.js";

const TYPES = ["number", "integer", "country", "text", "choice"];
const LANGUAGES = ["fr", "ar", "en"];
const KNOWN_KEYS = new Set(["name", "type", "label", "required", "min", "max", "max_length", "options"]);
const MAX_KEY = 32;

// A key from a French label: "Poids (kg)" -> "poids_kg" (lower-case letters, digits and _).
export const keyFrom = (label) => {
  let key = (label || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, MAX_KEY)
    .replace(/_+$/, "");
  if (key && !/^[a-z]/.test(key)) key = `f_${key}`.slice(0, MAX_KEY);
  return key;
};

const setUp = (root) => {
  const text = JSON.parse(root.dataset.text);
  const textarea = document.getElementById(root.dataset.for);
  const details = textarea.closest("[data-raw-json]");
  let counter = 0;
  const uid = () => `field-editor-${(counter += 1)}`;
  let fields = [];

  const parse = (raw) => {
    if (!Array.isArray(raw)) return null;
    const parsed = [];
    for (const spec of raw) {
      if (!spec || typeof spec !== "object" || Array.isArray(spec)) return null;
      if (!Object.keys(spec).every((key) => KNOWN_KEYS.has(key)) || !TYPES.includes(spec.type)) return null;
      const label = spec.label && typeof spec.label === "object" ? spec.label : {};
      parsed.push({
        name: typeof spec.name === "string" ? spec.name : "",
        type: spec.type,
        label: Object.fromEntries(LANGUAGES.map((language) => [language, String(label[language] ?? "")])),
        required: spec.required !== false,
        min: spec.min ?? "",
        max: spec.max ?? "",
        max_length: spec.max_length ?? "",
        options: Array.isArray(spec.options)
          ? spec.options
              .map((option) => [option?.value ?? "", ...LANGUAGES.map((language) => option?.label?.[language] ?? "")].join(" | "))
              .join("\n")
          : "",
      });
    }
    return parsed;
  };

  const number = (value) => (value === "" || value === null || !Number.isFinite(Number(value)) ? null : Number(value));

  const options = (lines) =>
    lines
      .split("\n")
      .map((line) => line.split("|").map((part) => part.trim()))
      .filter((parts) => parts[0])
      .map(([value, fr = "", ar = "", en = ""]) => ({
        value,
        // A label left out is the French one: the server wants all three, the manager may refine.
        label: { fr: fr || value, ar: ar || fr || value, en: en || fr || value },
      }));

  const specsOf = () => {
    const used = new Set();
    return fields.map((field) => {
      let name = field.name || keyFrom(field.label.fr);
      if (!field.name && used.has(name)) {
        let suffix = 2;
        while (used.has(`${name}_${suffix}`)) suffix += 1;
        name = `${name}_${suffix}`;
      }
      used.add(name);
      const spec = { name, type: field.type, label: { ...field.label }, required: field.required };
      if (field.type === "number" || field.type === "integer") {
        if (number(field.min) !== null) spec.min = number(field.min);
        if (number(field.max) !== null) spec.max = number(field.max);
      }
      if (field.type === "text" && number(field.max_length) !== null) spec.max_length = number(field.max_length);
      if (field.type === "choice") spec.options = options(field.options);
      return spec;
    });
  };

  const write = () => {
    textarea.value = JSON.stringify(specsOf(), null, 2);
  };

  const input = (label, value, onInput, attributes = {}) => {
    const id = uid();
    const control = element(attributes.multiline ? "textarea" : "input", {
      id,
      ...(attributes.multiline ? { rows: 3 } : { type: attributes.type ?? "text" }),
      dir: attributes.dir,
      lang: attributes.lang,
      inputmode: attributes.inputmode,
      placeholder: attributes.placeholder,
      "data-field-part": attributes.part,
    });
    control.value = value ?? "";
    control.addEventListener("input", () => onInput(control.value));
    const help = attributes.help ? element("p", { class: "help", text: attributes.help }) : null;
    return element("div", { class: "field" }, [element("label", { for: id, text: label }), control, ...(help ? [help] : [])]);
  };

  const fieldView = (field, index) => {
    const box = element("li", { class: "field-spec" });
    const title = element("p", { class: "field-spec-title", text: `${text.field} ${index + 1}` });
    const labels = LANGUAGES.map((language) =>
      input(
        text[`label_${language}`],
        field.label[language],
        (value) => {
          field.label[language] = value;
          keyInput.placeholder = keyFrom(field.label.fr);
          write();
        },
        { lang: language, dir: language === "ar" ? "rtl" : "ltr", part: `label-${language}` },
      ),
    );
    const keyBlock = input(
      text.key,
      field.name,
      (value) => {
        field.name = value.trim();
        write();
      },
      { dir: "ltr", placeholder: keyFrom(field.label.fr), help: text.key_help, part: "key" },
    );
    const keyInput = keyBlock.querySelector("input");
    const typeId = uid();
    const type = element("select", { id: typeId, "data-field-part": "type" });
    for (const kind of TYPES) {
      const option = element("option", { value: kind, text: text.types[kind] });
      option.selected = kind === field.type;
      type.append(option);
    }
    type.addEventListener("change", () => {
      field.type = type.value;
      write();
      render();
    });
    const requiredId = uid();
    const required = element("input", { type: "checkbox", id: requiredId, "data-field-part": "required" });
    required.checked = field.required;
    required.addEventListener("change", () => {
      field.required = required.checked;
      write();
    });
    const limits = [];
    if (field.type === "number" || field.type === "integer") {
      const numeric = { type: "number", dir: "ltr", inputmode: field.type === "integer" ? "numeric" : "decimal" };
      limits.push(input(text.min, field.min, (value) => ((field.min = value), write()), { ...numeric, part: "min" }));
      limits.push(input(text.max, field.max, (value) => ((field.max = value), write()), { ...numeric, part: "max" }));
    } else if (field.type === "text") {
      limits.push(
        input(text.max_length, field.max_length, (value) => ((field.max_length = value), write()), {
          type: "number",
          dir: "ltr",
          inputmode: "numeric",
          part: "max-length",
        }),
      );
    } else if (field.type === "choice") {
      limits.push(
        input(text.options, field.options, (value) => ((field.options = value), write()), {
          multiline: true,
          part: "options",
        }),
      );
    }
    const move = (step) => {
      const target = index + step;
      if (target < 0 || target >= fields.length) return;
      [fields[index], fields[target]] = [fields[target], fields[index]];
      write();
      render();
    };
    const buttons = [
      [text.up, () => move(-1), index === 0],
      [text.down, () => move(1), index === fields.length - 1],
      [
        text.remove,
        () => {
          fields.splice(index, 1);
          write();
          render();
        },
        false,
      ],
    ].map(([words, action, disabled]) => {
      const button = element("button", { type: "button", class: "button-secondary", text: words, disabled });
      button.addEventListener("click", action);
      return button;
    });
    box.append(
      title,
      ...labels,
      element("div", { class: "form-row" }, [
        keyBlock,
        element("div", { class: "field" }, [element("label", { for: typeId, text: text.type }), type]),
      ]),
      element("div", { class: "field field-check" }, [required, element("label", { for: requiredId, text: text.required })]),
      ...(limits.length ? [element("div", { class: "form-row" }, limits)] : []),
      element("div", { class: "actions" }, buttons),
    );
    return box;
  };

  const render = () => {
    const list = element("ol", { class: "field-specs" });
    fields.forEach((field, index) => list.append(fieldView(field, index)));
    if (!fields.length) list.append(element("li", { class: "help", text: text.no_fields }));
    const add = element("button", { type: "button", class: "button-secondary", text: text.add_field, "data-add-field": true });
    add.addEventListener("click", () => {
      fields.push({ name: "", type: "text", label: { fr: "", ar: "", en: "" }, required: true, min: "", max: "", max_length: "", options: "" });
      write();
      render();
      root.querySelector(".field-spec:last-of-type input")?.focus();
    });
    root.replaceChildren(list, element("div", { class: "actions" }, [add]));
  };

  const load = () => {
    const loaded = readTextarea({ textarea, root, details, tooComplex: text.too_complex, read: parse });
    if (!loaded) return false;
    fields = loaded;
    render();
    return true;
  };

  textarea.addEventListener("change", load);
  root.hidden = false;
  const shown = load();
  if (details && shown && textarea.closest(".field-invalid") === null) details.open = false;
  root.dataset.ready = "true";
};

// Imported by tests/js (Node, no document): the page sets itself up only in a browser.
if (typeof document !== "undefined") {
  for (const root of document.querySelectorAll("[data-field-editor]")) setUp(root);
}
