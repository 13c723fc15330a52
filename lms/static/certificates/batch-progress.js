// Bulk issue of certificates: keep the progress bar on the faculty page up to date.
// Without this script the page still works: the bar shows where the issue had got to when
// the page loaded, and "Refresh this page" shows more.
const block = document.querySelector("[data-batch-progress-url][data-batch-running]");

if (block) {
  const url = block.dataset.batchProgressUrl;
  const bar = block.querySelector("progress");
  const status = block.querySelector("[role=status]");
  const refresh = block.querySelector(".lms-batch__refresh");
  let failures = 0;

  const show = (p) => {
    bar.max = Math.max(p.total, 1);
    bar.value = p.done;
    bar.textContent = `${p.percent}%`;
    status.textContent = `${p.percent}% – ${p.message}`;
  };

  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const progress = await response.json();
      failures = 0;
      show(progress);
      if (progress.finished) {
        if (refresh) {
          refresh.hidden = false;
          refresh.innerHTML = "";
          const link = document.createElement("a");
          link.href = window.location.pathname;
          link.textContent = "Refresh this page";
          refresh.append(link, " to see everyone's certificates.");
        }
        return;
      }
    } catch (error) {
      failures += 1;
      if (failures >= 5) return; // give up quietly: the refresh link still works
    }
    window.setTimeout(poll, 1500);
  };

  window.setTimeout(poll, 1000);
}
