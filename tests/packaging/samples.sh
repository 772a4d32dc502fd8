#!/usr/bin/env bash
# samples.sh BINDIR SAMPLES — the commented sample configurations in SAMPLES (packaging/etc, or
# /etc/tenet of an unpacked package) are accepted by `tenet-agent -t -c` and `tenet-manager -t -c`
# once the files they name exist: a PKI, certificates and a signing key made with the real `tenet`, laid out as the samples
# and docs/DAEMONS.md say (/etc/tenet/pki/...). The state and log directories are moved into the
# scratch root; nothing else of the samples is changed.
set -euo pipefail
bindir=$1 samples=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
etc=$root/etc/tenet
mkdir -p "$etc/bundles" "$root/var/lib/tenet/bundles" "$root/var/log/tenet"
for d in agent manager; do
  sed -e "s|/var/lib/tenet|$root/var/lib/tenet|g" -e "s|/var/log/tenet|$root/var/log/tenet|g" \
    "$samples/$d.conf" > "$etc/$d.conf"
done
T=$bindir/tenet
(cd "$etc" && "$T" pki init pki >/dev/null && "$T" pki issue-manager pki manager.example >/dev/null &&
  "$T" pki issue-agent pki agent >/dev/null && mv pki/agents/agent.crt pki/agents/agent.key pki/ &&
  "$T" keygen pki/release >/dev/null)
"$bindir/tenet-agent" -t -c "$etc/agent.conf"
"$bindir/tenet-manager" -t -c "$etc/manager.conf"
# and a broken one is refused with its line
echo "scan_interval = soon" >> "$etc/agent.conf"
if "$bindir/tenet-agent" -t -c "$etc/agent.conf" 2>"$root/err"; then echo "a bad agent.conf was accepted"; exit 1; fi
grep -q "agent.conf:[0-9]*: scan_interval" "$root/err" || { cat "$root/err"; exit 1; }
echo "samples: agent.conf and manager.conf accepted by -t; a bad value refused with its line"
