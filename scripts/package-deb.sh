#!/usr/bin/env bash
# `npm run package:deb`: the Debian package virtbus-agent, built from this
# tree into dist-pkg/virtbus-agent_<version>_<arch>.deb.
#
# The package carries its own Node runtime (/usr/lib/virtbus/bin/node): the
# very binary that built the native addon here. Debian 12's nodejs is 18,
# below what the agent needs (Node >= 20), and the addon
# (build/Release/virtbus_libvirt.node) is compiled for this Node's ABI; a
# Depends on some "nodejs (>= 20)" from a third-party repository would let
# apt pair the addon with a runtime it was not built for. Bundled, the pair
# is always the one tested. The price: about 90 MB, and Node security fixes
# arrive by rebuilding this package (deploy/README.md).
#
# Layout:
#   /usr/lib/virtbus/{bin/node, dist/, build/Release/virtbus_libvirt.node,
#                     node_modules/ (production only), package.json}
#   /usr/sbin/virtbus-agent, /usr/bin/virtbus     wrappers on that runtime
#   /lib/systemd/system/virtbus-agent.service     deploy/systemd/
#   /etc/virtbus/agent.yaml, /etc/default/virtbus-agent  conffiles (deploy/debian/)
#   /usr/share/doc/virtbus-agent/                 README, copyright, examples/tls.conf
# Env: DEBFULLNAME, DEBEMAIL (Maintainer field).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*" >&2; }
die() {
  printf 'package-deb: %s\n' "$*" >&2
  exit 1
}

command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (apt-get install dpkg)"
node_bin=$(readlink -f "$(command -v node)")
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || die "node $(node --version) builds the package, and the package ships it: need Node >= 20"

# The addon and the compiled TypeScript, rebuilt when stale (the checks of
# scripts/setup.sh). Not setup.sh itself: its `npm ci` would replace
# node_modules under whatever runs this (the package test runs in jest).
[[ -d node_modules ]] || die "node_modules is missing: run \`bash scripts/setup.sh\` (or npm ci) first"
if [[ ! -f build/Release/virtbus_libvirt.node ]] ||
  [[ -n $(find native binding.gyp -newer build/Release/virtbus_libvirt.node 2>/dev/null | head -1) ]]; then
  say "building the native addon"
  npm run build:native --silent
fi
if [[ ! -f dist/agent/main.js ]] ||
  [[ -n $(find src agent package.json tsconfig.build.json -newer dist/agent/main.js 2>/dev/null | head -1) ]]; then
  say "compiling TypeScript"
  npm run build:ts --silent
fi

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
out=dist-pkg/virtbus-agent_${version}_${arch}.deb

stage=$(mktemp -d /tmp/virtbus-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/virtbus
doc=$root/usr/share/doc/virtbus-agent
install -d "$lib/bin" "$lib/build/Release" "$lib/dist" "$root/DEBIAN" "$doc/examples" \
  "$root/lib/systemd/system" "$root/etc/virtbus" "$root/etc/default" "$root/usr/bin" "$root/usr/sbin"

say "the agent: dist/ (no bench, tests, declarations or source maps) and the addon"
tar -C dist --exclude='*.d.ts' --exclude='*.map' -cf - src agent package.json | tar -C "$lib/dist" -xf -
install -m 0644 build/Release/virtbus_libvirt.node "$lib/build/Release/"
install -m 0644 package.json package-lock.json "$lib/"

say "production node_modules (npm ci --omit=dev)"
# --ignore-scripts: the root package's own install script is the node-gyp
# build, done above; the dependencies need none (native ones ship prebuilds).
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
rm -f "$lib/package-lock.json"

say "the Node runtime ($node_bin, $(node --version))"
# Debug sections off (about a tenth of its size); the dynamic symbols the
# addon links against stay.
if command -v objcopy >/dev/null; then
  objcopy --strip-debug "$node_bin" "$lib/bin/node"
else
  install "$node_bin" "$lib/bin/node"
fi
chmod 0755 "$lib/bin/node"
"$lib/bin/node" -e 'require(process.argv[1])' "$lib/build/Release/virtbus_libvirt.node" ||
  die "the bundled node cannot load the addon"
for f in LICENSE copyright; do
  [[ -f /usr/share/doc/nodejs/$f ]] && install -m 0644 "/usr/share/doc/nodejs/$f" "$doc/node-$f"
done

say "unit, configuration, wrappers, documentation"
install -m 0644 deploy/systemd/virtbus-agent.service "$root/lib/systemd/system/"
install -m 0644 deploy/debian/agent.yaml "$root/etc/virtbus/agent.yaml" # group virtbus, 0640: postinst
install -m 0600 deploy/debian/default "$root/etc/default/virtbus-agent"
install -m 0755 deploy/debian/virtbus "$root/usr/bin/virtbus"
install -m 0755 deploy/debian/virtbus-agent "$root/usr/sbin/virtbus-agent"
install -m 0644 deploy/systemd/tls.conf "$doc/examples/tls.conf"
install -m 0644 deploy/README.md "$doc/README.md"
printf 'virtbus\nLicense: %s\nNode.js runtime in /usr/lib/virtbus/bin: see node-LICENSE.\n' \
  "$(node -p 'require("./package.json").license')" >"$doc/copyright"
chmod -R go-w,a+rX "$root/usr" "$root/lib"

for s in postinst prerm postrm; do install -m 0755 "deploy/debian/$s" "$root/DEBIAN/$s"; done
printf '/etc/virtbus/agent.yaml\n/etc/default/virtbus-agent\n' >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/control" <<EOF
Package: virtbus-agent
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-virtbus} <${DEBEMAIL:-virtbus@localhost}>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libvirt0, adduser, libc6 (>= 2.28), libstdc++6, libgcc-s1
Recommends: libvirt-daemon-system
Section: admin
Priority: optional
Description: libvirt on the message bus: the per-node agent
 virtbus-agent streams every libvirt event of its node to RabbitMQ (AMQP
 0-9-1) or MQTT and runs commands from its node's queue through libvirt,
 answering each with one correlated reply.
 .
 Ships its own Node.js 20 runtime in /usr/lib/virtbus/bin (the one its
 native libvirt addon was built for) and the systemd unit
 virtbus-agent.service, which is not enabled on installation.
EOF

say "dpkg-deb --build"
mkdir -p dist-pkg
dpkg-deb --build --root-owner-group "$root" "$out"
if command -v lintian >/dev/null; then
  lintian "$out" || say "lintian has findings (above)"
fi
echo "$out"
