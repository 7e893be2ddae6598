// The public verdict page: the printed QR code opens /v#<token as digits>. The token stays in the
// fragment, so it never reaches a server log; this script sends it to the verify API in the body.
const section = document.getElementById("verdict");
const details = document.getElementById("card-details");
const checkedAt = document.getElementById("checked-at");
const titles = document.getElementById("verdict-titles").content;

function titleFor(verdict) {
  const node = titles.querySelector(`[data-verdict="${verdict}"]`);
  return node ? node.textContent : verdict;
}

function show(verdict, reason) {
  section.className = `verdict verdict-${verdict}`;
  section.dataset.verdict = verdict;
  section.querySelector("[data-verdict-title]").textContent = titleFor(verdict);
  section.querySelector("[data-verdict-reason]").textContent = reason || "";
}

function fill(container, values) {
  for (const field of container.querySelectorAll("[data-field]")) {
    field.textContent = values[field.dataset.field] ?? "";
  }
  container.hidden = false;
}

async function check() {
  const scanned = window.location.href;
  if (!window.location.hash || window.location.hash.length < 2) {
    show("malformed", "");
    return;
  }
  let answer;
  try {
    const response = await fetch(section.dataset.verifyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang },
      body: JSON.stringify({ qr: scanned }),
      cache: "no-store",
      credentials: "omit",
    });
    answer = await response.json();
  } catch {
    show("network_error", "");
    return;
  }
  if (!answer || !answer.verdict) {
    show("network_error", answer && answer.reason);
    return;
  }
  show(answer.verdict, answer.reason);
  if (answer.card) fill(details, answer.card);
  if (answer.checked_at) fill(checkedAt, { checked_at: new Date(answer.checked_at).toLocaleString(document.documentElement.lang) });
}

window.addEventListener("hashchange", check);
check();
