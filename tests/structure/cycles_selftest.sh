#!/usr/bin/env bash
# cycles_selftest.sh SOURCE_DIR — scripts/check-include-cycles.sh finds what it must: on a tiny
# tree with one call circle (a.c <-> b.c) and one include circle (x.h <-> y.h) it fails and names
# both; once they are broken it passes.
set -euo pipefail
script="$1/scripts/check-include-cycles.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/src/compiler" "$t/src/vm" "$t/build/compiler/CMakeFiles/t.dir" "$t/build/vm/CMakeFiles/v.dir"
printf '#ifndef X_H\n#define X_H\n#include "y.h"\n#endif\n' >"$t/src/vm/x.h"
printf '#ifndef Y_H\n#define Y_H\n#include "x.h"\n#endif\n' >"$t/src/vm/y.h"
printf '#include "x.h"\nint v(void) { return 1; }\n' >"$t/src/vm/v.c"
printf 'int b(void);\nint v(void);\nint a(void) { return b() + v(); }\n' >"$t/src/compiler/a.c"
printf 'int a(void);\nint b(void) { return a() + 1; }\n' >"$t/src/compiler/b.c"
build() {
  for f in compiler/a.c compiler/b.c; do cc -c -o "$t/build/compiler/CMakeFiles/t.dir/${f#compiler/}.o" "$t/src/$f"; done
  cc -c -I"$t/src/vm" -o "$t/build/vm/CMakeFiles/v.dir/v.c.o" "$t/src/vm/v.c"
}
fail() { echo "selftest: $*"; echo "--- output:"; cat "$t/out"; exit 1; }

build
if bash "$script" "$t/src" "$t/build" >"$t/out" 2>&1; then fail "circles not detected"; fi
grep -qx "FAIL: calls circle: compiler/a.c compiler/b.c" "$t/out" || fail "call circle not named"
grep -q "compiler/b.c -> compiler/a.c  (a)" "$t/out" || fail "call edge symbol not named"
grep -qx "FAIL: include circle: vm/x.h vm/y.h" "$t/out" || fail "include circle not named"
grep -q "v.c" "$t/out" && fail "a file outside any circle was listed"

printf 'int b(void) { return 1; }\n' >"$t/src/compiler/b.c"
printf '/* no include */\n' >"$t/src/vm/y.h"
build
bash "$script" "$t/src" "$t/build" >"$t/out" 2>&1 || fail "circles reported after they were broken"
grep -q "no circle" "$t/out" || fail "no summary line"
echo "selftest passed"
