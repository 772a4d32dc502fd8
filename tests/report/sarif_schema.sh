#!/usr/bin/env bash
# sarif_schema.sh TOOLS_DIR — `tenet scan --format sarif` validates against the SARIF 2.1.0 JSON
# schema (validator installed into TOOLS_DIR by scripts/deps-sarif.sh, run by
# tests/diag/sarif_validate.js): the fixture scan, the same with every failed check waived
# (suppressions) through the golden file, and a clean host (no results). Exits 77 (skipped) with the
# reason when node or the validator cannot be had.
set -u
tools=${1:?usage: sarif_schema.sh TOOLS_DIR}
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed, so the SARIF schema validator (ajv) cannot run"
  exit 77
fi
mkdir -p "$tools"
if ! bash "$src/scripts/deps-sarif.sh" "$tools" > "$tools/deps-report.log" 2>&1; then
  echo "SKIP: scripts/deps-sarif.sh could not install the validator: $(tail -n 1 "$tools/deps-report.log")"
  exit 77
fi
work=$(mktemp -d /tmp/tenet-sarif-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$src/tests/report"
cp -r fixture/root "$work/clean"
printf 'name = app\ndebug = off\n' > "$work/clean/etc/app/app.conf"
: > "$work/clean/etc/app/banner"
"$bin" scan --root fixture/root -f sarif fixture/report-fixture.yml > "$work/fixture.sarif" || exit 1
"$bin" scan --root "$work/clean" -f sarif fixture/report-fixture.yml > "$work/clean.sarif" || exit 1
node "$src/tests/diag/sarif_validate.js" "$tools" "$tools/sarif-2.1.0.json" "$work/fixture.sarif" \
  "$work/clean.sarif" golden/fixture.sarif golden/waived.sarif || exit 1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]["results"]; sys.exit(0 if r == [] else 1)' \
  "$work/clean.sarif" || { echo "FAIL: a clean host has SARIF results"; exit 1; }
echo "ok: SARIF logs valid"
