#!/usr/bin/env bash
# waiver_cli.sh — waivers through the real `tenet` binary, with real keys and files: scan --waivers
# leaves jsonl byte-identical (events, summary, results hash) once the random scan id and the clock
# are masked; unknown checks/policies and expired waivers are warned about; host patterns; sign,
# verify, tampered, untrusted and unsigned files with --pubkey (refused, exit 1, no scan output),
# and --allow-unsigned; strict parse errors are file:line:col.
set -euo pipefail
src=${TENET_SOURCE_DIR:?}
bin=${TENET_BIN:?}
work=$(mktemp -d /tmp/tenet-waiver-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
pol="$src/tests/waiver/fixture.yml"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # expect NAME WANTED_RC -- command...: runs it, stdout > NAME.out, stderr > NAME.err
  local name=$1 want=$2
  shift 3
  set +e
  "$@" > "$name.out" 2> "$name.err"
  local rc=$?
  set -e
  [ "$rc" -eq "$want" ] || { fail "$name: exit $rc, expected $want"; sed 's/^/  | /' "$name.err"; }
}
has() { grep -qF -- "$2" "$1" || { fail "$1 lacks: $2"; sed 's/^/  | /' "$1"; }; }
hasnt() { if grep -qF -- "$2" "$1"; then fail "$1 has: $2"; fi; }
mask() { sed -E 's/"(id|scan_id)":[0-9]+,"(policy|name)"/"\1":N,"\2"/; s/"(start_time|end_time)":[0-9]+/"\1":T/g' "$1"; }

host=$(hostname)
cat > w.yml <<YML
# waivers for the fixture policy
waivers:
  - policy: tenet_waiver_fixture
    checks: [7002, 7999]
    justification: "the user is created by the deploy job, later"
    owner: "ops@example.com"
    expires: 2999-12-31
  - policy: tenet_waiver_fixture
    checks: [7003]
    justification: "was true once"
    owner: "ops@example.com"
    expires: 2001-02-03
  - policy: tenet_no_such_policy
    checks: [1]
    justification: "x"
    owner: "y"
    expires: 2999-01-01
  - policy: tenet_waiver_fixture
    checks: [7001]
    justification: "only elsewhere"
    owner: "z"
    expires: 2999-01-01
    hosts: "tenet-no-such-host-*"
  - policy: tenet_waiver_fixture
    checks: [7004]
    justification: "this host"
    owner: "z"
    expires: 2999-01-01
    hosts: "${host:0:1}*"
YML

# 1. jsonl is byte-identical with and without waivers (scan id and clock masked)
expect plain 0 -- "$bin" scan --format jsonl --jobs 1 "$pol"
expect waived 0 -- "$bin" scan --format jsonl --jobs 1 --waivers w.yml "$pol"
[ "$(wc -l < plain.out)" -eq 5 ] || fail "plain scan: expected 4 events and a summary"
cmp -s <(mask plain.out) <(mask waived.out) || { fail "jsonl differs with waivers"; diff <(mask plain.out) <(mask waived.out) || true; }
has waived.out '"id":7002,'
grep -q '"id":7002,.*"result":"failed"' waived.out || fail "the waived check 7002 is no longer failed in jsonl"
# same results hash in the summary
[ "$(grep -o '"hash":"[0-9a-f]*"' plain.out)" = "$(grep -o '"hash":"[0-9a-f]*"' waived.out)" ] || fail "results hash changed"

# 2. warnings: unknown check, unknown policy, expired; nothing for the host pattern that does not match
has waived.err "w.yml:4:20: warning: policy 'tenet_waiver_fixture' has no check 7999: this waiver entry applies to nothing"
has waived.err "w.yml:13:5: warning: waiver for policy 'tenet_no_such_policy', which is not among the policies scanned"
has waived.err "w.yml:8:5: warning: waiver for policy 'tenet_waiver_fixture' (owner ops@example.com) expired on 2001-02-03: its checks count again"
[ "$(grep -c warning: waived.err)" -eq 3 ] || fail "expected exactly 3 warnings"
# host patterns: the waiver for tenet-no-such-host-* does not count here, the one for this host does
has waived.err "tenet scan: waivers for host $host on $(date +%Y-%m-%d): 3 active, 1 expired (of 5)"
# the text report is written from the same structs; waivers change nothing in the scan itself
expect text 0 -- "$bin" scan --format text --waivers w.yml "$pol"
has text.out "2 passed, 1 failed, 1 not applicable"

# 3. strict parsing: file:line:col errors, exit 1, no scan
printf 'waivers:\n  - policy: p\n    checks: [1]\n    justification: j\n    owner: o\n    expiry: 2030-01-01\n' > bad.yml
expect bad 1 -- "$bin" scan --format jsonl --waivers bad.yml "$pol"
has bad.err "bad.yml:6:5: error: unknown key 'expiry' in a waiver (did you mean 'expires'?)"
has bad.err "bad.yml:2:5: error: this waiver has no 'expires'"
has bad.err "tenet scan: bad.yml: waiver file has errors"
[ ! -s bad.out ] || fail "a scan ran despite a bad waiver file"
expect missing 1 -- "$bin" scan --format jsonl --waivers nope.yml "$pol"
has missing.err "nope.yml: cannot read: No such file or directory"

# 4. signatures
"$bin" keygen release > /dev/null
"$bin" keygen stranger > /dev/null
# with --pubkey the policy itself must be a bundle signed by that key (a YAML policy carries no
# signature): the fixture compiled and signed by each key
"$bin" compile -q --key release.key -o fixture.tnb "$pol" > /dev/null || fail "compiling the fixture (release)"
"$bin" compile -q --key stranger.key -o fixture-stranger.tnb "$pol" > /dev/null || fail "compiling the fixture (stranger)"
bpol=fixture.tnb
expect bundle_plain 0 -- "$bin" scan --format jsonl --pubkey release.pub "$bpol"
expect sign 0 -- "$bin" sign --key release.key w.yml
has sign.out "wrote w.yml.sig (5 waivers, key "
expect signbad 1 -- "$bin" sign --key release.key bad.yml
has signbad.err "tenet sign: bad.yml: not signed: the waiver file has errors"
[ ! -e bad.yml.sig ] || fail "a waiver file with errors was signed"
expect verify 0 -- "$bin" verify --pubkey release.pub w.yml
has verify.out "w.yml: OK: waiver file, signed by key "
expect verify_stranger 1 -- "$bin" verify --pubkey stranger.pub w.yml
has verify_stranger.err "w.yml: FAILED: wrong signer: signed by key "
expect signed_scan 0 -- "$bin" scan --format jsonl --pubkey release.pub --waivers w.yml "$bpol"
cmp -s <(mask bundle_plain.out) <(mask signed_scan.out) || fail "jsonl differs with signed waivers"
expect stranger_scan 1 -- "$bin" scan --format jsonl --pubkey stranger.pub --waivers w.yml fixture-stranger.tnb
has stranger_scan.err "tenet scan: w.yml: refused: wrong signer: signed by key"

# tampered: the expiry moved after signing
sed 's/2001-02-03/2999-02-03/' w.yml > t.yml
cp w.yml.sig t.yml.sig
expect verify_tampered 1 -- "$bin" verify --pubkey release.pub t.yml
has verify_tampered.err "t.yml: FAILED: tampered: waiver signature does not verify with key "
expect tampered 1 -- "$bin" scan --format jsonl --pubkey release.pub --waivers t.yml "$bpol"
has tampered.err "tenet scan: t.yml: refused: tampered: waiver signature does not verify with key "
[ ! -s tampered.out ] || fail "a scan ran with a tampered waiver file"
expect tampered_allowed 1 -- "$bin" scan --format jsonl --pubkey release.pub --allow-unsigned --waivers t.yml "$bpol"
has tampered_allowed.err "refused: tampered:"

# unsigned with --pubkey: refused unless --allow-unsigned
cp w.yml u.yml
expect unsigned 1 -- "$bin" scan --format jsonl --pubkey release.pub --waivers u.yml "$bpol"
has unsigned.err "tenet scan: u.yml: refused: wrong signer: waiver file is not signed (no u.yml.sig) (sign it with \`tenet sign --key KEY FILE\`, or give --allow-unsigned)"
[ ! -s unsigned.out ] || fail "a scan ran with an unsigned waiver file"
expect unsigned_allowed 0 -- "$bin" scan --format jsonl --pubkey release.pub --allow-unsigned --waivers u.yml "$bpol"
expect unsigned_nokey 0 -- "$bin" scan --format jsonl --waivers u.yml "$pol"
expect verify_unsigned 1 -- "$bin" verify --pubkey release.pub u.yml
has verify_unsigned.err "u.yml: FAILED: wrong signer: waiver file is not signed"

# several files: one bad signature refuses the run
expect two 1 -- "$bin" scan --format jsonl --pubkey release.pub --waivers w.yml --waivers t.yml "$bpol"
has two.err "t.yml: refused: tampered"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "waiver_cli: all passed"
