// The offer form's condition editor (templates/partner/offer_form.html): a partner manager builds
// the eligibility rule from rows of (variable, operator, value) in "all of" / "any of" groups, and
// the editor writes the very JSON the server checks (docs/offers.md) into the conditions textarea,
// which stays under "Advanced: JSON" for experts and works without this script.
//
// What may be chosen comes from the server (webapp/services/partners/rule_words.py,
// `editor_vocabulary`): the variables with their operators and the values of the published tables,
// and the words of each language, from which each condition's label is written in French, Arabic
// and English (the same sentences the server uses to show a rule in plain words). A rule the editor
// cannot show (JsonLogic of an expert) leaves the editor aside and the JSON open.
// The preview endpoint counts the card holders the rule admits today and says it in words.

import { element, readTextarea } from "./json-editor.js";

const MAX_LABEL = 200;
const PREVIEW_DELAY_MS = 600;
const COMPARISONS = ["==", "!=", ">=", ">", "<=", "<"];

const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);
// The stored form of a logic (rules.py): operands always in a list, a variable's name a string.
const canonical = (node) => {
  if (Array.isArray(node)) return node.map(canonical);
  if (node && typeof node === "object" && Object.keys(node).length === 1) {
    const [operator] = Object.keys(node);
    const operands = node[operator];
    if (operator === "var") return { var: Array.isArray(operands) && operands.length === 1 ? operands[0] : operands };
    return { [operator]: (Array.isArray(operands) ? operands : [operands]).map(canonical) };
  }
  return node;
};
const isLiteral = (node) =>
  node === null || typeof node !== "object" || (Array.isArray(node) && node.every((v) => v === null || typeof v !== "object"));


const setUp = (root) => {
  const vocabulary = JSON.parse(root.dataset.vocabulary);
  const text = JSON.parse(root.dataset.text);
  const form = root.closest("form");
  const textarea = document.getElementById(root.dataset.for);
  const wordsBox = form.querySelector("[data-rule-sentences]");
  const countBox = form.querySelector("[data-rule-count]");
  const details = textarea.closest("[data-raw-json]");
  const subjects = new Map(vocabulary.subjects.map((subject) => [subject.key, subject]));
  let counter = 0;
  const uid = (what) => `cond-${what}-${(counter += 1)}`;

  // --- JsonLogic <-> rows -----------------------------------------------------------------------

  const subjectOf = (node) => {
    if (node && typeof node === "object" && !Array.isArray(node)) {
      const keys = Object.keys(node);
      if (keys.length === 1 && keys[0] === "var" && subjects.has(node.var)) return node.var;
    }
    for (const [key, expression] of Object.entries(vocabulary.computed)) {
      if (sameJson(canonical(node), expression)) return key;
    }
    return null;
  };
  const operandOf = (key) => vocabulary.computed[key] ?? { var: key };
  const allowedValue = (subject, value) =>
    !subject.values || subject.values.some((choice) => choice.value === value);

  const row = (subjectKey, operator, value) => {
    const subject = subjects.get(subjectKey);
    if (!subject || !subject.operators.includes(operator)) return null;
    const values = Array.isArray(value) ? value : [value];
    if (!values.every((one) => allowedValue(subject, one))) return null;
    if (subject.kind === "number" && typeof value !== "number") return null;
    if (subject.kind === "date" && typeof value !== "string") return null;
    return { type: "row", subject: subjectKey, operator, value };
  };

  const parse = (node) => {
    if (!node || typeof node !== "object" || Array.isArray(node)) return null;
    const keys = Object.keys(node);
    if (keys.length !== 1) return null;
    const operator = keys[0];
    const operands = Array.isArray(node[operator]) ? node[operator] : [node[operator]];
    if (operator === "and" || operator === "or") {
      const items = operands.map(parse);
      return items.every(Boolean) ? { type: "group", op: operator, items } : null;
    }
    if (operator === "!" && operands.length === 1 && operands[0] && operands[0].in) {
      const inner = parse(operands[0]);
      if (!inner || inner.type !== "row") return null;
      return { ...inner, operator: inner.operator === "in" ? "not_in" : "has_not" };
    }
    if (operator === "in" && operands.length === 2) {
      const [needle, haystack] = operands;
      const subject = subjectOf(needle);
      if (subject && Array.isArray(haystack) && isLiteral(haystack)) return row(subject, "in", haystack);
      if (subjectOf(haystack) === "artisan.programmes" && typeof needle === "string") {
        return row("artisan.programmes", "has", needle);
      }
      return null;
    }
    if (COMPARISONS.includes(operator) && operands.length === 2) {
      const subject = subjectOf(operands[0]);
      if (subject && isLiteral(operands[1]) && !Array.isArray(operands[1])) return row(subject, operator, operands[1]);
    }
    return null;
  };

  const logicOf = (item) => {
    if (item.type === "group") {
      const parts = item.items.filter(complete).map(logicOf);
      return parts.length === 1 ? parts[0] : { [item.op]: parts };
    }
    const operand = operandOf(item.subject);
    switch (item.operator) {
      case "in":
        return { in: [operand, item.value] };
      case "not_in":
        return { "!": [{ in: [operand, item.value] }] };
      case "has":
        return { in: [item.value, operand] };
      case "has_not":
        return { "!": [{ in: [item.value, operand] }] };
      default:
        return { [item.operator]: [operand, item.value] };
    }
  };

  const complete = (item) => {
    if (item.type === "group") return item.items.some(complete);
    if (item.value === undefined || item.value === null || item.value === "") return false;
    return !Array.isArray(item.value) || item.value.length > 0;
  };

  // The condition in words, in one language: the server's sentences (rule_words.py) filled in.
  const words = (item, language, nested = false) => {
    const lexicon = vocabulary.words[language];
    if (item.type === "group") {
      const parts = item.items.filter(complete).map((part) => words(part, language, true));
      const joined = parts.join(` ${lexicon[item.op]} `);
      return nested && parts.length > 1 ? `(${joined})` : joined;
    }
    const valueWords = (value) => {
      if (typeof value === "boolean") return value ? lexicon.yes : lexicon.no;
      return lexicon.values[item.subject]?.[value] ?? String(value);
    };
    const value = Array.isArray(item.value) ? item.value.map(valueWords).join(", ") : valueWords(item.value);
    return lexicon.sentences[item.operator]
      .replace("%(subject)s", lexicon.subjects[item.subject])
      .replace("%(value)s", value);
  };
  const shorten = (sentence) => (sentence.length > MAX_LABEL ? `${sentence.slice(0, MAX_LABEL - 1)}…` : sentence);

  const conditionsOf = (model) => {
    const items = model.op === "and" ? model.items.filter(complete) : complete(model) ? [model] : [];
    return items.map((item) => ({
      label: Object.fromEntries(["fr", "ar", "en"].map((language) => [language, shorten(words(item, language))])),
      logic: logicOf(item),
    }));
  };

  const modelOf = (conditions) => {
    if (!Array.isArray(conditions)) return null;
    if (conditions.length === 1 && conditions[0]?.logic?.or) {
      const group = parse(conditions[0].logic);
      return group && group.type === "group" ? group : null;
    }
    const items = conditions.map((condition) => (condition && condition.logic ? parse(condition.logic) : null));
    return items.every(Boolean) ? { type: "group", op: "and", items } : null;
  };

  // --- the rows on screen -----------------------------------------------------------------------

  let model = { type: "group", op: "and", items: [] };

  const newRow = () => {
    const subject = vocabulary.subjects[0];
    return { type: "row", subject: subject.key, operator: subject.operators[0], value: null };
  };

  const defaultValue = (subject, operator) => {
    if (operator === "in" || operator === "not_in") return [];
    if (subject.kind === "boolean") return true;
    return null;
  };

  const select = (label, options, chosen, onChange) => {
    const control = element("select", { "aria-label": label });
    for (const [value, words] of options) {
      const option = element("option", { value: JSON.stringify(value), text: words });
      option.selected = sameJson(value, chosen);
      control.append(option);
    }
    control.addEventListener("change", () => onChange(JSON.parse(control.value)));
    return control;
  };

  const valueControl = (item, subject) => {
    if (item.operator === "in" || item.operator === "not_in") {
      const box = element("fieldset", { class: "cond-choices" }, [element("legend", { class: "visually-hidden", text: text.value })]);
      for (const choice of subject.values) {
        const id = uid("choice");
        const checkbox = element("input", { type: "checkbox", id, value: choice.value });
        checkbox.checked = item.value.includes(choice.value);
        checkbox.addEventListener("change", () => {
          item.value = subject.values
            .map((one) => one.value)
            .filter((value) => value === choice.value ? checkbox.checked : item.value.includes(value));
          changed(false);
        });
        box.append(element("div", { class: "cond-choice" }, [checkbox, element("label", { for: id, text: choice.label })]));
      }
      return box;
    }
    if (subject.values) {
      const options = [[null, text.choose], ...subject.values.map((choice) => [choice.value, choice.label])];
      return select(text.value, options, item.value, (value) => {
        item.value = value;
        changed(false);
      });
    }
    const input = element("input", {
      type: subject.kind === "date" ? "date" : "number",
      "aria-label": text.value,
      inputmode: subject.kind === "number" ? "numeric" : undefined,
      step: subject.kind === "number" ? "1" : undefined,
      dir: "ltr",
    });
    input.value = item.value ?? "";
    input.addEventListener("input", () => {
      if (subject.kind === "date") item.value = input.value || null;
      else item.value = input.value === "" || !Number.isFinite(Number(input.value)) ? null : Math.trunc(Number(input.value));
      changed(false);
    });
    return input;
  };

  const rowView = (item, parent) => {
    const subject = subjects.get(item.subject);
    const subjectSelect = select(
      text.subject,
      vocabulary.subjects.map((one) => [one.key, one.label]),
      item.subject,
      (key) => {
        const chosen = subjects.get(key);
        item.subject = key;
        item.operator = chosen.operators[0];
        item.value = defaultValue(chosen, item.operator);
        changed(true);
      },
    );
    const operatorSelect = select(
      text.operator,
      subject.operators.map((operator) => [operator, vocabulary.operators[operator]]),
      item.operator,
      (operator) => {
        const wasList = item.operator === "in" || item.operator === "not_in";
        item.operator = operator;
        if (wasList !== (operator === "in" || operator === "not_in")) item.value = defaultValue(subject, operator);
        changed(true);
      },
    );
    const remove = element("button", { type: "button", class: "button-secondary cond-remove", text: text.remove });
    remove.addEventListener("click", () => {
      parent.items.splice(parent.items.indexOf(item), 1);
      changed(true);
    });
    return element("li", { class: "cond-row" }, [subjectSelect, operatorSelect, valueControl(item, subject), remove]);
  };

  const groupView = (group, parent) => {
    const box = element("div", { class: parent ? "cond-group cond-group-nested" : "cond-group" });
    const label = parent ? text.group : text.value;
    box.append(
      select(label, [["and", text.all], ["or", text.any]], group.op, (op) => {
        group.op = op;
        changed(false);
      }),
    );
    const list = element("ul", { class: "cond-items" });
    for (const item of group.items) list.append(item.type === "group" ? groupView(item, group) : rowView(item, group));
    if (!group.items.length && !parent) list.append(element("li", { class: "help", text: text.no_conditions }));
    box.append(list);
    const actions = element("div", { class: "actions" });
    const addRow = element("button", { type: "button", class: "button-secondary", text: text.add_condition });
    addRow.addEventListener("click", () => {
      group.items.push(newRow());
      changed(true);
    });
    actions.append(addRow);
    if (parent) {
      const remove = element("button", { type: "button", class: "button-secondary", text: text.remove });
      remove.addEventListener("click", () => {
        parent.items.splice(parent.items.indexOf(group), 1);
        changed(true);
      });
      actions.append(remove);
    } else {
      const addGroup = element("button", { type: "button", class: "button-secondary", text: text.add_group });
      addGroup.addEventListener("click", () => {
        group.items.push({ type: "group", op: group.op === "and" ? "or" : "and", items: [newRow()] });
        changed(true);
      });
      actions.append(addGroup);
    }
    box.append(actions);
    return parent ? element("li", {}, [box]) : box;
  };

  const render = () => {
    root.replaceChildren(groupView(model, null));
  };

  // --- writing the JSON and the preview ---------------------------------------------------------

  let previewTimer = null;
  let previewRequest = 0;

  const showWords = (sentences) => {
    if (!wordsBox) return;
    wordsBox.replaceChildren(
      ...(sentences.length ? sentences : [text.every_holder]).map((sentence) => element("li", { text: sentence })),
    );
  };

  const preview = async () => {
    if (!root.dataset.previewUrl || !countBox) return;
    const asked = (previewRequest += 1);
    countBox.hidden = false;
    countBox.textContent = text.counting;
    let answer = null;
    try {
      const response = await fetch(root.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": form.querySelector("input[name=csrf_token]")?.value ?? "",
        },
        body: JSON.stringify({ conditions: JSON.parse(textarea.value || "[]") }),
      });
      if (response.headers.get("Content-Type")?.startsWith("application/json")) answer = await response.json();
      if (!response.ok && answer) answer = { failed: answer.message };
    } catch {
      answer = null;
    }
    if (asked !== previewRequest) return; // a newer preview is on its way
    if (answer && !answer.failed) {
      countBox.textContent = answer.summary;
      showWords(answer.words);
    } else {
      countBox.textContent = answer?.failed ?? text.count_failed;
    }
  };

  const schedulePreview = () => {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
  };

  const changed = (redraw) => {
    textarea.value = JSON.stringify(conditionsOf(model), null, 2);
    root.dataset.ready = "true";
    if (redraw) render();
    schedulePreview();
  };

  const load = () => {
    const loaded = readTextarea({ textarea, root, details, tooComplex: text.too_complex, read: modelOf });
    if (!loaded) return false;
    model = loaded;
    render();
    return true;
  };

  // An expert's edit of the JSON is shown in the editor when it can be.
  textarea.addEventListener("change", () => {
    if (load()) schedulePreview();
  });

  root.hidden = false;
  const shown = load();
  const hasErrors = textarea.closest(".field-invalid") !== null;
  if (details && shown && !hasErrors) details.open = false;
  root.dataset.ready = "true";
  if (shown) schedulePreview();
};

for (const root of document.querySelectorAll("[data-condition-editor]")) setUp(root);
