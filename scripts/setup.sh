#!/usr/bin/env bash
# Shared set-up of `npm start` and `npm test`: the libvirt library and
# headers from Debian, npm dependencies, the native addon and the compiled
# TypeScript — each only when missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*" >&2; }

missing=()
for p in libvirt-dev libvirt-clients pkg-config g++ make python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confnew "${missing[@]}"
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (builds the native addon)"
  npm ci --no-audit --no-fund
fi
if [[ ! -f build/Release/virtbus_libvirt.node ]] || [[ -n $(find native binding.gyp -newer build/Release/virtbus_libvirt.node 2>/dev/null | head -1) ]]; then
  say "building the native addon"
  npm run build:native --silent
fi
if [[ ! -f dist/agent/main.js ]] || [[ -n $(find src agent bench package.json tsconfig.build.json -newer dist/agent/main.js 2>/dev/null | head -1) ]]; then
  say "compiling TypeScript"
  npm run build:ts --silent
fi
