#!/usr/bin/env bash
# The README's run command (`npm start`): sets up what is missing and runs
# the agent — with no arguments on the embedded default (libvirt's in-process
# test driver and an in-process MQTT broker on 127.0.0.1:1885), so nothing
# else needs to run. Arguments go to the agent, e.g.
#   npm start -- --libvirt-uri qemu:///system --bus amqp://user:pass@broker:5672
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# two malloc arenas, as the systemd unit and the container run it (~1 MiB less resident)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec node dist/agent/main.js "$@"
