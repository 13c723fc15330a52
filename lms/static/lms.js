// Start the NHS.UK front-end components (menu toggle, error summary focus, checkboxes).
import { initAll } from "./nhsuk/nhsuk-frontend.min.js";

initAll();

// Filters folded behind one button: on a wide screen, open them (a phone keeps results first).
if (window.matchMedia("(min-width: 40.0625em)").matches) {
  document.querySelectorAll("details[data-lms-open-wide]").forEach((details) => {
    details.open = true;
  });
}

// The register's name filter, as people type. Without JavaScript the same box filters the
// register when its form is sent (lms.attendance.register_rows.matching): each row carries
// the text it is found by (the name, and for people who share a name their organisation and
// email). Hidden rows stay in the form, so their marks are saved as they are.
const registerFilter = document.querySelector("[data-register-filter]");
const register = document.querySelector("[data-register]");
const shown = document.querySelector("[data-register-shown]");
if (registerFilter && register) {
  const rows = Array.from(register.querySelectorAll("tbody tr[data-search]"));
  let announce;
  registerFilter.addEventListener("input", () => {
    const words = registerFilter.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    let count = 0;
    for (const row of rows) {
      const match = words.every((word) => row.dataset.search.includes(word));
      row.hidden = !match;
      count += match ? 1 : 0;
    }
    clearTimeout(announce);
    announce = setTimeout(() => {
      if (shown) {
        shown.textContent = words.length
          ? `Showing ${count} of ${rows.length} people.`
          : `Showing all ${rows.length} people.`;
      }
    }, 400);
  });
}
