#!/usr/bin/env bash
# deps-chromium.sh — install Debian's `chromium` package (headless browser) for the HTML report
# test (tests/report/html_chromium.sh). Idempotent: does nothing when chromium is already on PATH.
# Needs root and apt; waits (up to 10 minutes) for a dpkg lock held by someone else, and refreshes
# the package lists once when the first install fails. Exit status 0
# when `chromium` runs, else 1 with the reason on stderr.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "deps-chromium.sh: not root, cannot apt-get install chromium" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps-chromium.sh: no apt-get on this system, install a chromium package by hand" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends chromium >&2; }
# a stale package list is the usual reason for a failed install: refresh it once and retry
install || { apt-get -o DPkg::Lock::Timeout=600 update >&2 && install; } || true
if ! command -v chromium >/dev/null 2>&1; then
  echo "deps-chromium.sh: apt-get install chromium failed" >&2
  exit 1
fi
chromium --version >&2
