#!/usr/bin/env bash
# package.sh — build the Debian package from the tree: install what is missing, build into build/
# (prefix /usr), then CPack's DEB generator (cmake/TenetPackage.cmake) writes
# build/package/tenet_VERSION-1_ARCH.deb; the package is checked as the package/deb test does
# (Depends, conffiles, programs run from an unpacked copy, lintian) and its path printed.
#   apt install ./build/package/tenet_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build -DCMAKE_INSTALL_PREFIX=/usr
bash tests/packaging/deb.sh "$PWD/build" "$PWD"
