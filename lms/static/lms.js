// Start the NHS.UK front-end components (menu toggle, error summary focus, checkboxes).
import { initAll } from "./nhsuk/nhsuk-frontend.min.js";

initAll();

// Filters folded behind one button: on a wide screen, open them (a phone keeps results first).
if (window.matchMedia("(min-width: 40.0625em)").matches) {
  document.querySelectorAll("details[data-lms-open-wide]").forEach((details) => {
    details.open = true;
  });
}
