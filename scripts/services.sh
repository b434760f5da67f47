#!/usr/bin/env bash
# Starts the brokers the tests use if they are not running (this machine's
# images install them; nothing here is started by hand).
set -euo pipefail
log() { printf '[services] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # wait_port PORT NAME SECONDS
  local end=$((SECONDS + $3))
  until port_open "$1"; do
    ((SECONDS < end)) || { log "$2 did not open port $1 within $3 s"; return 1; }
    sleep 0.5
  done
}

if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || { log "RabbitMQ is not installed (apt-get install rabbitmq-server)"; exit 1; }
  log "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672 RabbitMQ 120
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
fi
log "RabbitMQ on 127.0.0.1:5672"
