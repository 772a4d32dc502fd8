#!/usr/bin/env bash
# demo.sh — the main job: install what is missing, build, compile the default policy into a signed
# bundle, inspect it, verify it, and scan this host with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build
T=build/tenet
mkdir -p build/demo
[ -f build/demo/demo.key ] || $T keygen build/demo/demo
$T compile --strict --key build/demo/demo.key --policy-version 1 -o build/demo/debian12-baseline.tnb \
  policies/debian12-baseline.yml
$T verify --pubkey build/demo/demo.pub build/demo/debian12-baseline.tnb
$T inspect --pubkey build/demo/demo.pub build/demo/debian12-baseline.tnb > build/demo/inspect.txt
head -n 40 build/demo/inspect.txt
echo "... (the whole listing: build/demo/inspect.txt)"
$T scan --format text --pubkey build/demo/demo.pub build/demo/debian12-baseline.tnb
