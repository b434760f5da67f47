#!/usr/bin/env bash
# virtbus libvirt lab: end-to-end smoke test of a running lab (`lab.sh up` first).
# boot -> READY marker -> ACPI shutdown -> boot -> attach/detach virtio disk ->
# p2p live migration to node 2 -> ACPI shutdown there. Cleans up what it created.
# Env: VIRTBUS_LAB_SMOKE_NAME (domain name, default virtbus-lab-smoke), VIRTBUS_LAB_DIR.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eval "$("$HERE/lab.sh" env)"
N1=$VIRTBUS_LAB_NODE1_URI N2=$VIRTBUS_LAB_NODE2_URI
vm=${VIRTBUS_LAB_SMOKE_NAME:-virtbus-lab-smoke}
disk=$VIRTBUS_LAB_DIR/$vm-vdb.qcow2
clog=$VIRTBUS_LAB_CONSOLE_DIR/$vm.log
t0=$SECONDS
step() { printf '[smoke %3ss] %s\n' "$((SECONDS - t0))" "$*" >&2; }
fail() { step "FAIL: $*"; exit 1; }
cleanup() {
  local u
  for u in "$N2" "$N1"; do
    virsh -q -c "$u" destroy "$vm" >/dev/null 2>&1 || true
    virsh -q -c "$u" undefine "$vm" >/dev/null 2>&1 || true
  done
  rm -f "$disk" "$clog"
}
trap cleanup EXIT
# wait_for SECS CMD...: poll CMD every 0.2 s
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do ((SECONDS < end)) || return 1; sleep 0.2; done; }
has_disk() { [[ $(virsh -c "$1" dumpxml "$vm" 2>/dev/null) == *"$disk"* ]]; } # no grep -q: SIGPIPE+pipefail
state_is() { [[ $(virsh -c "$1" domstate "$vm" 2>/dev/null | head -n1) == "$2" ]]; }
gone_from() { ! virsh -c "$1" domstate "$vm" >/dev/null 2>&1; }
ready_count() { grep -c VIRTBUS-GUEST-READY "$clog" 2>/dev/null || true; }
boot() {
  local before; before=$(ready_count)
  virsh -q -c "$N1" start "$vm" >/dev/null
  wait_for 60 eval '[[ $(ready_count) -gt $before ]]' || fail "no READY marker"
  step "READY marker seen"
}
# ACPI shutdown, retried: a request sent before the guest listens is lost.
shutdown_on() {
  local u=$1 i
  for i in 1 2 3 4 5 6; do
    virsh -q -c "$u" shutdown "$vm" >/dev/null 2>&1 || true
    if wait_for 10 eval "state_is '$u' 'shut off' || gone_from '$u'"; then step "ACPI shutdown done on $u (attempt $i)"; return 0; fi
  done
  fail "guest did not power off on $u"
}

cleanup
step "define + start on node 1"
virsh -q -c "$N1" define <("$HERE/guest.xml.sh" "$vm") >/dev/null
boot
shutdown_on "$N1"

boot
qemu-img create -q -f qcow2 "$disk" 64M
virsh -q -c "$N1" attach-disk "$vm" "$disk" vdb --targetbus virtio --subdriver qcow2 --cache none --live >/dev/null
has_disk "$N1" || fail "disk not attached"
step "disk attached"
virsh -q -c "$N1" detach-disk "$vm" vdb --live >/dev/null
wait_for 20 eval '! has_disk "$N1"' || fail "disk still in dumpxml"
step "disk detached (gone from dumpxml)"

step "p2p live migration to $N2"
virsh -c "$N1" migrate --live --p2p "$vm" "$N2" --migrateuri "$VIRTBUS_LAB_NODE2_MIGRATE_URI"
state_is "$N2" running || fail "not running on node 2"
state_is "$N1" "shut off" || fail "still active on node 1"
step "running on node 2"
shutdown_on "$N2"
step "OK"
