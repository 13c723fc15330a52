#!/usr/bin/env bash
# Install the Debian packages the stack needs, where they are missing.
#   scripts/system-packages.sh run    WeasyPrint's libraries (fast font subsetting included)
#   scripts/system-packages.sh test   the above, plus PostgreSQL, Chromium, faketime and systemd
#                                     (systemd-analyze checks deploy/systemd) for the tests
#   scripts/system-packages.sh bench  the run set, plus PostgreSQL and wrk for `make bench`
set -euo pipefail

need=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core)
if [[ "${1:-run}" == "test" ]]; then
  need+=(postgresql chromium poppler-utils faketime systemd)
fi
if [[ "${1:-run}" == "bench" ]]; then
  need+=(postgresql wrk)
fi

missing=()
for pkg in "${need[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "These Debian packages are needed and missing: ${missing[*]}" >&2
  echo "Install them as root:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
