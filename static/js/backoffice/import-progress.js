// The import progress page: asks the server for the run's state every few seconds, moves the
// progress bar, and opens the report when the work is done. The state lives in the database
// (the work runs on a job worker; its progress is on the job's row), so any server can answer.
const POLL_MS = 1500;

const panel = document.querySelector("[data-import-status]");
if (panel) {
  const bar = panel.querySelector("progress");
  const text = panel.querySelector("[data-progress-text]");
  const statusUrl = panel.dataset.importStatus;

  const poll = async () => {
    try {
      const response = await fetch(statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      // A sign-out or a lost connection: keep the page as it is and try again later.
      if (response.ok && response.headers.get("Content-Type")?.startsWith("application/json")) {
        const state = await response.json();
        if (state.finished) {
          window.location.assign(state.url);
          return;
        }
        if (state.rows_total) {
          bar.max = state.rows_total;
          bar.value = Math.min(state.rows_done, state.rows_total);
        } else {
          bar.removeAttribute("value"); // the size is not known yet: an indeterminate bar
        }
        text.textContent = state.text;
      }
    } catch {
      // The network dropped: the next poll will tell.
    }
    window.setTimeout(poll, POLL_MS);
  };
  window.setTimeout(poll, POLL_MS);
}
