#!/usr/bin/env bash
# ci_pipeline.sh — runs the pipeline block of docs/CI.md exactly as written, so the document stays
# true: from a copy of the repository's policies, with a throwaway release key, version 7, and a
# "previous release" (version 6) built from the same policy with one regex changed (no $ anchor), one title
# changed and its last check missing. Then checks what the pipeline printed and produced.
set -euo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
work=$(mktemp -d /tmp/tenet-ci-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp -r "$src/policies" policies

# the pipeline block of docs/CI.md
awk '/<!-- ci-pipeline: begin -->/ {on = 1; next} /<!-- ci-pipeline: end -->/ {on = 0} on && !/^```/' \
  "$src/docs/CI.md" > pipeline.sh
grep -q 'tenet\|TENET' pipeline.sh || { echo "no pipeline block found in docs/CI.md"; exit 1; }

# the previous release
"$bin" keygen release > /dev/null
mkdir previous old
awk '/^  - id: 90105$/ {skip = 1} skip && /^  - id: / && !/90105/ {skip = 0} !skip' \
  policies/debian12-baseline.yml |
  sed -e 's/r:^permitrootlogin\\s+no\$/r:^permitrootlogin\\s+no/' \
      -e 's/title: "SSH: password authentication is disabled"/title: "SSH: no password authentication"/' \
  > old/debian12-baseline.yml
cmp -s old/debian12-baseline.yml policies/debian12-baseline.yml && { echo "previous release not different"; exit 1; }
"$bin" compile -q --key release.key --policy-version 6 -o previous/debian12-baseline.tnb old/debian12-baseline.yml

TENET="$bin" RELEASE_KEY=release.key RELEASE_PUB=release.pub VERSION=7 PREVIOUS=previous \
  bash pipeline.sh > out.txt 2>&1 || { cat out.txt; echo "the pipeline of docs/CI.md failed"; exit 1; }
cat out.txt

fail=0
expect() { grep -qF -- "$1" "$2" || { echo "missing in $2: $1"; fail=1; }; }
expect "checks       92 -> 93: 1 added, 0 removed, 1 logic changed, 1 metadata only, 90 unchanged" out.txt
expect "+ 90105" out.txt
expect "~ 90000  SSH: root login is disabled" out.txt
expect "* 90001  SSH: password authentication is disabled  (was: SSH: no password authentication)" out.txt
expect "policy       changed: policy version, source YAML" out.txt
expect "rollout: rolling this out makes every agent re-send all 93 checks of policy tenet_debian12_baseline" out.txt
expect '"rollout":{"resend_all":true,"checks_resent":93,' dist/debian12-baseline.diff.json
expect '"logic_changed":[{"id":90000,' dist/debian12-baseline.diff.json
expect "dist/debian12-baseline.tnb: OK: policy tenet_debian12_baseline version 7," out.txt
exit $fail
