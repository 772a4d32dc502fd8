#!/usr/bin/env bash
# pg-cluster.sh start DIR | stop DIR — a throwaway PostgreSQL cluster for tests and benchmarks.
#
# start: initdb + pg_ctl in a fresh /tmp/tenet-pg.XXXXXX (data + unix socket only, no TCP),
#   superuser `tenet`, trust authentication, run as an unprivileged user (`nobody` through setpriv
#   when started as root: initdb refuses root). Writes DIR/state with one line:
#     uri=postgresql:///postgres?host=/tmp/tenet-pg.XXXXXX&port=54329&user=tenet
#   or, when the PostgreSQL server is not installed:
#     skip=PostgreSQL server not installed (apt-get install postgresql)
#   Exit 0 in both cases; exit 1 (state: skip=<why>) when it is installed but does not start.
# stop: stops the cluster DIR names and deletes its directory (nothing to stop: exit 0).
set -uo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$dir" ] || { [ "$cmd" != start ] && [ "$cmd" != stop ]; }; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir" || exit 1
dir="$(cd "$dir" && pwd)"
state="$dir/state"
port="${TENET_PG_PORT:-54329}"

# The newest installed server's binaries (Debian: /usr/lib/postgresql/N/bin; TENET_PG_BINDIR
# names another directory).
bindir=""
if [ -n "${TENET_PG_BINDIR:-}" ]; then
  [ -x "$TENET_PG_BINDIR/initdb" ] && [ -x "$TENET_PG_BINDIR/pg_ctl" ] && bindir="$TENET_PG_BINDIR"
else
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir="$d"
  done
  if [ -z "$bindir" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    bindir="$(dirname "$(command -v initdb)")"
  fi
fi

# Run a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  [ -f "$dir/cluster" ] || return 0
  local c
  c="$(cat "$dir/cluster")"
  case "$c" in /tmp/tenet-pg.*) ;; *) echo "pg-cluster: $dir/cluster names '$c', not a cluster of ours" >&2; return 1 ;; esac
  if [ -n "$bindir" ] && [ -f "$c/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$c/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$c"
  rm -f "$dir/cluster"
}

if [ "$cmd" = stop ]; then
  stop_cluster
  rm -f "$state"
  exit 0
fi

stop_cluster # a cluster left by an interrupted run
rm -f "$state"
if [ -z "$bindir" ]; then
  echo "skip=PostgreSQL server not installed (apt-get install postgresql)" >"$state"
  echo "pg-cluster: PostgreSQL server not installed (apt-get install postgresql): PostgreSQL tests are skipped"
  exit 0
fi

fail() {
  echo "skip=PostgreSQL did not start: $1 (see $dir/log)" >"$state"
  echo "pg-cluster: $1 (see $dir/log)" >&2
  [ -f "$dir/log" ] && tail -20 "$dir/log" >&2
  exit 1
}

c="$(mktemp -d /tmp/tenet-pg.XXXXXX)" || fail "cannot create a directory in /tmp"
echo "$c" >"$dir/cluster"
chmod 755 "$c"
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$c" || fail "cannot give $c to nobody"
fi
: >"$dir/log"
as_owner "$bindir/initdb" -D "$c/data" -U tenet --auth=trust -E SQL_ASCII --no-locale --no-sync \
  >>"$dir/log" 2>&1 </dev/null || fail "initdb failed"
as_owner "$bindir/pg_ctl" -D "$c/data" -w -t 60 -l "$c/server.log" \
  -o "-c listen_addresses='' -k $c -p $port -c max_connections=200" start >>"$dir/log" 2>&1 </dev/null ||
  { cat "$c/server.log" >>"$dir/log" 2>/dev/null; fail "pg_ctl start failed"; }
echo "uri=postgresql:///postgres?host=$c&port=$port&user=tenet" >"$state"
echo "pg-cluster: PostgreSQL ($bindir) running in $c, socket port $port"
