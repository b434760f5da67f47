#!/usr/bin/env bash
# virtbus libvirt lab: build the minimal real guest into the state dir, if missing or stale.
#   $VIRTBUS_LAB_DIR/vmlinuz     Debian's kernel (linux-image-amd64), copied from /boot
#   $VIRTBUS_LAB_DIR/initrd.img  busybox-static + guest-init.sh as /init + a few modules
#                                (newc cpio, gzip)
# Called by `lab.sh up`; safe to run alone. Rebuilds only when an input changed
# (guest-init.sh, busybox, kernel, module list).
# Env: VIRTBUS_LAB_DIR (/var/tmp/virtbus-lab), VIRTBUS_LAB_KERNEL_VERSION (newest in /boot),
#   VIRTBUS_LAB_GUEST_MODULES ("button evdev virtio_pci virtio_blk"), VIRTBUS_LAB_BUSYBOX
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S=${VIRTBUS_LAB_DIR:-/var/tmp/virtbus-lab}
# button+evdev: the ACPI power button as /dev/input/eventN (ACPI shutdown).
# virtio_pci+virtio_blk: the guest really binds hot-plugged disks.
MODULES=${VIRTBUS_LAB_GUEST_MODULES:-"button evdev virtio_pci virtio_blk"}
BUSYBOX=${VIRTBUS_LAB_BUSYBOX:-/bin/busybox}

log() { printf '[lab/assets] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

kv=${VIRTBUS_LAB_KERNEL_VERSION:-}
[[ -n $kv ]] || kv=$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
[[ -n $kv && -r /boot/vmlinuz-$kv && -d /lib/modules/$kv ]] ||
  die "no kernel + modules in /boot, /lib/modules (install linux-image-amd64)"
# busybox-static, not the dynamic busybox package: the initrd has no libc.
[[ -x $BUSYBOX ]] || die "$BUSYBOX missing (install busybox-static)"
mdir=/lib/modules/$kv

stamp=$(cat "$HERE/guest-init.sh" "$BUSYBOX" "/boot/vmlinuz-$kv" <(echo "$kv $MODULES") | sha256sum | cut -c1-16)
if [[ -s $S/vmlinuz && -s $S/initrd.img && $(cat "$S/assets.stamp" 2>/dev/null) == "$stamp" ]]; then
  exit 0
fi
log "building guest assets (kernel $kv)"
mkdir -p "$S"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,etc,lib/modules}
cp "$BUSYBOX" "$stage/bin/busybox"
install -m 0755 "$HERE/guest-init.sh" "$stage/init"
# The kernel opens /dev/console before /init runs; without it init has no stdout.
mknod -m 600 "$stage/dev/console" c 5 1

# Resolve module dependencies from modules.dep (dependencies first), like modprobe.
declare -A seen=()
order=()
add_mod() {
  [[ -z ${seen[$1]:-} ]] || return 0
  seen[$1]=1
  local d i
  read -r -a d <<<"$(awk -F': *' -v k="$1" '$1 == k { print $2 }' "$mdir/modules.dep")"
  for ((i = ${#d[@]} - 1; i >= 0; i--)); do add_mod "${d[i]}"; done
  order+=("$1")
}
for m in $MODULES; do
  rel=$(awk -F: -v m="${m//-/_}" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
    gsub("-", "_", n); if (n == m) { print $1; exit } }' "$mdir/modules.dep")
  [[ -n $rel ]] || die "module $m not found for kernel $kv (built in? then drop it from VIRTBUS_LAB_GUEST_MODULES)"
  add_mod "$rel"
done
# busybox insmod loads plain .ko only: decompress .ko.xz/.ko.zst/.ko.gz here.
for rel in "${order[@]}"; do
  m=${rel##*/}; m=${m%.xz}; m=${m%.zst}; m=${m%.gz}
  case $rel in
    *.xz) xz -dc "$mdir/$rel" ;;
    *.zst) zstd -qdc "$mdir/$rel" ;;
    *.gz) gzip -dc "$mdir/$rel" ;;
    *) cat "$mdir/$rel" ;;
  esac >"$stage/lib/modules/$m"
  echo "$m" >>"$stage/etc/modules"
done

(cd "$stage" && find . -print0 | cpio -0 -o -H newc -R 0:0 --quiet) | gzip -9 >"$S/initrd.img.tmp"
cp "/boot/vmlinuz-$kv" "$S/vmlinuz.tmp"
mv "$S/initrd.img.tmp" "$S/initrd.img"
mv "$S/vmlinuz.tmp" "$S/vmlinuz"
echo "$stamp" >"$S/assets.stamp"
log "built $S/vmlinuz, $S/initrd.img (modules: $(tr '\n' ' ' <"$stage/etc/modules"))"
