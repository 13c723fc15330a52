// The "Copy the address" button on the calendar page: shown only where copying works.
const buttons = document.querySelectorAll("[data-copy-target]");

for (const button of buttons) {
  const input = document.getElementById(button.dataset.copyTarget);
  const status = document.querySelector(`[data-copy-status="${button.dataset.copyTarget}"]`);
  if (!input || !navigator.clipboard) {
    continue;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      if (status) status.textContent = "The address has been copied.";
    } catch {
      input.select();
      if (status) status.textContent = "Select the address and copy it.";
    }
  });
}
