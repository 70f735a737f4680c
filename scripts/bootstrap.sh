#!/usr/bin/env bash
# Idempotent set-up: a Python 3.11 virtualenv in .venv with the locked dependencies
# (requirements/dev.txt: the runtime lock plus test, demo and embedded-server packages),
# Debian's Pango and a font with Turkish letters for PDF documents (WeasyPrint), and, with
# --system-test-deps, the Debian packages the test suite needs (Chromium for the browser
# tests, gettext for the catalogue check, poppler-utils to read PDFs back).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv 2>/dev/null || { apt_install "false:python3-venv"; "$PYTHON" -m venv .venv; }
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements/lock.txt -nt "$stamp" ] || [ requirements/dev.txt -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements/dev.txt
  touch "$stamp"
fi

# Libraries have no command to look for: ask the dynamic linker and fontconfig instead.
pdf_missing=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || pdf_missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || pdf_missing+=(libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pdf_missing+=(fonts-dejavu-core)
if [ ${#pdf_missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${pdf_missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${pdf_missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--system-test-deps" ]; then
  apt_install "chromium:chromium" "msgattrib:gettext" "pdftotext:poppler-utils"
fi
