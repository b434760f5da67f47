#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds,
# starts the brokers and the libvirt lab, and runs every test. Extra
# arguments go to jest (e.g. `npm test -- test/libvirt`).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*" >&2; }

say "system packages, npm dependencies, native addon, TypeScript"
bash deploy/lab/install.sh
bash scripts/setup.sh
bash scripts/promtool.sh
npx tsc -p tsconfig.json --noEmit
say "lint (typescript-eslint) and format (prettier --check)"
npm run lint --silent

say "brokers"
bash scripts/services.sh

say "libvirt lab (two nodes, guest assets)"
bash deploy/lab/lab.sh up
eval "$(bash deploy/lab/lab.sh env)"

say "jest"
exec npx jest "$@"
