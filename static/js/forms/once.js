// A create form is sent once: after the first submit its buttons are disabled, so a second click
// sends nothing. The form's one-time token (webapp/forms_once.py) is what makes a second sending
// harmless anyway (the back button, a reload); this only spares the person the wait and the doubt.

const SUBMITS = 'button:not([type]), button[type="submit"], input[type="submit"]';

function buttonsOf(form) {
  return form.querySelectorAll(SUBMITS);
}

function guard(form) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    // After this turn of the event loop, so the clicked button's own name and value are still sent.
    setTimeout(() => {
      for (const button of buttonsOf(form)) {
        button.disabled = true;
      }
    }, 0);
  });
}

for (const input of document.querySelectorAll('form input[name="once"]')) {
  if (input.form) guard(input.form);
}

// Back to a page kept in the browser's memory: the form can be used again (its token decides).
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const input of document.querySelectorAll('form input[name="once"]')) {
    if (!input.form) continue;
    delete input.form.dataset.sent;
    for (const button of buttonsOf(input.form)) button.disabled = false;
  }
});
