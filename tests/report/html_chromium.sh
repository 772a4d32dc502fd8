#!/usr/bin/env bash
# html_chromium.sh — the HTML report rendered by a real browser: Debian's chromium, headless
# (installed by scripts/deps-chromium.sh; exit 77, skipped, with the reason when it cannot be had).
# The fixture scan with a baseline is rendered with --dump-dom and --screenshot
# ($TENET_BINARY_DIR/report-html.png); the DOM must hold the policy's score and counts, the failed
# and not applicable checks first with rationale, remediation, compliance and reason, the changes
# since the baseline, and the filter script's output (so the inline JS ran, also with a filter given
# in the URL). Chromium's net log must show no request initiated by the page — and the same probe
# must catch one on a control page that loads an image, so the probe is known to work.
set -uo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
out=${TENET_BINARY_DIR:?}
here=$src/tests/report
if ! bash "$src/scripts/deps-chromium.sh" > /tmp/tenet-deps-chromium.log 2>&1; then
  echo "SKIP: scripts/deps-chromium.sh could not install chromium: $(tail -n 1 /tmp/tenet-deps-chromium.log)"
  exit 77
fi
work=$(mktemp -d /tmp/tenet-html-XXXXXX)
trap 'rm -rf "$work"' EXIT
export TENET_TEST_SCAN_ID=42 TENET_TEST_SCAN_TIME=1700000000
cd "$here"
"$bin" scan --root fixture/root -f html --baseline fixture/previous.json fixture/report-fixture.yml > "$work/report.html" || exit 1
chrome() { # netlog, then chromium arguments
  local log=$1; shift
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$work/profile-XXXXXX")" --log-net-log="$log" "$@" 2>> "$work/chromium.err"
}
# page-initiated requests in a net log (browser-internal ones have no initiator origin)
page_requests() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d["events"]:
    p = e.get("params") or {}
    if names.get(e["type"]) == "URL_REQUEST_START_JOB" and p.get("initiator", "not an origin") != "not an origin":
        if not p.get("url", "").startswith("file:"):
            print(p.get("url"))
PY
}
fail=0
need() { if ! grep -qF -- "$2" "$1"; then echo "FAIL: $(basename "$1") lacks: $2"; fail=1; fi; }

chrome "$work/net.json" --dump-dom "file://$work/report.html" > "$work/dom.html" || { echo "FAIL: chromium --dump-dom"; cat "$work/chromium.err"; exit 1; }
need "$work/dom.html" '<span class="score">33.3%</span>'
need "$work/dom.html" '<span class="n passed">1 passed</span><span class="n failed">2 failed</span><span class="n na">1 not applicable</span>'
need "$work/dom.html" 'Ensure debug is off, "really" off &lt;now&gt; &amp; é ✓'
need "$work/dom.html" '<dt>Remediation</dt><dd>Edit /etc/app/app.conf, set:'
need "$work/dom.html" '<dt>Rationale</dt><dd>Debug output holds tokens, passwords and "secrets".</dd>'
need "$work/dom.html" '<dt>Compliance</dt><dd>cis:1.2.1,1.2.2; pci_dss:2.2</dd>'
need "$work/dom.html" "<dt>Reason</dt><dd>Could not resolve the real path of '/etc/app/app.conf/nested': Not a directory</dd>"
need "$work/dom.html" 'Changed since the baseline (2)'
need "$work/dom.html" '4 of 4 checks shown'                      # written by the inline script
# failed and not applicable checks come before the passed one
python3 - "$work/dom.html" <<'PY' || fail=1
import re, sys
rows = re.findall(r'<tr class="check" data-result="([^"]+)"', open(sys.argv[1]).read())
if rows != ["failed", "not applicable", "failed", "passed"]:
    print("FAIL: check order", rows); sys.exit(1)
PY
if grep -Eq '(src|href)="(https?:)?//|url\(' "$work/dom.html"; then echo "FAIL: the page references something outside itself"; fail=1; fi
reqs=$(page_requests "$work/net.json")
[[ -z "$reqs" ]] || { echo "FAIL: the page made network requests: $reqs"; fail=1; }

# the filter box, driven through the URL fragment the script reads: one row left
chrome "$work/net-f.json" --dump-dom "file://$work/report.html#filter=banner" > "$work/dom-f.html"
need "$work/dom-f.html" '1 of 4 checks shown'
[[ $(grep -o 'style="display: none;"' "$work/dom-f.html" | wc -l) -eq 3 ]] || { echo "FAIL: the filter hid $(grep -o 'style="display: none;"' "$work/dom-f.html" | wc -l) rows, want 3"; fail=1; }

# the probe catches a page that fetches
printf '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/probe.png"><p>control</p></body></html>\n' > "$work/control.html"
chrome "$work/net-c.json" --dump-dom "file://$work/control.html" > /dev/null
page_requests "$work/net-c.json" | grep -q 'http://127.0.0.1:9/probe.png' || { echo "FAIL: the network probe missed the control page's request"; fail=1; }

chrome "$work/net-s.json" --screenshot="$out/report-html.png" --window-size=1280,1500 --hide-scrollbars \
  "file://$work/report.html" > /dev/null
[[ -s "$out/report-html.png" ]] || { echo "FAIL: no screenshot"; fail=1; }
((fail)) && exit 1
echo "ok: chromium rendered the report ($(wc -c < "$work/report.html") bytes, no request; screenshot $out/report-html.png)"
