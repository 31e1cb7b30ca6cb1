#!/usr/bin/env bash
# Times the README's first command (bash scripts/main.sh) on a fresh Debian 12:
# a debootstrap --variant=minbase bookworm chroot, so that nothing the main
# job needs is installed (not even a compiler), plus what every machine of
# this workplace has: its network's CA certificates
# (/usr/local/share/ca-certificates, NODE_EXTRA_CA_CERTS) and /root/.npmrc.
# Needs root, debootstrap and network access to Debian's archive and npm.
# Usage: sudo bash experiments/issue15/fresh-machine.sh CHROOT OUT.txt
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
F=${1:?chroot folder}
out=${2:?output file}
[[ -d $F/usr ]] || debootstrap --variant=minbase bookworm "$F" http://deb.debian.org/debian
mkdir -p "$F/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$F/usr/local/share/ca-certificates/" 2>/dev/null || true
[[ -f /root/.npmrc ]] && cp /root/.npmrc "$F/root/.npmrc"
cp /etc/resolv.conf "$F/etc/resolv.conf"
for m in proc sys dev dev/pts; do mountpoint -q "$F/$m" || mount --bind "/$m" "$F/$m"; done
trap 'for m in dev/pts dev sys proc; do umount "$F/$m" 2>/dev/null || true; done' EXIT
rm -rf "$F/root/maqd"
git clone -q "$root" "$F/root/maqd"
commit=$(git -C "$root" rev-parse --short HEAD)
{ echo "# fresh Debian 12 chroot (debootstrap --variant=minbase bookworm), clone of commit $commit"
  echo "# /usr/bin/time -f 'FIRST COMMAND: %e s wall' chroot CHROOT env -i HOME=/root PATH=... CCACHE_DISABLE=1 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt bash -c 'cd /root/maqd && bash scripts/main.sh'"
  /usr/bin/time -f 'FIRST COMMAND: %e s wall' chroot "$F" /usr/bin/env -i HOME=/root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb CCACHE_DISABLE=1 \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt bash -c 'cd /root/maqd && bash scripts/main.sh'
} > "$out" 2>&1
