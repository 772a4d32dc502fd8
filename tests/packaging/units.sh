#!/usr/bin/env bash
# units.sh BUILD — the systemd units as installed (build/systemd/*.service) pass `systemd-analyze
# verify` (with their ExecStart= pointed at the build tree's programs and MANPATH at the generated
# man pages, which it checks too) and carry the sandboxing each daemon needs. Exit 77 (skipped)
# when systemd-analyze is not installed.
set -euo pipefail
build=$1
command -v systemd-analyze >/dev/null || { echo "SKIPPED: systemd-analyze is not installed (Debian package systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for u in tenet-agent tenet-manager; do
  f=$build/systemd/$u.service
  bindir=$(sed -n 's|^ExecStart=\(.*\)/tenet-[a-z]* .*|\1|p' "$f")
  sed "s|$bindir/|$build/|g" "$f" > "$tmp/$u.service"
done
need() { # need UNIT LINE...: each line must be in the unit
  local u=$1; shift
  for l in "$@"; do grep -qxF -- "$l" "$build/systemd/$u.service" || { echo "$u.service: missing '$l'"; fail=1; }; done
}
common=(Type=simple "ExecReload=/bin/kill -HUP \$MAINPID" NoNewPrivileges=yes ProtectSystem=strict)
need tenet-manager "${common[@]}" User=_tenet StateDirectory=tenet LogsDirectory=tenet ProtectHome=yes PrivateTmp=yes
need tenet-agent "${common[@]}" ProtectHome=read-only
grep -q '^ExecStart=.* -f -c ' "$build/systemd/tenet-agent.service" || { echo "agent: not started with -f"; fail=1; }
grep -q '^ExecStart=.* -f -c ' "$build/systemd/tenet-manager.service" || { echo "manager: not started with -f"; fail=1; }
grep -q '^ReadWritePaths=.*/var/lib/tenet' "$build/systemd/tenet-agent.service" || { echo "agent: /var/lib/tenet not writable"; fail=1; }
out=$(MANPATH=$build/man systemd-analyze verify "$tmp"/tenet-agent.service "$tmp"/tenet-manager.service 2>&1) || fail=1
[ -n "$out" ] && { echo "systemd-analyze verify:"; echo "$out"; fail=1; }
[ $fail -eq 0 ] && echo "systemd-analyze verify: tenet-agent.service tenet-manager.service: no findings"
exit $fail
