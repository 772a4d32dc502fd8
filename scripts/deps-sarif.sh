#!/usr/bin/env bash
# deps-sarif.sh DIR — install a SARIF 2.1.0 validator into DIR (a cache under the build tree), for
# the diag/sarif_schema test: ajv-cli (JSON Schema validator) and ajv-formats from npm, and the
# SARIF 2.1.0 schema JSON that the npm package @microsoft/jest-sarif ships
# (lib/schemas/sarif-2.1.0-rtm.5.json, JSON Schema draft-04), migrated to draft-07 with
# `ajv migrate` (ajv 8 reads draft-07). Idempotent: does nothing when DIR already has both.
# Exit status 0 when DIR/node_modules/.bin/ajv and DIR/sarif-2.1.0.json are ready, else 1 with
# the reason on stderr.
set -euo pipefail
dir=${1:?usage: deps-sarif.sh DIR}
schema="$dir/sarif-2.1.0.json"
ajv="$dir/node_modules/.bin/ajv"
if [[ -x "$ajv" && -s "$schema" && -d "$dir/node_modules/ajv-formats" ]]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  # a fresh Debian machine: Debian's own npm (and nodejs), waiting for a dpkg lock held by another test
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends npm >&2 ||
    true
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "deps-sarif.sh: npm is not installed (apt-get install npm), cannot fetch the SARIF validator" >&2
  exit 1
fi
mkdir -p "$dir"
if ! npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
    ajv-cli@5.0.0 ajv-formats@2.1.1 >&2; then
  echo "deps-sarif.sh: npm install ajv-cli failed (no registry?)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null); then
  echo "deps-sarif.sh: npm pack @microsoft/jest-sarif failed (no registry?)" >&2
  exit 1
fi
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
"$ajv" migrate --spec=draft7 -s "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" -o "$tmp/draft7.json" >&2
mv "$tmp/draft7.json" "$schema"
[[ -x "$ajv" && -s "$schema" ]]
