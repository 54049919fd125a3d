#!/bin/sh
# Install the Debian packages a target needs, if any are missing.
# usage: scripts/deps.sh build|fuzz|bench
set -eu
case "${1:-build}" in
build) pkgs="gcc make pkg-config libjansson-dev libcmocka-dev libmnl-dev libsqlite3-dev libbpf-dev libgraphviz-dev graphviz libpcap-dev gnuplot-nox iproute2 iputils-ping iperf3 tcpdump frr bird2 qemu-system-x86 qemu-system-arm qemu-system-misc ipxe-qemu seabios busybox-static xz-utils zstd cpio mmdebstrap etcd-server etcd-client libcurl4-openssl-dev libssl-dev libmetis-dev zlib1g-dev ethtool" ;;
fuzz) pkgs="clang libclang-rt-14-dev libjansson-dev" ;;
bench) pkgs="gnuplot-nox time mininet bridge-utils python3" ;;
*) echo "deps.sh: unknown set '$1'" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# the guest image of VM nodes is made from Debian's kernel package: apt
# must know it (a fresh machine may have no package lists yet)
if [ "${1:-build}" = build ] && [ "$(id -u)" = 0 ] &&
	! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
	apt-get update -qq >/dev/null
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "vtb: missing Debian packages:$missing; run as root or: apt-get install$missing" >&2
	exit 2
fi
echo "vtb: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# The routing daemons (frr, bird2) are for the nodes, not the host: their
# packages must not start (or, under systemd, enable) a host service. A
# policy-rc.d that says 101 makes invoke-rc.d and deb-systemd-invoke skip
# the start; one the machine has already is left as it is.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
for svc in frr bird etcd; do
	case " $missing " in
	*" $svc "* | *" ${svc}2 "* | *" ${svc}-server "*)
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi ;;
	esac
done
