// What the offer form's two editors share (condition-editor.js, field-editor.js): each edits a JSON
// textarea that stays under "Advanced: JSON" for experts, and draws its rows with `element`.

export const element = (tag, attributes = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
};

// The textarea's JSON read through `read` (null when the editor cannot show it). An unreadable or
// too complex value says so in the editor's place and opens the raw JSON, where an expert edits it.
export const readTextarea = ({ textarea, root, details, tooComplex, read }) => {
  let raw;
  try {
    raw = JSON.parse(textarea.value.trim() || "[]");
  } catch {
    raw = null;
  }
  const loaded = read(raw);
  if (!loaded) {
    root.replaceChildren(element("p", { class: "help", text: tooComplex }));
    if (details) details.open = true;
  }
  return loaded;
};
