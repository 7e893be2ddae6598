// The public verdict page: the printed QR code opens /v#<token as digits>. The token stays in the
// fragment, so it never reaches a server log; this script sends it to the verify API in the body.
const section = document.getElementById("verdict");
const details = document.getElementById("card-details");
const checkedAt = document.getElementById("checked-at");
// Titles and messages of every verdict, in the page's language (rendered from webapp/verdicts.py).
const texts = document.getElementById("verdict-texts").content;
let latestCheck = 0;

function textOf(verdict) {
  const node = texts.querySelector(`[data-verdict="${verdict}"]`);
  return node ? { title: node.dataset.title, message: node.textContent.trim() } : { title: verdict, message: "" };
}

function show(verdict, reason) {
  section.className = `verdict verdict-${verdict}`;
  section.dataset.verdict = verdict;
  const text = textOf(verdict);
  section.querySelector("[data-verdict-title]").textContent = text.title;
  section.querySelector("[data-verdict-reason]").textContent = reason ?? text.message;
}

function fill(container, values) {
  for (const field of container.querySelectorAll("[data-field]")) {
    field.textContent = values[field.dataset.field] ?? "";
  }
  container.hidden = false;
}

// The language links are "?lang=xx": carry the card's fragment along, or switching language
// would drop the card being checked.
function keepFragmentInLanguageLinks() {
  for (const link of document.querySelectorAll(".languages a")) link.hash = window.location.hash;
}

async function check() {
  const thisCheck = ++latestCheck;
  // Never leave a previous card's details beside a new verdict.
  details.hidden = true;
  checkedAt.hidden = true;
  keepFragmentInLanguageLinks();
  const fragment = window.location.hash.slice(1);
  if (!fragment) {
    show("malformed");
    return;
  }
  show("pending", "");
  let answer;
  try {
    const response = await fetch(section.dataset.verifyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang },
      // Only the fragment: the query (?lang=) and the host the page was opened on do not matter.
      body: JSON.stringify({ qr: fragment }),
      cache: "no-store",
      credentials: "omit",
    });
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (thisCheck !== latestCheck) return; // a newer fragment is being checked: drop this answer
  if (!answer || !answer.verdict) {
    show("network_error");
    return;
  }
  show(answer.verdict, answer.reason);
  if (answer.card) fill(details, answer.card);
  if (answer.checked_at) {
    const time = checkedAt.querySelector("time");
    time.dateTime = answer.checked_at;
    fill(checkedAt, { checked_at: new Date(answer.checked_at).toLocaleString(document.documentElement.lang) });
  }
}

window.addEventListener("hashchange", check);
check();
