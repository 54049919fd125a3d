#!/bin/sh
# Install the Debian packages a target needs, if any are missing.
# usage: scripts/deps.sh build|fuzz|bench
set -eu
case "${1:-build}" in
build) pkgs="gcc make pkg-config libjansson-dev libcmocka-dev libmnl-dev libsqlite3-dev libbpf-dev iproute2 iputils-ping iperf3 tcpdump" ;;
fuzz) pkgs="clang libclang-rt-14-dev libjansson-dev" ;;
bench) pkgs="gnuplot-nox time mininet bridge-utils python3" ;;
*) echo "deps.sh: unknown set '$1'" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "vtb: missing Debian packages:$missing; run as root or: apt-get install$missing" >&2
	exit 2
fi
echo "vtb: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
