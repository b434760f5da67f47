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
bash scripts/test-packages.sh
npx tsc -p tsconfig.json --noEmit
say "lint (typescript-eslint) and format (prettier --check)"
npm run lint --silent

say "brokers"
bash scripts/services.sh

say "libvirt lab (two nodes, guest assets)"
bash deploy/lab/lab.sh up
eval "$(bash deploy/lab/lab.sh env)"

say "jest"
# agents the tests spawn serve no metrics listener unless a test asks for one
# (--metrics-listen wins): dozens of them would all want 127.0.0.1:9477
export VIRTBUS_METRICS_LISTEN=${VIRTBUS_METRICS_LISTEN:-none}
exec npx jest "$@"
