#!/bin/busybox sh
# PID 1 of the virtbus lab's minimal guest (packed into initrd.img by lab.sh).
# It only has to: show it booted (marker on the console), and power off when
# the host sends an ACPI power-button event (virsh shutdown / domain.shutdown()).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1

# Modules (button, evdev, virtio...) in dependency order, resolved on the host.
for m in $(cat /etc/modules); do
  insmod "/lib/modules/$m" || echo "virtbus-guest: insmod $m failed"
done

# ACPI power button -> input device "Power Button" (button.ko) -> /dev/input/eventN
# (evdev.ko). A blocking read of one event is our whole "acpid".
armed=0
i=0
while [ "$armed" = 0 ] && [ "$i" -lt 50 ]; do
  for ev in /sys/class/input/event*; do
    [ -r "$ev/device/name" ] || continue
    if [ "$(cat "$ev/device/name")" = "Power Button" ]; then
      dev=/dev/input/${ev##*/}
      ( dd if="$dev" of=/dev/null bs=24 count=1 2>/dev/null
        echo "VIRTBUS-GUEST-POWEROFF"
        poweroff -f ) &
      armed=1
    fi
  done
  [ "$armed" = 1 ] || { i=$((i + 1)); sleep 0.1; }
done
[ "$armed" = 1 ] || echo "virtbus-guest: no Power Button input device; ACPI shutdown will not work"

echo "VIRTBUS-GUEST-READY kernel=$(uname -r)"
# PID 1 must never exit (the kernel would panic).
while :; do sleep 3600; done
