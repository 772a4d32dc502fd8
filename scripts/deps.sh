#!/usr/bin/env bash
# deps.sh — install what Tenet needs to build and test, from Debian's packages, when missing.
# Safe to run repeatedly: it only calls apt-get when a package is absent.
set -euo pipefail

# build + tests; then: man pages (scdoc, man-db), the Debian package and its checks (dpkg-dev for
# dpkg-shlibdeps, lintian, systemd for systemd-analyze verify, adduser for the package's postinst),
# git for CI's plain-clone run; jq and python3 read reports back in tests (JSON, CSV, JUnit);
# libpq-dev for the manager's PostgreSQL store and postgresql for the throwaway test cluster
# (scripts/pg-cluster.sh).
PKGS=(gcc make cmake pkg-config
      libyaml-dev libpcre2-dev libxxhash-dev libssl-dev libsqlite3-dev libpq-dev postgresql
      libprotobuf-c-dev protobuf-c-compiler
      clang libclang-rt-14-dev sqlite3 procps
      scdoc man-db dpkg-dev lintian systemd adduser git jq python3)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
