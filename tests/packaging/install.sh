#!/usr/bin/env bash
# install.sh PKGDIR — for CI on a throwaway machine, as root: install PKGDIR/tenet_*.deb with apt and
# follow docs/DAEMONS.md as a new user would: the programs on PATH, the _tenet user owning
# /var/lib/tenet and /var/log/tenet, conffiles, man pages, `systemd-analyze verify` on the installed
# units, a PKI and a signed default bundle in /etc/tenet, both daemons' -t, then each daemon run
# as its unit runs it (foreground, the manager as _tenet) until it is up, stopped with SIGTERM.
# Ends with `apt-get purge`, which must remove the user and the state.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install.sh: needs root"; exit 1; }
deb=$(ls "$(cd "$1" && pwd)"/tenet_*.deb)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$deb" >/dev/null
trap 'apt-get purge -y -qq tenet >/dev/null 2>&1 || true; rm -rf /etc/tenet/pki /etc/tenet/bundles' EXIT
fail=0
check() { if "$@"; then :; else echo "FAILED: $*"; fail=1; fi; }

tenet --version
check getent passwd _tenet
for d in /var/lib/tenet /var/log/tenet; do
  check test "$(stat -c '%U:%G %a' "$d")" = "_tenet:_tenet 750"
done
check test -n "$(dpkg-query -W -f='${Conffiles}' tenet | grep /etc/tenet/agent.conf)"
for p in tenet tenet-agent tenet-manager tenet.conf; do
  w=$(MANWIDTH=80 man --warnings "$p" 2>&1 >/dev/null || echo "man $p failed")
  [ -z "$w" ] || { echo "man $p: $w"; fail=1; }
done
v=$(systemd-analyze verify /lib/systemd/system/tenet-agent.service /lib/systemd/system/tenet-manager.service 2>&1) || fail=1
echo "systemd-analyze verify (installed units): ${v:-no findings}"
[ -z "$v" ] || fail=1

# docs/DAEMONS.md, "Set up the manager" and "Enroll an agent", on one host
cd /etc/tenet
tenet pki init pki >/dev/null
tenet pki issue-manager pki localhost >/dev/null
tenet pki issue-agent pki agent >/dev/null
mv pki/agents/agent.crt pki/agents/agent.key pki/
tenet keygen pki/release >/dev/null
# the manager runs as _tenet: it reads its certificate and key, never the CA's key
chgrp _tenet pki pki/manager.key && chmod 750 pki && chmod 640 pki/manager.key
tenet compile -q --strict --key pki/release.key -o bundles/debian12-baseline.tnb \
  /usr/share/tenet/policies/debian12-baseline.yml
sed -i 's/^manager *=.*/manager = localhost:1515/' agent.conf
check tenet-agent -t -c /etc/tenet/agent.conf
check runuser -u _tenet -- tenet-manager -t -c /etc/tenet/manager.conf

# run both as their units do; the agent receives nothing until the manager is up, then scans
runuser -u _tenet -- tenet-manager -f -c /etc/tenet/manager.conf 2>/var/log/tenet/manager.stderr &
mpid=$!
tenet-agent -f -c /etc/tenet/agent.conf 2>/var/log/tenet/agent.stderr &
apid=$!
up=0
for _ in $(seq 1 120); do
  if runuser -u _tenet -- tenet-manager -c /etc/tenet/manager.conf query agents 2>/dev/null | grep -q 'score'; then
    up=1
    break
  fi
  sleep 1
done
kill -TERM "$apid" "$mpid" 2>/dev/null || true
wait "$apid" "$mpid" 2>/dev/null || true
if [ $up = 1 ]; then
  echo "daemons: the agent enrolled and scanned; tenet-manager query agents:"
  runuser -u _tenet -- tenet-manager -c /etc/tenet/manager.conf query agents | sed 's/^/  /'
else
  echo "FAILED: the agent never showed up at the manager"; tail -n 20 /var/log/tenet/*.stderr; fail=1
fi
check test -s /var/log/tenet/alerts.json
check test "$(stat -c %U /var/lib/tenet/manager.db)" = _tenet

cd /
apt-get purge -y -qq tenet >/dev/null
trap - EXIT
rm -rf /etc/tenet/pki /etc/tenet/bundles
rmdir /etc/tenet 2>/dev/null || true
check test ! -e /var/lib/tenet
if getent passwd _tenet >/dev/null; then echo "FAILED: purge left the _tenet user"; fail=1; fi
[ $fail -eq 0 ] && echo "installed package: programs, user, directories, units, man pages and daemons work"
exit $fail
