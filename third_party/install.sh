#!/usr/bin/env bash
# Installs the Debian packages Loom needs (third_party/packages.txt), and only those missing.
# Idempotent: when everything is installed it changes nothing and needs no root.
#   usage: third_party/install.sh [group...]      groups: build (default), bench
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build)

wanted=()
for g in "${groups[@]}"; do
  found=$(awk -v g="$g" '$1 == g { print $2 }' "$here/packages.txt")
  if [ -z "$found" ]; then
    echo "install.sh: unknown package group '$g' (known: $(awk '!/^#/ && NF { print $1 }' "$here/packages.txt" | sort -u | tr '\n' ' '))" >&2
    exit 2
  fi
  wanted+=($found)
done

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: all ${#wanted[@]} Debian packages of group(s) ${groups[*]} are installed"
  exit 0
fi

echo "install.sh: installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "install.sh: these packages are missing and installing them needs root:" >&2
  echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
  echo "Run that as root (or run this script as root), then run make again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: apt-get not found: Loom's install script needs Debian 12 (bookworm)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "install.sh: apt-get could not install: ${missing[*]} (is Debian's package archive reachable?)" >&2
  exit 1
fi
echo "install.sh: done"
