#!/usr/bin/env bash
# sarif_schema.sh TOOLS_DIR — `tenet compile --diagnostics-format=sarif` output validates against
# the SARIF 2.1.0 JSON schema (validator installed into TOOLS_DIR by scripts/deps-sarif.sh), for:
# every golden diagnostics file in one log (errors, warnings, notes, -Wall), a path that needs
# percent-encoding, and a clean policy (no results). Exits 77 (skipped) with the reason when node
# or the validator cannot be had; 1 when a log is invalid or has the wrong number of results.
set -u
tools=${1:?usage: sarif_schema.sh TOOLS_DIR}
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed, so the SARIF schema validator (ajv) cannot run"
  exit 77
fi
mkdir -p "$tools"
if ! bash "$src/scripts/deps-sarif.sh" "$tools" >"$tools/deps.log" 2>&1; then
  echo "SKIP: scripts/deps-sarif.sh could not install the validator: $(tail -n 1 "$tools/deps.log")"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/tests/golden/diag/render/caret.yml" "$tmp/with space é.yml"
"$bin" compile -n -q --diagnostics-format=sarif -Wall "$src"/tests/golden/diag/*.yml \
  "$src"/tests/golden/diag/render/*.yml "$tmp/with space é.yml" >"$tmp/golden.sarif" 2>/dev/null
"$bin" compile -n -q --diagnostics-format=json -Wall "$src"/tests/golden/diag/*.yml \
  "$src"/tests/golden/diag/render/*.yml "$tmp/with space é.yml" >"$tmp/golden.json" 2>/dev/null
"$bin" compile -n -q --diagnostics-format=sarif -w "$src/tests/golden/diag/flags_w.yml" >"$tmp/clean.sarif" 2>/dev/null
node "$src/tests/diag/sarif_validate.js" "$tools" "$tools/sarif-2.1.0.json" "$tmp/golden.sarif" "$tmp/clean.sarif" || exit 1
# the SARIF log carries one result per diagnostic (as many as the JSON array), the rules are the
# rows of warnings.def, and the encoded path is there
node -e '
const fs = require("fs");
const [sarifPath, jsonPath, cleanPath, def] = process.argv.slice(1);
const s = JSON.parse(fs.readFileSync(sarifPath)), j = JSON.parse(fs.readFileSync(jsonPath));
const c = JSON.parse(fs.readFileSync(cleanPath));
const rows = (fs.readFileSync(def, "utf8").match(/^DIAG_[WE]\([A-Z_0-9]+, "[^"]+"/gm) || []).length;
const fail = (m) => { console.log("FAIL: " + m); process.exit(1); };
if (s.runs.length !== 1) fail("runs: " + s.runs.length);
if (s.runs[0].results.length !== j.length || j.length < 50) fail(`results ${s.runs[0].results.length} vs json ${j.length}`);
if (s.runs[0].tool.driver.rules.length !== rows || rows < 20) fail(`rules ${s.runs[0].tool.driver.rules.length} vs warnings.def ${rows}`);
const ids = new Set(s.runs[0].tool.driver.rules.map((r) => r.id));
for (const r of s.runs[0].results) if (!ids.has(r.ruleId)) fail("ruleId not a rule: " + r.ruleId);
if (!s.runs[0].results.some((r) => r.relatedLocations)) fail("no note became a relatedLocation");
if (!s.runs[0].results.some((r) => /with%20space%20%C3%A9\.yml$/.test(r.locations[0].physicalLocation.artifactLocation.uri)))
  fail("the path with a space is not percent-encoded");
if (c.runs[0].results.length !== 0) fail("clean policy has results");
console.log(`ok: ${j.length} results, ${rows} rules, notes and encoded paths`);
' "$tmp/golden.sarif" "$tmp/golden.json" "$tmp/clean.sarif" "$src/compiler/warnings.def"
