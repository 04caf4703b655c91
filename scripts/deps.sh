#!/bin/sh
# Install what Pulsar's build and tests need on Debian 12, and only what
# is missing.  Used by `make deps`, `make run`, `make test` and .ci/run.
#   scripts/deps.sh          build + test packages
#   scripts/deps.sh --run    just what `make run` needs
set -eu

PKGS_RUN="make gcc gcc-multilib nasm binutils python3 qemu-system-x86 ipxe-qemu"
# grub-mkrescue and its helpers build the GRUB oracle ISO (cases_grub.py);
# pxelinux, syslinux-common and ipxe: the boot programs the `chld` tests chain.
PKGS_TEST="$PKGS_RUN libcmocka-dev zlib1g-dev clang grub-pc-bin grub-common xorriso mtools \
    pxelinux syslinux-common ipxe"

case "${1:-}" in
--run) want=$PKGS_RUN ;;
*) want=$PKGS_TEST ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "scripts/deps.sh: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "scripts/deps.sh: need root (or sudo) to install:$missing" >&2
        exit 1
    }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
