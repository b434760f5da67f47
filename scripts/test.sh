#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds,
# starts the libvirt lab and the brokers, and runs every test. Extra
# arguments go to jest (e.g. `npm test -- test/libvirt`).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*" >&2; }

say "system packages (libvirt, QEMU, guest kernel)"
bash deploy/lab/install.sh

say "npm dependencies and the native addon"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
[[ -f build/Release/virtbus_libvirt.node && ! native/src -nt build/Release/virtbus_libvirt.node ]] || npm run build:native
npx tsc -p tsconfig.json --noEmit

say "libvirt lab (two nodes, guest assets)"
bash deploy/lab/lab.sh up
eval "$(bash deploy/lab/lab.sh env)"

say "jest"
exec npx jest "$@"
