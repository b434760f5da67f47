#!/usr/bin/env bash
# virtbus libvirt lab: print the domain XML of the minimal guest (kernel + busybox initrd
# built by `lab.sh up`). The guest prints VIRTBUS-GUEST-READY on its serial console once
# it listens for the ACPI power button, and powers off on that button.
#
# Usage: guest.xml.sh NAME [DISK_QCOW2]
# Env (optional): VIRTBUS_LAB_DIR (/var/tmp/virtbus-lab), VIRTBUS_LAB_KERNEL, VIRTBUS_LAB_INITRD,
#   VIRTBUS_LAB_DOMAIN_TYPE (qemu = TCG; kvm), VIRTBUS_LAB_GUEST_MEMORY_MIB (256),
#   VIRTBUS_LAB_EMULATOR, VIRTBUS_LAB_CONSOLE_DIR ($VIRTBUS_LAB_DIR/console),
#   VIRTBUS_LAB_GUEST_CMDLINE_EXTRA, VIRTBUS_LAB_DISK_FORMAT (qcow2)
#
# The console is a pty serial (so `virsh console` works) whose output libvirt also
# appends to $VIRTBUS_LAB_CONSOLE_DIR/NAME.log. That directory is in the state dir,
# which both lab nodes see (node 2 has a private /var/lib/libvirt), and append='on'
# keeps the log when a migration's destination reopens it.
set -euo pipefail

usage() { echo "usage: $0 NAME [DISK_QCOW2]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
name=$1 disk=${2:-}
# Names end up in XML and file names: keep them plain.
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || { echo "guest.xml.sh: bad domain name '$name'" >&2; exit 2; }

S=${VIRTBUS_LAB_DIR:-/var/tmp/virtbus-lab}
kernel=${VIRTBUS_LAB_KERNEL:-$S/vmlinuz}
initrd=${VIRTBUS_LAB_INITRD:-$S/initrd.img}
# TCG by default: nested KVM hung Debian's kernel on the lab machines.
type=${VIRTBUS_LAB_DOMAIN_TYPE:-qemu}
mem=${VIRTBUS_LAB_GUEST_MEMORY_MIB:-256}
emulator=${VIRTBUS_LAB_EMULATOR:-/usr/bin/qemu-system-x86_64}
console_dir=${VIRTBUS_LAB_CONSOLE_DIR:-$S/console}
fmt=${VIRTBUS_LAB_DISK_FORMAT:-qcow2}
cmdline="console=ttyS0 quiet loglevel=3 panic=-1 ${VIRTBUS_LAB_GUEST_CMDLINE_EXTRA:-}"

for f in "$kernel" "$initrd"; do
  [[ -r $f ]] || { echo "guest.xml.sh: $f missing (run deploy/lab/lab.sh up)" >&2; exit 1; }
done
mkdir -p "$console_dir"

esc() { local s=$1; s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\'/&apos;}; s=${s//\"/&quot;}; printf '%s' "$s"; }

disk_xml=""
if [[ -n $disk ]]; then
  # Both nodes see the same file, but libvirt 9 calls a local filesystem "not shared"
  # and refuses live migration with this disk unless VIR_MIGRATE_UNSAFE (--unsafe).
  # cache='none' is what it requires on real shared storage.
  disk_xml="
    <disk type='file' device='disk'>
      <driver name='qemu' type='$(esc "$fmt")' cache='none'/>
      <source file='$(esc "$disk")'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
fi

cat <<EOF
<domain type='$(esc "$type")'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$(esc "$kernel")</kernel>
    <initrd>$(esc "$initrd")</initrd>
    <cmdline>$(esc "$cmdline")</cmdline>
  </os>
  <!-- ACPI: power button (virsh shutdown) and PCI hotplug/unplug (attach/detach-disk). -->
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(esc "$emulator")</emulator>$disk_xml
    <controller type='usb' model='none'/>
    <serial type='pty'>
      <log file='$(esc "$console_dir/$name.log")' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
