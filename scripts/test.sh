#!/usr/bin/env bash
# test.sh — the whole test suite: install what is missing, build, run every test through CTest,
# then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs="$(nproc)"

echo "== build (RelWithDebInfo)"
bash scripts/build.sh build
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${TENET_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== build (ASan + UBSan)"
  bash scripts/build.sh build-asan -DTENET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  echo "== tests under sanitizers"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs")
fi
