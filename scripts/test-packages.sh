#!/usr/bin/env bash
# Debian packages only the tests use, installed when missing (npm test runs
# this): zsh, so that `virtbus completion zsh` is run by a real zsh
# (test/cli/completion.test.ts). The lab's packages are deploy/lab/install.sh's.
set -euo pipefail
say() { printf '\n== %s\n' "$*" >&2; }
missing=()
for p in zsh; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
say "installing ${missing[*]} (for the tests)"
export DEBIAN_FRONTEND=noninteractive
opts=(-y -q -o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confnew)
apt-get install "${opts[@]}" "${missing[@]}" || { apt-get update -q && apt-get install "${opts[@]}" "${missing[@]}"; }
