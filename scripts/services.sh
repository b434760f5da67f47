#!/usr/bin/env bash
# Starts the brokers the tests use if they are not running (this machine's
# images install them; nothing here is started by hand).
set -euo pipefail
log() { printf '[services] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# install_pkg CMD PACKAGE: installs a Debian package if CMD is missing; services are
# started by this script, never by the package (there is no systemd here)
install_pkg() {
  command -v "$1" >/dev/null && return 0
  log "installing $2"
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confnew "$2" >/dev/null
  rm -f /usr/sbin/policy-rc.d
  command -v "$1" >/dev/null || { log "$2 did not install"; exit 1; }
}

wait_port() { # wait_port PORT NAME SECONDS
  local end=$((SECONDS + $3))
  until port_open "$1"; do
    ((SECONDS < end)) || { log "$2 did not open port $1 within $3 s"; return 1; }
    sleep 0.5
  done
}

if ! port_open 5672; then
  install_pkg rabbitmq-server rabbitmq-server
  log "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672 RabbitMQ 120
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
fi
log "RabbitMQ on 127.0.0.1:5672"

# Mosquitto (MQTT 5 and 3.1.1) on 127.0.0.1:1883, from the distribution's config.
if ! port_open 1883; then
  install_pkg mosquitto mosquitto
  log "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_port 1883 Mosquitto 20
fi
log "Mosquitto on 127.0.0.1:1883"

# RabbitMQ's MQTT plugin (3.1.1 only) on 127.0.0.1:1884: 1883 is Mosquitto's.
# The plugin's default listener (all interfaces, 1883) would clash with
# Mosquitto, so the port is set twice before the plugin is enabled:
#  - in rabbitmq.conf, which a later broker start reads (the plugin is in
#    enabled_plugins from then on, so its schema knows the key);
#  - in the running node's application env, which enabling it at runtime
#    reads (rabbitmq-plugins enable starts it without a broker restart).
RABBITMQ_CONF=${RABBITMQ_CONFIG_FILE:-/etc/rabbitmq/rabbitmq.conf}
RABBITMQ_MQTT_LISTENER=127.0.0.1:1884
if ! grep -qs '^mqtt\.listeners\.tcp' "$RABBITMQ_CONF"; then
  log "setting the RabbitMQ MQTT listener to $RABBITMQ_MQTT_LISTENER in $RABBITMQ_CONF"
  printf '\n# virtbus tests: MQTT plugin next to Mosquitto (scripts/services.sh)\nmqtt.listeners.tcp.local = %s\n' "$RABBITMQ_MQTT_LISTENER" >>"$RABBITMQ_CONF"
fi
if ! port_open 1884; then
  log "enabling rabbitmq_mqtt"
  rabbitmqctl -q eval '
    ok = case application:load(rabbitmq_mqtt) of ok -> ok; {error, {already_loaded, _}} -> ok; E -> E end,
    application:set_env(rabbitmq_mqtt, tcp_listeners, [{"127.0.0.1", 1884}]).' >/dev/null
  rabbitmq-plugins -q enable rabbitmq_mqtt >/dev/null
  wait_port 1884 "RabbitMQ MQTT" 60
fi
log "RabbitMQ MQTT on $RABBITMQ_MQTT_LISTENER"

if ! port_open 6379; then
  install_pkg redis-server redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 Redis 30
fi
log "Redis on 127.0.0.1:6379"
