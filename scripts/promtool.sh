#!/usr/bin/env bash
# promtool (for the test that checks a real /metrics scrape with
# `promtool check metrics`), taken alone from Debian's prometheus package:
# installing that package would start a Prometheus server. The binary goes to
# /usr/local/bin/promtool; nothing else of the package is kept. Only when
# missing; npm test runs this.
set -euo pipefail
command -v promtool >/dev/null && exit 0
say() { printf '\n== %s\n' "$*" >&2; }
say "promtool from Debian's prometheus package (the binary only)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -q prometheus >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download -q prometheus >/dev/null; }
dpkg-deb -x prometheus_*.deb root
install -m 0755 root/usr/bin/promtool /usr/local/bin/promtool
promtool --version 2>&1 | head -1 >&2
