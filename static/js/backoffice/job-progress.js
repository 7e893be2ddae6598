// A job's progress block (templates/_macros/jobs.html): asks the server for the job's state every
// few seconds, moves the bar, says the state and the progress in words, and when the job is
// finished reloads the page (or opens the block's `then` URL), which then shows the outcome.
// The state lives in the `job` table (the work runs on a job worker), so any web server answers.
const POLL_MS = 1500;

const follow = (block) => {
  const statusUrl = block.dataset.jobStatus;
  const bar = block.querySelector("progress");
  const text = block.querySelector("[data-job-text]");
  const badge = block.querySelector("[data-job-badge]");
  const cancel = block.querySelector("[data-job-cancel]");

  const show = (state) => {
    if (bar) {
      if (state.total) {
        bar.max = state.total;
        bar.value = Math.min(state.done, state.total);
      } else {
        bar.removeAttribute("value"); // the size is not known yet: an indeterminate bar
      }
    }
    if (text) text.textContent = state.text;
    if (badge) {
      badge.textContent = state.state_label;
      badge.className = `badge badge-${state.badge}`;
    }
    if (cancel && !state.cancellable) cancel.hidden = true;
  };

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
          if (block.dataset.jobThen) window.location.assign(block.dataset.jobThen);
          else window.location.reload();
          return;
        }
        show(state);
      }
    } catch {
      // The network dropped: the next poll will tell.
    }
    window.setTimeout(poll, POLL_MS);
  };
  window.setTimeout(poll, POLL_MS);
};

for (const block of document.querySelectorAll("[data-job-progress]")) {
  if (block.dataset.jobFinished !== "true") follow(block);
}
