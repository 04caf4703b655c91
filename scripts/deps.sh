#!/bin/sh
# Install what Pulsar's build and tests need on Debian 12, and only what
# is missing.  Used by `make deps`, `make run`, `make test` and .ci/run.
#   scripts/deps.sh          build + test packages, server programs
#   scripts/deps.sh --run    just what `make run` needs
#   scripts/deps.sh --bench  what scripts/bench needs (see below)
#
# The DHCP/TFTP/HTTP servers of the end-to-end cases (ISC dhcpd, tftpd-hpa,
# atftpd, nginx) are not installed but unpacked from their Debian packages into
# cache/servers/PACKAGE/ (scripts/netboot runs them from there): tftpd-hpa
# and atftpd conflict as packages, and installing any of them would start
# a system service serving the machine's network.  nginx's libraries
# (libpcre2-8-0, libssl3) are installed as packages.  dnsmasq-base has no
# service and is installed normally.
#
# scripts/deps.sh --bench adds what scripts/bench needs: GRUB's netboot
# files (grub-pc-bin), PXELINUX, dnsmasq-base and atftpd (unpacked, as
# above) for the second server, gnuplot for the plot, and tftpd-hpa and
# nginx (unpacked) for the boot-storm table (lab.storm).
set -eu

# gnu-efi builds pulsar.efi (its headers, crt0 and linker script); ovmf is
# the UEFI firmware the UEFI cases and `make run` boot it under.
PKGS_RUN="make gcc gcc-multilib nasm binutils python3 zopfli qemu-system-x86 ipxe-qemu \
    gnu-efi ovmf"
# grub-mkrescue and its helpers build the GRUB oracle ISO (cases_grub.py);
# grub-efi-amd64-bin: GRUB's x86_64-efi netboot image (grub-mknetdir) that
# pulsar.efi chains and that chainloads pulsar.efi (cases_efi_chain.py);
# pxelinux, syslinux-common and ipxe: the boot programs the `chld` tests
# chain and the PXELINUX boot path (cases_servers.py); the build also prints
# pxelinux.0's size next to Pulsar's (optional there); iproute2, dnsmasq-base
# and libwrap0 (tftpd-hpa's and atftpd's library) for the real servers;
# libclang-rt-14-dev: clang's libFuzzer and sanitizer runtimes (make fuzz);
# man-db and groff-base render the man pages (make man-check);
# dpkg-dev, debhelper and lintian build and check the Debian package
# (make package-test).
PKGS_TEST="$PKGS_RUN libcmocka-dev zlib1g-dev clang grub-pc-bin grub-efi-amd64-bin grub-common \
    xorriso mtools pxelinux syslinux-common ipxe iproute2 dnsmasq-base libwrap0 \
    libclang-rt-14-dev man-db groff-base libpcre2-8-0 libssl3 dpkg-dev debhelper lintian"
SERVER_DEBS="isc-dhcp-server tftpd-hpa atftpd nginx"
PKGS_BENCH="$PKGS_RUN grub-pc-bin grub-common pxelinux syslinux-common \
    iproute2 dnsmasq-base libwrap0 gnuplot-nox libpcre2-8-0 libssl3"

case "${1:-}" in
--run) want=$PKGS_RUN; servers="" ;;
--bench) want=$PKGS_BENCH; servers="atftpd tftpd-hpa nginx" ;;
*) want=$PKGS_TEST; servers=$SERVER_DEBS ;;
esac

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "scripts/deps.sh: installing:$missing"
    if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
        echo "scripts/deps.sh: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# Unpack the server programs (see the top of this file).
cache="$(cd "$(dirname "$0")/.." && pwd)/cache"
sandbox=""
[ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
for p in $servers; do
    dest="$cache/servers/$p"
    [ -e "$dest/.unpacked" ] && continue
    echo "scripts/deps.sh: unpacking $p into $dest"
    mkdir -p "$cache/debs"
    rm -f "$cache/debs/${p}"_*.deb
    # shellcheck disable=SC2086
    (cd "$cache/debs" && { apt-get download -qq $sandbox "$p" ||
        { $SUDO apt-get update -qq && apt-get download -qq $sandbox "$p"; }; })
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg-deb -x "$cache/debs/${p}"_*.deb "$dest"
    touch "$dest/.unpacked"
done
