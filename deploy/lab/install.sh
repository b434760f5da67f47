#!/usr/bin/env bash
# virtbus libvirt lab: install the Debian packages the lab needs, only if missing.
#
# Fast path (<2 s): a single dpkg-query over the list; apt is only touched when
# something is not installed. Safe to run repeatedly and from CI (no terminal).
#
# Env:
#   VIRTBUS_LAB_PACKAGES   override the package list (space separated)
#   VIRTBUS_LAB_APT_LOCK_TIMEOUT  seconds to wait for a concurrent apt/dpkg (default 900)
set -euo pipefail

log() { printf '[lab/install] %s\n' "$*" >&2; }

PACKAGES=${VIRTBUS_LAB_PACKAGES:-"libvirt-daemon-system libvirt-dev libvirt-clients qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cpio pkg-config iproute2"}
LOCK_TIMEOUT=${VIRTBUS_LAB_APT_LOCK_TIMEOUT:-900}

# shellcheck disable=SC2086
missing=$(
  # dpkg-query exits 1 when a name is unknown to dpkg; we still get the others.
  { dpkg-query -W -f='${Package} ${db:Status-Status}\n' $PACKAGES 2>/dev/null || true; } |
    awk -v want="$PACKAGES" '
      $2 == "installed" { ok[$1] = 1 }
      END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) printf "%s ", w[i] }'
)

if [[ -z "${missing// /}" ]]; then
  log "all packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  log "missing packages ($missing) and not root: cannot install"
  exit 1
fi

log "missing: $missing"
export DEBIAN_FRONTEND=noninteractive
# Lock::Timeout: wait for another apt/dpkg (e.g. a background install) instead of failing.
apt_opts=(-y -q -o "DPkg::Lock::Timeout=$LOCK_TIMEOUT" -o Dpkg::Options::=--force-confnew)
log "apt-get update"
apt-get -q -o "DPkg::Lock::Timeout=$LOCK_TIMEOUT" update >&2
log "apt-get install $missing"
# shellcheck disable=SC2086
apt-get install "${apt_opts[@]}" $missing >&2
log "done"
