#!/usr/bin/env bash
# golden.sh [--update] — every output format of `tenet scan` on the fixture policy
# (fixture/report-fixture.yml over the file tree fixture/root), with the scan id and times pinned
# (TENET_TEST_SCAN_ID, TENET_TEST_SCAN_TIME), byte-equal to golden/<case>; all formats also written
# in one run (--format a:PATH,...) must equal the one-format runs. Then the outputs are read back by
# real parsers: CSV by python3's csv module (embedded commas, quotes and newlines), JUnit by
# xml.etree with its required structure, SARIF and JSON by python3's json with theirs.
# --update rewrites the golden files (review them as a diff).
set -euo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
here=$src/tests/report
gold=$here/golden
update=0
[[ ${1:-} == --update ]] && update=1
work=$(mktemp -d /tmp/tenet-report-XXXXXX)
trap 'rm -rf "$work"' EXIT
export TENET_TEST_SCAN_ID=42 TENET_TEST_SCAN_TIME=1700000000
cd "$here"
scan() { "$bin" scan --root fixture/root "$@" fixture/report-fixture.yml; }

# fixture/previous.json: an earlier report (scan id 1234) in which check 1004 passed and 1001 did
# not exist: a changed and a new check
fail=0
check_case() { # name, then the scan options
  local name=$1; shift
  scan "$@" > "$work/$name"
  if ((update)); then cp "$work/$name" "$gold/$name"; return; fi
  if ! cmp -s "$gold/$name" "$work/$name"; then
    echo "FAIL: $name differs from golden/$name:"; diff -u "$gold/$name" "$work/$name" | head -40; fail=1
  fi
}
for f in text json junit sarif csv html jsonl; do check_case "fixture.$f" -f "$f"; done
check_case baseline.text -f text --baseline fixture/previous.json
check_case baseline.json -f json --baseline fixture/previous.json
check_case baseline.csv -f csv --baseline fixture/previous.json
check_case baseline.html -f html --baseline fixture/previous.json
check_case only-changes.text -f text --baseline fixture/previous.json --only-changes
check_case only-changes.json -f json --baseline fixture/previous.json --only-changes
((update)) && { echo "golden files updated"; exit 0; }

# several formats in one run: stdout + files, each byte-equal to its own run; no temp file left
mkdir "$work/multi"
scan -f text,json:"$work/multi/r.json",junit:"$work/multi/r.xml",sarif:"$work/multi/r.sarif",csv:"$work/multi/r.csv",html:"$work/multi/r.html" > "$work/multi/r.text"
for f in text json xml:junit sarif csv html; do
  ext=${f%%:*}; name=${f##*:}
  cmp -s "$work/multi/r.$ext" "$gold/fixture.$name" || { echo "FAIL: multi-format $name differs"; fail=1; }
done
[[ $(ls "$work/multi" | wc -l) -eq 6 ]] || { echo "FAIL: temp files left: $(ls "$work/multi")"; fail=1; }
# --output FILE takes the format without a path
scan -f csv -o "$work/multi/o.csv" > "$work/multi/stdout"
cmp -s "$work/multi/o.csv" "$gold/fixture.csv" && [[ ! -s "$work/multi/stdout" ]] || { echo "FAIL: --output"; fail=1; }

python3 - "$work/multi" <<'PY' || fail=1
import csv, io, json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
def need(cond, msg):
    if not cond:
        print("FAIL: " + msg); sys.exit(1)
# CSV (RFC 4180): CRLF records, a header, one row per check, fields with commas/quotes/newlines intact
raw = open(d + "/r.csv", "rb").read()
need(raw.endswith(b"\r\n") and raw.count(b"\r\n") == 5, "CSV records do not end with CRLF")
rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
need(rows[0][:5] == ["policy_id", "check_id", "title", "result", "status"], "CSV header")
need(len(rows) == 5 and all(len(r) == len(rows[0]) for r in rows), "CSV row count or widths")
by = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
need(by["1002"]["remediation"] == 'Edit /etc/app/app.conf, set:\n  debug = off\nthen restart the app, e.g. "systemctl restart app".', "CSV remediation with newlines and quotes")
need(by["1002"]["title"] == 'Ensure debug is off, "really" off <now> & é ✓', "CSV title with a comma")
need(by["1002"]["compliance"] == "cis:1.2.1,1.2.2; pci_dss:2.2", "CSV compliance")
need([by[i]["result"] for i in ("1001", "1002", "1003", "1004")] == ["passed", "failed", "not applicable", "failed"], "CSV results")
need(by["1003"]["reason"].startswith("Could not resolve"), "CSV reason")
# JUnit: testsuites > testsuite (tests/failures/skipped agree) > testcase with failure/skipped
root = ET.parse(d + "/r.xml").getroot()
need(root.tag == "testsuites", "JUnit root")
suites = root.findall("testsuite")
need(len(suites) == 1 and suites[0].get("name") == "report_fixture", "JUnit testsuite")
cases = suites[0].findall("testcase")
need(len(cases) == int(suites[0].get("tests")) == int(root.get("tests")) == 4, "JUnit tests count")
fails = [c for c in cases if c.find("failure") is not None]
skips = [c for c in cases if c.find("skipped") is not None]
need(len(fails) == int(suites[0].get("failures")) == 2 and len(skips) == int(suites[0].get("skipped")) == 1, "JUnit counts")
need(all(c.get("classname") and c.get("name") for c in cases), "JUnit testcase names")
f = [c for c in cases if c.get("name").startswith("1002:")][0].find("failure")
need("Remediation: Edit /etc/app/app.conf, set:\n  debug = off" in f.text and 'Rationale: Debug output holds tokens, passwords and "secrets".' in f.text, "JUnit failure text")
need(f.get("message") == 'Ensure debug is off, "really" off <now> & é ✓', "JUnit failure message")
need(skips[0].find("skipped").get("message").startswith("not applicable: Could not resolve"), "JUnit skipped reason")
# SARIF 2.1.0: one run, the failed checks as results, each ruleId a rule, compliance in properties
s = json.load(open(d + "/r.sarif"))
need(s["version"] == "2.1.0" and len(s["runs"]) == 1, "SARIF version/runs")
run = s["runs"][0]
rules = run["tool"]["driver"]["rules"]
need(sorted(r["ruleId"] for r in run["results"]) == ["report_fixture/1002", "report_fixture/1004"], "SARIF results")
for r in run["results"]:
    need(rules[r["ruleIndex"]]["id"] == r["ruleId"] and r["level"] == "error" and r["message"]["text"], "SARIF rule index")
r2 = [r for r in run["results"] if r["ruleId"] == "report_fixture/1002"][0]
need(r2["properties"]["compliance"] == {"cis": "1.2.1,1.2.2", "pci_dss": "2.2"}, "SARIF compliance")
need(rules[r2["ruleIndex"]]["help"]["text"].startswith("Edit /etc/app/app.conf"), "SARIF remediation as help")
# JSON: counts agree with the checks; hashes and ids present
j = json.load(open(d + "/r.json"))
p = j["policies"][0]
need(j["tool"]["name"] == "tenet" and p["id"] == "report_fixture" and p["scan_id"] == 42, "JSON identity")
need(p["counts"] == {"passed": 1, "failed": 2, "not_applicable": 1, "waived": 0, "total": 4}, "JSON counts")
need(len(p["hash"]) == 64 and len(p["hash_file"]) == 64 and p["start_time"] == 1700000000, "JSON hashes/times")
need(p["checks"][1]["compliance"] == {"cis": "1.2.1,1.2.2", "pci_dss": "2.2"} and p["checks"][0]["evidence"] == {"file": "/etc/app/app.conf"}, "JSON compliance/evidence")
print("ok: csv, junit, sarif and json parsed back and checked")
PY
# the baseline diff: 1004 changed (passed -> failed), 1001 is new; keyed by policy and check id, so a
# baseline from another scan id compares the same
python3 - "$gold/baseline.json" "$gold/only-changes.json" <<'PY' || fail=1
import json, sys
b = json.load(open(sys.argv[1]))["policies"][0]
o = json.load(open(sys.argv[2]))["policies"][0]
ch = {c["id"]: (c["baseline"], c["result"]) for c in b["checks"] if c["changed"]}
if ch != {1001: (None, "passed"), 1004: ("passed", "failed")} or b["changes"] != 2:
    print("FAIL: baseline changes", ch); sys.exit(1)
if [c["id"] for c in o["checks"]] != [1001, 1004]:
    print("FAIL: --only-changes", [c["id"] for c in o["checks"]]); sys.exit(1)
print("ok: baseline diff")
PY
TENET_TEST_SCAN_ID=7 scan -f json --baseline fixture/previous.json > "$work/other-id.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["policies"][0]; b=json.load(open(sys.argv[2]))["policies"][0]; sys.exit(0 if a["scan_id"]!=b["scan_id"] and [c["changed"] for c in a["checks"]]==[c["changed"] for c in b["checks"]] else 1)' \
  "$gold/baseline.json" "$work/other-id.json" || { echo "FAIL: baseline keyed by scan id"; fail=1; }
((fail)) && exit 1
echo "ok: golden reports"
