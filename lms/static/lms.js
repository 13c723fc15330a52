// Start the NHS.UK front-end components (menu toggle, error summary focus, checkboxes).
import { initAll } from "./nhsuk/nhsuk-frontend.min.js";

initAll();
