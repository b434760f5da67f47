#!/usr/bin/env bash
# virtbus libvirt lab: two libvirt "hosts" on one machine, plus a minimal real guest.
#
#   node 1: the machine's own libvirtd (qemu:///system, unix socket)
#   node 2: a second libvirtd in its own mount+UTS namespace, with private copies of
#           /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and
#           /etc/libvirt, listening on tcp://127.0.0.2 (qemu+tcp://127.0.0.2/system)
#
# Usage: lab.sh up|down|status|restart-node1|restart-node2|env|assets
# Env (all optional): VIRTBUS_LAB_DIR (state dir, default /var/tmp/virtbus-lab),
#   VIRTBUS_LAB_ETC (node 1 config dir, /etc/libvirt), VIRTBUS_LAB_NODE2_ADDR (127.0.0.2),
#   VIRTBUS_LAB_NODE2_HOSTNAME (virtbus-node2), VIRTBUS_LAB_EMULATOR, VIRTBUS_LAB_WAIT_SECS
#   (60), VIRTBUS_LAB_RESTART_SIGNAL (KILL), VIRTBUS_LAB_SKIP_INSTALL=1, VIRTBUS_LAB_LOG_LEVEL
#   (3, daemon logs in $VIRTBUS_LAB_DIR/logs), plus those of install.sh, guest-assets.sh.
# Only `up`/`down`/`restart-*` change anything; `env` and `status` are read-only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S=${VIRTBUS_LAB_DIR:-/var/tmp/virtbus-lab}
ETC1=${VIRTBUS_LAB_ETC:-/etc/libvirt}
N2_ADDR=${VIRTBUS_LAB_NODE2_ADDR:-127.0.0.2}
N2_HOST=${VIRTBUS_LAB_NODE2_HOSTNAME:-virtbus-node2}
N1_URI=qemu:///system
N2_URI=qemu+tcp://$N2_ADDR/system
EMULATOR=${VIRTBUS_LAB_EMULATOR:-/usr/bin/qemu-system-x86_64}
WAIT=${VIRTBUS_LAB_WAIT_SECS:-60}
SIG=${VIRTBUS_LAB_RESTART_SIGNAL:-KILL}
LOGLVL=${VIRTBUS_LAB_LOG_LEVEL:-3}
LIBVIRTD=/usr/sbin/libvirtd VIRTLOGD=/usr/sbin/virtlogd
# Daemon-owned pid files (root defaults for node 1; node 2's must differ because /run
# itself is shared between the namespaces - only /run/libvirt is private).
N1_LIBVIRTD_PF=/run/libvirtd.pid N1_VIRTLOGD_PF=/run/virtlogd.pid
N2=$S/node2 PIDS=$S/pids LOGS=$S/logs
N2_LIBVIRTD_PF=$N2/libvirtd.pid N2_VIRTLOGD_PF=$N2/virtlogd.pid

log() { printf '[lab] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- pid helpers -------------------------------------------------------------------
# alive PID COMM: the pid exists, runs COMM (guards against stale/reused pids) and is
# not a zombie (our daemons are reparented to PID 1, which may reap them only lazily).
alive() {
  local st
  [[ -n ${1:-} && $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] || return 1
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }; [[ ${st%% *} != Z ]]
}
# pid_of FILE COMM: print the pid in FILE if that process is alive as COMM.
pid_of() { local p; p=$(cat "$1" 2>/dev/null || true); p=${p//[^0-9]/}; alive "$p" "$2" && echo "$p"; }
record() { echo "$2" >"$PIDS/$1.pid"; }
# wait_pidfile FILE COMM: the daemon writes its pid file itself (after -d forks).
wait_pidfile() {
  local i p
  for ((i = 0; i < 100; i++)); do p=$(pid_of "$1" "$2") && { echo "$p"; return 0; }; sleep 0.1; done
  return 1
}
wait_uri() { # wait_uri URI LOGFILE
  local end=$((SECONDS + WAIT))
  until timeout 10 virsh -q -c "$1" version >/dev/null 2>&1; do
    ((SECONDS < end)) || { tail -n 20 "$2" >&2 2>/dev/null || true; die "$1 did not answer within ${WAIT}s"; }
    sleep 0.3
  done
  log "$1 answers"
}
stop_pid() { # stop_pid PID COMM SIGNAL: signal, wait, escalate to KILL after 15 s
  local i
  alive "$1" "$2" || return 0
  kill "-$3" "$1" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do alive "$1" "$2" || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$1" "$2" || return 0; sleep 0.1; done
  die "pid $1 ($2) does not die"
}

# --- config ------------------------------------------------------------------------
# set_block FILE BODY: idempotently put BODY (key = value lines) into a marked block at
# the end of FILE, commenting out active settings of the same keys elsewhere (so ours
# is the only one; libvirt reads the first of duplicates). Returns 0 if FILE changed.
set_block() {
  local f=$1 body=$2 tmp keys
  tmp=$(mktemp)
  keys=$(sed -n 's/^\([a-z_]*\) *=.*/\1/p' <<<"$body" | paste -sd'|')
  awk -v keys="^[ \t]*(${keys})[ \t]*=" '
    /^# BEGIN virtbus-lab/ { skip = 1 } skip { if (/^# END virtbus-lab/) skip = 0; next }
    $0 ~ keys { print "#virtbus-lab# " $0; next } { print }' "$f" >"$tmp"
  printf '# BEGIN virtbus-lab (managed by deploy/lab/lab.sh)\n%s\n# END virtbus-lab\n' "$body" >>"$tmp"
  if cmp -s "$tmp" "$f"; then rm -f "$tmp"; return 1; fi
  cat "$tmp" >"$f" && rm -f "$tmp" && return 0
}
# Both nodes run guests as root with no MAC driver: the lab's kernel/initrd/disks live
# under the state dir, and the Debian defaults (libvirt-qemu user, AppArmor) get in the
# way.
QEMU_COMMON='user = "root"
group = "root"
security_driver = "none"'
uuid_valid() { [[ $1 =~ ^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$ ]]; }
# libvirt falls back to a random UUID per start without SMBIOS (as in most VMs and
# containers); migration refuses identical source/destination UUIDs, and virtbus may
# use the UUID as a host identity, so both nodes get a fixed one.
node1_uuid() {
  local u
  u=$(sed -n '/^[ \t]*host_uuid[ \t]*=/{s/.*=[ \t]*"\(.*\)".*/\1/p;q}' "$ETC1/libvirtd.conf")
  [[ -n $u ]] || u=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null || true)
  uuid_valid "$u" && echo "$u"
}
# Node 1's socket as a host running the agent as its own user needs it: the
# libvirt group may use it without polkit (this machine runs no D-Bus system
# bus, so polkit cannot answer; Debian's default asks it). The installed
# package's test runs the agent as user virtbus in group libvirt against it.
SOCKET_ACCESS='unix_sock_group = "libvirt"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"'
configure_node1() { # returns 0 if config changed
  local changed=1 u
  set_block "$ETC1/qemu.conf" "$QEMU_COMMON" && changed=0
  if ! u=$(node1_uuid); then
    u=$(cat /proc/sys/kernel/random/uuid)
    log "node 1 host_uuid set to $u"
  fi
  set_block "$ETC1/libvirtd.conf" "host_uuid = \"$u\"
$SOCKET_ACCESS" && changed=0
  return $changed
}
configure_node2() { # returns 0 if config changed
  local changed=1 u1 u2 tmp
  u1=$(node1_uuid || true)
  u2=$(cat "$N2/host_uuid" 2>/dev/null || true)
  if ! uuid_valid "$u2" || [[ ${u2,,} == "${u1,,}" ]]; then
    u2=$(cat /proc/sys/kernel/random/uuid); echo "$u2" >"$N2/host_uuid"
  fi
  tmp=$(mktemp)
  grep -Ev '^[ \t]*(host_uuid|host_uuid_source|listen_tcp|listen_tls|listen_addr|auth_tcp)[ \t]*=' "$ETC1/libvirtd.conf" >"$tmp" || true
  set_block "$tmp" "host_uuid = \"$u2\"
listen_tcp = 1
listen_tls = 0
listen_addr = \"$N2_ADDR\"
auth_tcp = \"none\"" || true
  cmp -s "$tmp" "$N2/etc/libvirtd.conf" || { cat "$tmp" >"$N2/etc/libvirtd.conf"; changed=0; }
  # Without migration_host the destination tells the source to connect to its host
  # name (virtbus-node2), which does not resolve.
  cp "$ETC1/qemu.conf" "$tmp"
  # No cgroups on node 2: its machine cgroups would be named like node 1's
  # (machine/qemu-<id>-<name>) on the same cgroupfs, and the two daemons would fight
  # over one cgroup while a migration has the guest on both nodes.
  set_block "$tmp" "$QEMU_COMMON
cgroup_controllers = [ ]
migration_address = \"$N2_ADDR\"
migration_host = \"$N2_ADDR\"" || true
  cmp -s "$tmp" "$N2/etc/qemu.conf" || { cat "$tmp" >"$N2/etc/qemu.conf"; changed=0; }
  rm -f "$tmp"
  return $changed
}

# --- node 1 ------------------------------------------------------------------------
start_virtlogd1() {
  local p
  if p=$(pid_of "$N1_VIRTLOGD_PF" virtlogd); then return 0; fi
  log "starting node 1 virtlogd"
  LIBVIRT_LOG_OUTPUTS="$LOGLVL:file:$LOGS/node1-virtlogd.log" "$VIRTLOGD" -d </dev/null >>"$LOGS/node1-virtlogd.log" 2>&1 9>&-
  p=$(wait_pidfile "$N1_VIRTLOGD_PF" virtlogd) || die "node 1 virtlogd did not start"
  record node1-virtlogd "$p"
}
start_libvirtd1() {
  local p
  log "starting node 1 libvirtd"
  LIBVIRT_LOG_OUTPUTS="$LOGLVL:file:$LOGS/node1-libvirtd.log" "$LIBVIRTD" -d </dev/null >>"$LOGS/node1-libvirtd.log" 2>&1 9>&-
  p=$(wait_pidfile "$N1_LIBVIRTD_PF" libvirtd) || die "node 1 libvirtd did not start"
  record node1-libvirtd "$p"
}
up_node1() {
  local changed=$1 p
  start_virtlogd1
  if p=$(pid_of "$N1_LIBVIRTD_PF" libvirtd); then
    if [[ $changed == 1 ]]; then log "node 1 config changed: restarting libvirtd"; stop_pid "$p" libvirtd TERM; start_libvirtd1; fi
  else
    start_libvirtd1
  fi
  wait_uri "$N1_URI" "$LOGS/node1-libvirtd.log"
}

# --- node 2 ------------------------------------------------------------------------
N2_BINDS="run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt etc:/etc/libvirt"
prepare_node2_dirs() {
  local d
  mkdir -p "$N2" /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
  if [[ ! -d $N2/etc ]]; then
    # A copy of node 1's config without its domains/networks/autostart links.
    rm -rf "$N2/etc.tmp"; cp -a "$ETC1" "$N2/etc.tmp"
    rm -f "$N2"/etc.tmp/qemu/*.xml "$N2"/etc.tmp/qemu/autostart/* "$N2"/etc.tmp/qemu/networks/autostart/*
    mv "$N2/etc.tmp" "$N2/etc"
  fi
  for d in lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
    # Directory skeleton only (owners and modes kept; no images, caches or logs).
    [[ -d $N2/${d%%:*} ]] || { mkdir -p "$N2/${d%%:*}"; (cd "${d#*:}" && find . -type d -print0 | cpio -0pdm --quiet "$N2/${d%%:*}"); }
  done
}
ns_pid() { local p; p=$(cat "$PIDS/node2-ns.pid" 2>/dev/null || true); alive "$p" sleep && [[ $(readlink "/proc/$p/ns/mnt") != $(readlink /proc/self/ns/mnt) ]] && echo "$p"; }
start_ns2() {
  local p i binds="" b
  if p=$(ns_pid); then echo "$p"; return 0; fi
  # Node 2 daemons without a namespace holder live in an orphaned namespace: stop them.
  for p in "$N2_LIBVIRTD_PF:libvirtd" "$N2_VIRTLOGD_PF:virtlogd"; do
    i=$(pid_of "${p%%:*}" "${p#*:}") && { log "stopping orphaned node 2 ${p#*:} $i"; stop_pid "$i" "${p#*:}" TERM; }
  done
  log "creating node 2 namespace (hostname $N2_HOST)"
  # Fresh namespace = fresh boot of node 2: its /run/libvirt starts empty (no stale
  # sockets/pid/status files from a killed previous session).
  rm -rf "$N2/run"; mkdir -p "$N2/run"; rm -f "$N2/ns-ready" "$PIDS/node2-ns.pid"
  for b in $N2_BINDS; do binds+="mount --bind '$N2/${b%%:*}' '${b#*:}'; "; done
  # The holder ("sleep infinity") keeps the namespace alive across daemon restarts;
  # daemons are started inside it with nsenter.
  setsid unshare --mount --uts --propagation private -- /bin/sh -c \
    "set -e; $binds hostname '$N2_HOST'; echo \$\$ >'$PIDS/node2-ns.pid'; touch '$N2/ns-ready'; exec sleep infinity" \
    </dev/null >>"$LOGS/node2-ns.log" 2>&1 9>&- &
  for ((i = 0; i < 100; i++)); do [[ -e $N2/ns-ready ]] && break; sleep 0.1; done
  p=$(ns_pid) || { cat "$LOGS/node2-ns.log" >&2; die "node 2 namespace did not come up"; }
  echo "$p"
}
in_ns2() { local ns=$1; shift; nsenter -t "$ns" -m -u -- "$@" </dev/null 9>&-; }
start_libvirtd2() {
  local ns=$1 p
  log "starting node 2 libvirtd (--listen $N2_ADDR)"
  # libvirt 9 without systemd socket activation only opens TCP with --listen.
  in_ns2 "$ns" env LIBVIRT_LOG_OUTPUTS="$LOGLVL:file:$LOGS/node2-libvirtd.log" \
    "$LIBVIRTD" -d --listen -p "$N2_LIBVIRTD_PF" >>"$LOGS/node2-libvirtd.log" 2>&1
  p=$(wait_pidfile "$N2_LIBVIRTD_PF" libvirtd) || die "node 2 libvirtd did not start"
  record node2-libvirtd "$p"
}
up_node2() {
  local changed=$1 ns p
  ns=$(start_ns2)
  if ! pid_of "$N2_VIRTLOGD_PF" virtlogd >/dev/null; then
    log "starting node 2 virtlogd"
    # Own pid file: the default /run/virtlogd.pid is node 1's (/run is shared).
    in_ns2 "$ns" env LIBVIRT_LOG_OUTPUTS="$LOGLVL:file:$LOGS/node2-virtlogd.log" \
      "$VIRTLOGD" -d -p "$N2_VIRTLOGD_PF" >>"$LOGS/node2-virtlogd.log" 2>&1
    p=$(wait_pidfile "$N2_VIRTLOGD_PF" virtlogd) || die "node 2 virtlogd did not start"
    record node2-virtlogd "$p"
  fi
  # Seed node 2's QEMU capabilities cache from node 1's (same binaries and host; libvirt
  # revalidates the files): saves a ~8 s probe on a fresh machine.
  if [[ -z $(ls -A "$N2/cache/qemu/capabilities" 2>/dev/null) ]]; then
    mkdir -p "$N2/cache/qemu/capabilities"
    cp -p /var/cache/libvirt/qemu/capabilities/*.xml "$N2/cache/qemu/capabilities/" 2>/dev/null || true
  fi
  if p=$(pid_of "$N2_LIBVIRTD_PF" libvirtd); then
    if [[ $changed == 1 ]]; then log "node 2 config changed: restarting libvirtd"; stop_pid "$p" libvirtd TERM; start_libvirtd2 "$ns"; fi
  else
    start_libvirtd2 "$ns"
  fi
  wait_uri "$N2_URI" "$LOGS/node2-libvirtd.log"
}

# --- commands ------------------------------------------------------------------------
cmd_env() {
  cat <<EOF
export VIRTBUS_LAB_DIR='$S'
export VIRTBUS_LAB_KERNEL='$S/vmlinuz'
export VIRTBUS_LAB_INITRD='$S/initrd.img'
export VIRTBUS_LAB_CONSOLE_DIR='$S/console'
export VIRTBUS_LAB_GUEST_XML='$HERE/guest.xml.sh'
export VIRTBUS_LAB_EMULATOR='$EMULATOR'
export VIRTBUS_LAB_NODE1_URI='$N1_URI'
export VIRTBUS_LAB_NODE2_URI='$N2_URI'
export VIRTBUS_LAB_NODE2_MIGRATE_URI='tcp://$N2_ADDR'
EOF
}
cmd_status() {
  local row name pf comm p by uri ans
  printf '%-15s %-8s %-8s %-5s %s\n' COMPONENT STATE PID LAB ANSWERS
  for row in "node1-virtlogd $N1_VIRTLOGD_PF virtlogd -" "node1-libvirtd $N1_LIBVIRTD_PF libvirtd $N1_URI" \
    "node2-ns $PIDS/node2-ns.pid sleep -" "node2-virtlogd $N2_VIRTLOGD_PF virtlogd -" "node2-libvirtd $N2_LIBVIRTD_PF libvirtd $N2_URI"; do
    read -r name pf comm uri <<<"$row"
    if [[ $name == node2-ns ]]; then p=$(ns_pid || true); else p=$(pid_of "$pf" "$comm" || true); fi
    by=no; [[ -n $p && $(cat "$PIDS/$name.pid" 2>/dev/null) == "$p" ]] && by=yes
    ans=-; [[ $uri == - ]] || { timeout 10 virsh -q -c "$uri" version >/dev/null 2>&1 && ans="yes ($uri)" || ans="no ($uri)"; }
    printf '%-15s %-8s %-8s %-5s %s\n' "$name" "$([[ -n $p ]] && echo running || echo stopped)" "${p:--}" "$by" "$ans"
  done
}
cmd_down() {
  local name comm p
  for name in node2-libvirtd node2-virtlogd node2-ns node1-libvirtd node1-virtlogd; do
    case $name in *libvirtd) comm=libvirtd ;; *virtlogd) comm=virtlogd ;; *) comm=sleep ;; esac
    p=$(cat "$PIDS/$name.pid" 2>/dev/null || true)
    if alive "$p" "$comm"; then log "stopping $name ($p)"; stop_pid "$p" "$comm" TERM; fi
    rm -f "$PIDS/$name.pid"
  done
}
restart_node() { # restart_node 1|2
  local n=$1 p ns
  if [[ $n == 1 ]]; then p=$(pid_of "$N1_LIBVIRTD_PF" libvirtd || true); else p=$(pid_of "$N2_LIBVIRTD_PF" libvirtd || true); fi
  [[ -z $p ]] || { log "node $n libvirtd: SIG$SIG $p"; stop_pid "$p" libvirtd "$SIG"; }
  if [[ $n == 1 ]]; then start_virtlogd1; start_libvirtd1; wait_uri "$N1_URI" "$LOGS/node1-libvirtd.log"
  elif ns=$(ns_pid); then start_libvirtd2 "$ns"; wait_uri "$N2_URI" "$LOGS/node2-libvirtd.log"
  else up_node2 0; fi
}
cmd_up() {
  local c1=0 c2=0
  [[ ${VIRTBUS_LAB_SKIP_INSTALL:-0} == 1 ]] || "$HERE/install.sh"
  mkdir -p "$S/console" && chmod 1777 "$S/console"
  "$HERE/guest-assets.sh"
  prepare_node2_dirs
  configure_node1 && c1=1
  configure_node2 && c2=1
  up_node1 "$c1"
  up_node2 "$c2"
  log "lab is up ($SECONDS s)"
}

case ${1:-} in env) cmd_env; exit 0 ;; status) cmd_status; exit 0 ;; esac
[[ $(id -u) -eq 0 ]] || die "the lab needs root"
mkdir -p "$S" "$PIDS" "$LOGS"
# One mutating lab.sh at a time (fd 9 is closed for every daemon we spawn, else they
# would hold the lock forever).
exec 9>"$S/lock"; flock 9
case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  assets) "$HERE/guest-assets.sh" ;;
  restart-node1) restart_node 1 ;;
  restart-node2) restart_node 2 ;;
  *) echo "usage: $0 up|down|status|restart-node1|restart-node2|env|assets" >&2; exit 2 ;;
esac
