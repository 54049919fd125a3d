#!/bin/bash
# make cluster-demo: the demo experiment (examples/demo.vtb) across three
# simulated hosts (scripts/simhosts.sh): a cluster in an etcd, an agent per
# host, vtb up from h1 placing the nodes, pings across hosts, vtb down
# from h3, and every simulated host removed again. Needs root.
set -eu
cd "$(dirname "$0")/.."
SIM=scripts/simhosts.sh
ETCD=http://10.99.0.254:2379
if [ "$(id -u)" != 0 ]; then
	echo "the cluster demo builds real namespaces and links: run it as root" >&2
	exit 1
fi
on() { h=$1; shift; "$SIM" exec "$h" -- "$@"; }
trap '"$SIM" down >/dev/null 2>&1 || true' EXIT
echo "==> scripts/simhosts.sh up 3   (three hosts h1..h3 as namespaces, etcd at $ETCD)"
"$SIM" up 3
echo "==> vtb cluster init on h1, vtb cluster join on h2 and h3, vtb agent on each"
on h1 ./vtb cluster init --etcd "$ETCD" | head -1
for h in h2 h3; do on $h ./vtb cluster join --etcd "$ETCD" | head -1; done
for h in h1 h2 h3; do "$SIM" start-agent $h; done
for i in $(seq 50); do on h1 ./vtb cluster status | grep -q "3 alive" && break; sleep 0.2; done
on h1 ./vtb cluster status
echo
echo "==> vtb up examples/demo.vtb   (from h1: placed across the hosts)"
out=$(on h1 ./vtb up examples/demo.vtb)
printf '%s\n' "$out"
host_of() { printf '%s\n' "$out" | awk -v n="$1" '$1 == n { print $2 }'; }
hp=$(host_of pc1)
echo
echo "==> vtb exec demo pc1 -- ping -c 5 192.168.50.10   (on $hp: pc1 -> r1 -> r2 -> r3 -> srv1, hosts $(host_of r1) $(host_of r2) $(host_of r3) $(host_of srv1))"
on "$hp" ./vtb exec demo pc1 -- ping -c 5 -i 0.2 192.168.50.10
echo
echo "==> vtb status demo   (from h2)"
on h2 ./vtb status demo
echo
echo "==> vtb down demo   (from h3)"
on h3 ./vtb down demo
echo
echo "==> scripts/simhosts.sh down"
"$SIM" down
trap - EXIT
