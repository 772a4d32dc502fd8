#!/usr/bin/env bash
# deb.sh BUILD SOURCE — the Debian package: CPack builds BUILD/package/tenet_*.deb from the install
# rules; its control data must carry the shared-library Depends found by dpkg-shlibdeps, adduser
# and the /etc/tenet conffiles; unpacked into a scratch root (dpkg -x), its programs run
# (`tenet --version`, the sample configurations accepted by `tenet-agent -t` and
# `tenet-manager -t`), its man pages render without warnings; `lintian` reports no error
# (warnings are printed). Exit 77 (skipped) without dpkg-deb, dpkg-shlibdeps or cpack.
set -euo pipefail
build=$1 src=$2
for t in dpkg-deb dpkg-shlibdeps cpack; do
  command -v $t >/dev/null || { echo "SKIPPED: $t is not installed"; exit 77; }
done
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$build/CMakeCache.txt" ||
  { echo "SKIPPED: $build is configured for another prefix than /usr"; exit 77; }
out=$build/package
rm -rf "$out"
mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { tail -30 "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/tenet_*.deb)
echo "built $deb ($(stat -c %s "$deb") bytes)"
fail=0
ctl=$out/control
dpkg-deb -e "$deb" "$ctl"
depends=$(sed -n 's/^Depends: //p' "$ctl/control")
echo "Depends: $depends"
for lib in libc6 libyaml-0-2 libpcre2-8-0 libxxhash0 libssl3 libsqlite3-0 libprotobuf-c1 adduser; do
  [[ ", $depends," == *", $lib"[\ ,]* ]] || { echo "Depends lacks $lib"; fail=1; }
done
for f in /etc/tenet/agent.conf /etc/tenet/manager.conf; do
  grep -qxF "$f" "$ctl/conffiles" || { echo "conffiles lacks $f"; fail=1; }
done
[ -x "$ctl/postinst" ] && grep -q "adduser --system" "$ctl/postinst" || { echo "postinst does not create the user"; fail=1; }

root=$out/root
dpkg -x "$deb" "$root"
for f in usr/bin/tenet usr/bin/tenet-agent usr/bin/tenet-manager lib/systemd/system/tenet-agent.service \
  lib/systemd/system/tenet-manager.service usr/share/tenet/policies/debian12-baseline.yml \
  usr/share/man/man1/tenet.1.gz usr/share/man/man5/tenet.conf.5.gz usr/share/man/man8/tenet-agent.8.gz \
  usr/share/man/man8/tenet-manager.8.gz usr/share/doc/tenet/copyright usr/share/doc/tenet/changelog.Debian.gz \
  etc/tenet/agent.conf etc/tenet/manager.conf; do
  [ -e "$root/$f" ] || { echo "package lacks /$f"; fail=1; }
done
for d in var/lib/tenet var/log/tenet etc/tenet/bundles; do [ -d "$root/$d" ] || { echo "package lacks /$d/"; fail=1; }; done
"$root/usr/bin/tenet" --version
"$root/usr/bin/tenet" --version | grep -q "ISA version" || fail=1
bash "$src/tests/packaging/samples.sh" "$root/usr/bin" "$root/etc/tenet" || fail=1
"$root/usr/bin/tenet" compile -q --strict -o "$out/baseline.tnb" "$root/usr/share/tenet/policies/debian12-baseline.yml" || fail=1
for p in "$root"/usr/share/man/man*/*.gz; do
  w=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null || echo "man failed")
  [ -z "$w" ] || { echo "$p: $w"; fail=1; }
done

if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$deb" > "$out/lintian.txt" 2>&1 || true
  echo "lintian:"
  sed 's/^/  /' "$out/lintian.txt"
  if grep -q '^E: ' "$out/lintian.txt"; then echo "lintian reports errors"; fail=1; fi
else
  echo "lintian is not installed: not run"
fi
[ $fail -eq 0 ] && echo "package: $deb is complete and its programs run"
exit $fail
