#!/usr/bin/env bash
# Copy the NHS.UK front-end from node_modules into lms/static/nhsuk/, pointing its CSS at
# the images where Flask serves them.
set -euo pipefail
src=node_modules/nhsuk-frontend/dist/nhsuk
dest=lms/static/nhsuk
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$src/assets" "$dest/assets"
cp "$src/nhsuk-frontend.min.js" "$dest/"
sed 's#url(/assets/#url(/static/nhsuk/assets/#g' "$src/nhsuk-frontend.min.css" > "$dest/nhsuk-frontend.min.css"
