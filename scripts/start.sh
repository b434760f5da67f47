#!/usr/bin/env bash
# The README's run command (`npm start`): sets up what is missing and runs
# the agent. Arguments go to the agent, e.g.
#   npm start -- --libvirt-uri qemu:///system --bus amqp://user:pass@broker:5672
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The default bus is the RabbitMQ on this machine; start it if it is down.
if [[ " $* " != *" --bus "* && -z ${VIRTBUS_BUS:-} ]]; then bash scripts/services.sh; fi
exec node dist/agent/main.js "$@"
