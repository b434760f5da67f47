#!/usr/bin/env bash
# Private brokers for tests that stop, restart or reconfigure a broker: a
# RabbitMQ node or a Mosquitto of their own (own name, ports and data folder)
# beside the system ones, which are never touched.
#
#   private-broker.sh rabbitmq  up NAME PORT DIST_PORT   fresh node virtbus-NAME@localhost on 127.0.0.1:PORT
#   private-broker.sh mosquitto up NAME PORT             fresh Mosquitto on 127.0.0.1:PORT
#   private-broker.sh KIND start NAME    start again with the same ports and data (durable queues,
#                                        persistent sessions and retained messages survive)
#   private-broker.sh KIND stop NAME     clean stop (RabbitMQ: rabbitmqctl shutdown; Mosquitto:
#                                        SIGTERM, which saves its persistence file)
#   private-broker.sh KIND kill NAME     SIGKILL (a crash: nothing is saved)
#   private-broker.sh KIND down NAME     stop (if running) and delete the data folder
#   private-broker.sh KIND pid NAME      print the broker's pid if it runs
#   private-broker.sh rabbitmq ctl NAME ARGS…   rabbitmqctl ARGS… against that node (files it reads
#                                        must be readable by user rabbitmq)
#   private-broker.sh rabbitmq cluster-up NAME PORT:DIST_PORT…   fresh cluster of one node per pair:
#                                        virtbus-NAME1@localhost on the first pair's ports, … NAME<N>, each
#                                        with its own data folder; NAME2…NAME<N> join NAME1 (stop_app, reset,
#                                        join_cluster, start_app). The nodes are brokers named NAME1…NAME<N>
#                                        for the ops above: a node stopped or killed and started again
#                                        rejoins by itself (it remembers its cluster) while another runs
#   private-broker.sh rabbitmq cluster-down NAME   every node of cluster NAME stopped, its folders deleted
#
# Cluster nodes run as user rabbitmq with HOME=/var/lib/rabbitmq like every
# node here, so they share its Erlang cookie (which the system node uses too;
# it is never joined). Starting a cluster node while all others are down
# waits for them (RabbitMQ's rule: the last node stopped must come first).
#
# With VIRTBUS_BROKER_TLS_DIR=DIR at 'up' (certificates from scripts/test-certs.sh):
#   RabbitMQ: TLS only on PORT, client certificate required, EXTERNAL login by
#   the certificate's CN (rabbitmq_auth_mechanism_ssl), PLAIN as a second mechanism,
#   and with VIRTBUS_BROKER_MQTTS_PORT=P also MQTT over TLS on P (rabbitmq_mqtt, certificate login);
#   Mosquitto: TLS only, client certificate required, its CN as user name and
#   client id, DIR/mosquitto.acl as ACL (deploy/mosquitto/virtbus.conf's settings).
#
# RabbitMQ: plain TCP, user virtbus/virtbus (administrator, all of vhost /),
# no plugins; it boots in ~7 s. Mosquitto: anonymous, persistence on,
# set_tcp_nodelay, no queued-message limit. Folders:
# ${VIRTBUS_PRIVATE_BROKERS_DIR:-/var/tmp/virtbus-private-brokers}/KIND-NAME,
# with the broker's own log in log/. Needs root (the brokers run as their
# Debian users, rabbitmq and mosquitto); `bash scripts/services.sh` installs them.
set -euo pipefail
# Daemons started here must not inherit the caller's descriptors: under
# `flock LOCK npx jest` one of them is the test lock, which a leaked broker
# would then hold forever.
for fd in /proc/$$/fd/*; do n=${fd##*/}; ((n > 2 && n != 255)) && eval "exec $n>&-" 2>/dev/null || true; done

BASE=${VIRTBUS_PRIVATE_BROKERS_DIR:-/var/tmp/virtbus-private-brokers}
log() { printf '[private-broker] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '5,23p' "$0" >&2; exit 2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
wait_gone() { # wait_gone PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

[[ $# -ge 3 && ( $# -le 5 || $2 == ctl || $2 == cluster-up ) ]] || usage
KIND=$1 OP=$2 NAME=$3
[[ $NAME =~ ^[A-Za-z0-9_-]{1,40}$ ]] || die "bad name '$NAME'"
[[ $(id -u) -eq 0 ]] || die "needs root (the brokers run as their own users)"
D=$BASE/$KIND-$NAME

# --- RabbitMQ ------------------------------------------------------------------------
RMQ_NODE=virtbus-$NAME@localhost
rmq_select() { D=$BASE/rabbitmq-$1; RMQ_NODE=virtbus-$1@localhost; } # the node the functions below act on
rmq_as() { # rmq_as COMMAND...: runs a RabbitMQ script as user rabbitmq with this node's env
  su rabbitmq -s /bin/sh -c ". '$D/env.sh'; cd /var/lib/rabbitmq; HOME=/var/lib/rabbitmq exec $*"
}
rmq_pid() { local p; p=$(cat "$D/rabbitmq.pid" 2>/dev/null || true); p=${p//[^0-9]/}; alive "$p" && echo "$p"; }
rmq_write_config() { # PORT DIST_PORT
  mkdir -p "$D/mnesia" "$D/log"
  if [[ -n ${VIRTBUS_BROKER_TLS_DIR:-} ]]; then
    local T=$VIRTBUS_BROKER_TLS_DIR
    cat >"$D/rabbitmq.conf" <<EOF
listeners.tcp = none
listeners.ssl.default = 127.0.0.1:$1
ssl_options.cacertfile = $T/ca.crt
ssl_options.certfile = $T/server.crt
ssl_options.keyfile = $T/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
auth_mechanisms.1 = EXTERNAL
auth_mechanisms.2 = PLAIN
ssl_cert_login_from = common_name
EOF
    if [[ -n ${VIRTBUS_BROKER_MQTTS_PORT:-} ]]; then
      # MQTT 3.1.1 over TLS too (rabbitmq_mqtt), the user name taken from the certificate
      cat >>"$D/rabbitmq.conf" <<EOF
mqtt.listeners.tcp = none
mqtt.listeners.ssl.default = 127.0.0.1:$VIRTBUS_BROKER_MQTTS_PORT
mqtt.ssl_cert_login = true
mqtt.allow_anonymous = false
EOF
      echo '[rabbitmq_auth_mechanism_ssl,rabbitmq_mqtt].' >"$D/enabled_plugins"
    else
      echo '[rabbitmq_auth_mechanism_ssl].' >"$D/enabled_plugins"
    fi
  else
    echo "listeners.tcp.default = 127.0.0.1:$1" >"$D/rabbitmq.conf"
    echo '[].' >"$D/enabled_plugins"
  fi
  cat >>"$D/rabbitmq.conf" <<EOF
default_user = virtbus
default_pass = virtbus
default_user_tags.administrator = true
loopback_users = none
EOF
  : >"$D/rabbitmq-env.conf"   # ours: the system's (/etc/rabbitmq/rabbitmq-env.conf) names the system node
  cat >"$D/env.sh" <<EOF
export RABBITMQ_NODENAME='$RMQ_NODE'
$([[ -n ${VIRTBUS_BROKER_TLS_DIR:-} ]] || printf 'export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1\nexport RABBITMQ_NODE_PORT=%s\n' "$1")
export RABBITMQ_DIST_PORT=$2
export RABBITMQ_CONF_ENV_FILE='$D/rabbitmq-env.conf'
export RABBITMQ_CONFIG_FILE='$D/rabbitmq.conf'
export RABBITMQ_ENABLED_PLUGINS_FILE='$D/enabled_plugins'
export RABBITMQ_MNESIA_BASE='$D/mnesia'
export RABBITMQ_LOG_BASE='$D/log'
export RABBITMQ_PID_FILE='$D/rabbitmq.pid'
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS='-kernel inet_dist_use_interface {127,0,0,1}'
EOF
  echo "$1" >"$D/port"
  chown -R rabbitmq:rabbitmq "$D"
}
rmq_start() {
  command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed: run \`bash scripts/services.sh\`"
  [[ -f $D/env.sh ]] || die "$D has no configuration: use 'up' first"
  if rmq_pid >/dev/null; then log "$RMQ_NODE runs already"; return 0; fi
  local port end
  port=$(cat "$D/port")
  port_open "$port" && die "port $port is taken by another process"
  # Debian's unit gives the system node 1,024 open files, which a fleet of a few hundred agents
  # outgrows (README, "Sizing the broker"); a private node gets what a sized broker would
  ulimit -n "${VIRTBUS_BROKER_NOFILE:-65536}" 2>/dev/null || true
  rmq_as /usr/lib/rabbitmq/bin/rabbitmq-server -detached </dev/null >>"$D/log/startup.log" 2>&1 \
    || { tail -n 30 "$D/log/startup.log" >&2; die "$RMQ_NODE did not start"; }
  end=$((SECONDS + 90))
  until port_open "$port"; do
    ((SECONDS < end)) || { tail -n 30 "$D/log/startup.log" >&2; die "$RMQ_NODE did not open port $port within 90 s (logs: $D/log)"; }
    sleep 0.1
  done
  log "$RMQ_NODE on 127.0.0.1:$port"
}
rmq_stop() {
  local p
  p=$(rmq_pid) || return 0
  rmq_as /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "$RMQ_NODE" shutdown </dev/null >>"$D/log/startup.log" 2>&1 || true
  wait_gone "$p" 30 || { log "$RMQ_NODE did not stop: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; wait_gone "$p" 10 || true; }
  log "$RMQ_NODE stopped"
}
rmq_kill() { local p; p=$(rmq_pid) || return 0; kill -KILL "$p"; wait_gone "$p" 10 || die "pid $p does not die"; }
rmq_ctl() { # rmq_ctl ARGS...: rabbitmqctl against the selected node
  rmq_as /usr/lib/rabbitmq/bin/rabbitmqctl -q -n "'$RMQ_NODE'"$(printf ' %q' "$@") </dev/null
}

# Clusters: each node's folder holds the cluster's name in 'cluster'.
cluster_members() { # the node names (NAME1, …) of cluster $1 that have a folder
  local d
  for d in "$BASE"/rabbitmq-*/; do
    [[ -f $d/cluster && $(cat "$d/cluster") == "$1" ]] && { d=${d%/}; echo "${d##*/rabbitmq-}"; }
  done
  return 0
}
cluster_down() { # stops every node of cluster $1 at once, then deletes their folders
  local n pids=() rc=0
  for n in $(cluster_members "$1"); do
    (rmq_select "$n"; rmq_stop) &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || rc=1; done
  for n in $(cluster_members "$1"); do rm -rf "${BASE:?}/rabbitmq-$n"; done
  return $rc
}
cluster_up() { # cluster_up NAME PORT:DIST_PORT...
  local name=$1 i n pair pids=() running
  shift
  (($# >= 1 && $# <= 9)) || die "cluster-up wants 1 to 9 PORT:DIST_PORT pairs"
  ((${#name} < 40)) || die "cluster name '$name' too long for its node names"
  [[ -r /var/lib/rabbitmq/.erlang.cookie ]] \
    || die "/var/lib/rabbitmq/.erlang.cookie is missing: the nodes share it (install RabbitMQ: \`bash scripts/services.sh\`)"
  for pair; do [[ $pair =~ ^[0-9]+:[0-9]+$ ]] || die "bad PORT:DIST_PORT '$pair'"; done
  # leftovers of an earlier run: that cluster's nodes and any broker of a member's name
  cluster_down "$name" || true
  for ((i = 1; i <= $#; i++)); do (rmq_select "$name$i"; rmq_stop; rm -rf "$D"); done
  mkdir -p "$BASE"
  i=0
  for pair; do
    i=$((i + 1))
    rmq_select "$name$i"
    rmq_write_config "${pair%%:*}" "${pair##*:}"
    echo "$name" >"$D/cluster"
  done
  # boot in parallel (~7 s each), then join one after another (concurrent schema changes may clash)
  for ((i = 1; i <= $#; i++)); do
    (rmq_select "$name$i"; rmq_start) &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || die "a node of cluster $name did not start (logs: $BASE/rabbitmq-$name*/log)"; done
  for ((i = 2; i <= $#; i++)); do
    rmq_select "$name$i"
    { rmq_ctl stop_app && rmq_ctl reset && rmq_ctl join_cluster "virtbus-${name}1@localhost" && rmq_ctl start_app; } \
      >>"$D/log/startup.log" 2>&1 || { tail -n 20 "$D/log/startup.log" >&2; die "$RMQ_NODE could not join virtbus-${name}1@localhost"; }
    log "$RMQ_NODE joined virtbus-${name}1@localhost"
  done
  rmq_select "${name}1"
  running=$(rmq_ctl cluster_status --formatter json | grep -o '"running_nodes":\[[^]]*\]' | grep -o '@localhost' | wc -l)
  ((running == $#)) || die "cluster $name has $running running nodes, not $#: $(rmq_ctl cluster_status 2>&1 | head -30)"
  log "cluster $name: $# nodes running"
}

# --- Mosquitto -----------------------------------------------------------------------
mq_pid() { local p; p=$(cat "$D/mosquitto.pid" 2>/dev/null || true); p=${p//[^0-9]/}; alive "$p" && echo "$p"; }
mq_write_config() { # PORT
  mkdir -p "$D/data" "$D/log"
  cat >"$D/mosquitto.conf" <<EOF
pid_file $D/mosquitto.pid
persistence true
persistence_location $D/data/
log_dest file $D/log/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
set_tcp_nodelay true
# a client away during a restart under load must not lose QoS 1 messages to the default limit of 1000
max_queued_messages 0
listener $1 127.0.0.1
EOF
  if [[ -n ${VIRTBUS_BROKER_TLS_DIR:-} ]]; then
    local T=$VIRTBUS_BROKER_TLS_DIR
    cat >>"$D/mosquitto.conf" <<EOF
allow_anonymous false
cafile $T/ca.crt
certfile $T/server.crt
keyfile $T/server.key
require_certificate true
use_identity_as_username true
use_username_as_clientid true
tls_version tlsv1.2
EOF
    if [[ -f $T/mosquitto.acl ]]; then echo "acl_file $T/mosquitto.acl" >>"$D/mosquitto.conf"; fi
  else
    echo 'allow_anonymous true' >>"$D/mosquitto.conf"
  fi
  echo "$1" >"$D/port"
  chown -R mosquitto:mosquitto "$D"
}
mq_start() {
  command -v mosquitto >/dev/null || die "mosquitto is not installed: run \`bash scripts/services.sh\`"
  [[ -f $D/mosquitto.conf ]] || die "$D has no configuration: use 'up' first"
  if mq_pid >/dev/null; then log "Mosquitto $NAME runs already"; return 0; fi
  local port end
  port=$(cat "$D/port")
  port_open "$port" && die "port $port is taken by another process"
  rm -f "$D/mosquitto.pid"
  mosquitto -d -c "$D/mosquitto.conf" </dev/null >>"$D/log/startup.log" 2>&1 \
    || { tail -n 20 "$D/log/mosquitto.log" >&2 2>/dev/null; die "Mosquitto $NAME did not start"; }
  end=$((SECONDS + 20))
  until port_open "$port"; do
    ((SECONDS < end)) || { tail -n 20 "$D/log/mosquitto.log" >&2; die "Mosquitto $NAME did not open port $port within 20 s"; }
    sleep 0.05
  done
  log "Mosquitto $NAME on 127.0.0.1:$port"
}
mq_stop() {
  local p
  p=$(mq_pid) || return 0
  kill -TERM "$p"
  wait_gone "$p" 20 || { log "Mosquitto $NAME did not stop: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; wait_gone "$p" 5 || true; }
  log "Mosquitto $NAME stopped"
}
mq_kill() { local p; p=$(mq_pid) || return 0; kill -KILL "$p"; wait_gone "$p" 10 || die "pid $p does not die"; }

case $KIND in
  rabbitmq) P=rmq ;;
  mosquitto) P=mq ;;
  *) usage ;;
esac
if [[ $OP == cluster-* ]]; then
  [[ $KIND == rabbitmq ]] || usage
  case $OP in
    cluster-up) shift 3; [[ $# -ge 1 ]] || usage; cluster_up "$NAME" "$@" ;;
    cluster-down) [[ $# -eq 3 ]] || usage; cluster_down "$NAME" ;;
    *) usage ;;
  esac
  exit 0
fi
case $OP in
  up)
    "${P}_stop"
    rm -rf "$D"
    if [[ $KIND == rabbitmq ]]; then
      [[ $# -eq 5 ]] || usage
      rmq_write_config "$4" "$5"
    else
      [[ $# -eq 4 ]] || usage
      mq_write_config "$4"
    fi
    "${P}_start" ;;
  start) "${P}_start" ;;
  stop) "${P}_stop" ;;
  kill) "${P}_kill" ;;
  down) "${P}_stop"; rm -rf "$D" ;;
  pid) "${P}_pid" ;;
  ctl)
    [[ $KIND == rabbitmq ]] || usage
    shift 3
    rmq_ctl "$@" ;;
  *) usage ;;
esac
