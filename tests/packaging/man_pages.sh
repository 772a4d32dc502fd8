#!/usr/bin/env bash
# man_pages.sh BUILD SOURCE — the generated manual pages render without a warning
# (`man --warnings`), and they and the sample configurations name every option the programs have:
# each option of `tenet CMD --help` in tenet(1), each row of `--help-config` in tenet.conf(5) and
# in the daemon's sample configuration.
set -euo pipefail
build=$1 src=$2
fail=0
pages=("$build"/man/man*/*.[0-9])
[ -e "${pages[0]}" ] || { echo "no man pages under $build/man"; exit 1; }
for p in "${pages[@]}"; do
  w=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null || echo "man failed on $p")
  if [ -n "$w" ]; then echo "$p: $w"; fail=1; else echo "ok: $(basename "$p") renders without warnings"; fi
done

for cmd in compile inspect keygen verify scan test diff sign bench; do
  for opt in $("$build/tenet" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    [ "$opt" = --help ] && continue
    grep -q -- "\*$opt\*" "$src/docs/man/tenet.1.scd" || { echo "tenet.1: 'tenet $cmd $opt' is not documented"; fail=1; }
  done
done
for d in agent manager; do
  for opt in $("$build/tenet-$d" --help-config | awk 'NR > 1 {print $1}'); do
    grep -q -- "\*$opt\*" "$src/docs/man/tenet.conf.5.scd" || { echo "tenet.conf.5: $d option '$opt' is not documented"; fail=1; }
    grep -qE -- "(^|#)$opt( |$)" "$src/packaging/etc/$d.conf" || { echo "$d.conf sample: option '$opt' is missing"; fail=1; }
  done
done
[ $fail -eq 0 ] && echo "man pages and samples: every option documented"
exit $fail
