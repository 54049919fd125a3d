#!/bin/bash
# Packets per second over a direct link between two hosts against the same
# link on one host (docs/benchmarks.md, "Packets per second between hosts",
# issue 17; target: at least 80%). Four simulated hosts
# (scripts/simhosts.sh): h1 and h2 with the shortcut of a dispersed
# point-to-point link (the default: tc redirects between the node's port
# and the VXLAN device, build_dispersed_p2p.c), h3 and h4 without it
# (their agents run with VTB_DISPERSED_BYPASS=0: through the substrate's
# bridge, the previous path). Each run, in turn: a-b both on h1 (a veth),
# a on h1 and b on h2 (new path), a on h3 and b on h4 (old path).
# build/udpbench, 18-byte UDP payloads as fast as the sender goes for
# PPS_S seconds; what the receiver counted. Everything (both simulated
# hosts, sender and receiver) shares this machine's cores: the sender is
# pinned to CPU 0 and the receiver to CPU 1 (taskset).
# Each path is measured in two simulations, side by side in each run:
# "plain" (no RPS: a veth delivers on the sending CPU, so the sender's CPU
# also does the receiving host's half) and "rps" (RPS steers the receive of
# the receiving interface to CPU 1: the receiving host's underlay eth0,
# scripts/simhosts.sh rps on, as between real machines; for the one-host
# veth, b's own interface, like with like).
# Writes bench/out/cluster_pps.tsv (with each CPU's softirq ticks during
# the flood: where the work ran) and docs/img/cluster-pps.png.
# Environment: VTB (default ./vtb), BENCH_RUNS (default 5);
# `bench/cluster_pps.sh plot` only redraws the plot from the table.
set -eu
cd "$(dirname "$0")/.."
VTB=${VTB:-$PWD/vtb}
RUNS=${BENCH_RUNS:-5}
# long enough for a few million packets, short enough for 15 floods a run
PPS_S=4
# the receiver stops once nothing came for this long after the flood
IDLE_MS=1000
UB=$PWD/build/udpbench
SIM=scripts/simhosts.sh
ETCD=http://10.99.0.254:2379
out=bench/out/cluster_pps.tsv
img=docs/img/cluster-pps.png
mkdir -p bench/out docs/img
on() { h=$1; shift; VTB=$VTB "$SIM" exec "$h" -- "$@"; }
# the CPUs of the sender and the receiver (with RPS, the receive's too:
# simhosts.sh steers h2's and h4's underlay receive to CPU 1, host_cpu)
SEND_CPU=0
RECV_CPU=1
RPS_MASK=2

# plot: received pps per run, one series per simulation and path
plot() {
	command -v gnuplot >/dev/null || return 0
	for m in plain rps; do
		for p in veth new old; do
			awk -F'\t' -v m="$m" -v p="$p" '$2 == m && $3 == p { print $1, $7 }' "$out" >"bench/out/cluster_pps_${m}_$p.dat"
		done
	done
	gnuplot <<G
set terminal pngcairo size 800,480 noenhanced
set output '$img'
set title 'UDP pps received, 18-byte payloads, 2 cores (dashed: no RPS, solid: RPS)'
set xlabel 'run'
set ylabel 'packets per second'
set yrange [0:*]
set xtics 1
set grid
set key outside bottom center maxrows 3
plot 'bench/out/cluster_pps_rps_veth.dat' using 1:2 with linespoints lw 2 lc 1 title 'one host (veth), RPS', \
     'bench/out/cluster_pps_rps_new.dat' using 1:2 with linespoints lw 2 lc 2 title 'between hosts, shortcut, RPS', \
     'bench/out/cluster_pps_rps_old.dat' using 1:2 with linespoints lw 2 lc 3 title 'between hosts, bridge, RPS', \
     'bench/out/cluster_pps_plain_veth.dat' using 1:2 with linespoints lw 1 dt 2 lc 1 title 'one host (veth)', \
     'bench/out/cluster_pps_plain_new.dat' using 1:2 with linespoints lw 1 dt 2 lc 2 title 'between hosts, shortcut', \
     'bench/out/cluster_pps_plain_old.dat' using 1:2 with linespoints lw 1 dt 2 lc 3 title 'between hosts, bridge'
G
}

if [ "${1:-}" = plot ]; then
	plot
	exit 0
fi

trap '"$SIM" down >/dev/null 2>&1' EXIT
VTB=$VTB "$SIM" up 4 >/dev/null
on h1 "$VTB" cluster init --etcd "$ETCD" >/dev/null
for h in h2 h3 h4; do on $h "$VTB" cluster join --etcd "$ETCD" >/dev/null; done
for h in h1 h2; do VTB=$VTB "$SIM" start-agent $h >/dev/null; done
for h in h3 h4; do VTB=$VTB VTB_DISPERSED_BYPASS=0 "$SIM" start-agent $h >/dev/null; done
for i in $(seq 50); do on h1 "$VTB" cluster status | grep -q "4 alive" && break; sleep 0.2; done

# the model of a path: a on $2, b on $3
model() {
	cat >"bench/out/cluster-pps-$1.vtb" <<M
a = topo.device('a', host == '$2')
b = topo.device('b', host == '$3')
l = topo.connect([a, b])
l[a].spec(ip == '10.60.0.1/24')
l[b].spec(ip == '10.60.0.2/24')
M
}
model veth h1 h1
model new h1 h2
model old h3 h4

# softirq: each CPU's softirq time so far, in USER_HZ ticks (/proc/stat)
softirq() { awk '/^cpu[0-9]/ { printf "%s ", $8 }' /proc/stat; }

# flood SIM PATH SENDER RECEIVER: one measurement, "sent_pps received_pps"
# (SIM rps and a one-host path: RPS on b's interface, in its namespace)
flood() {
	sim=$1
	shift
	id=$(on "$2" "$VTB" up "bench/out/cluster-pps-$1.vtb" --name pps 2>&1 | sed -n 's/.*(id \([0-9a-f]*\)).*/\1/p')
	if [ "$sim" = rps ] && [ "$2" = "$3" ]; then
		# the node's sysfs is read-only, and a sysfs of the same network
		# namespace shares its superblock: writable only while remounted
		read -r hp _ <"/var/lib/vtb-sim/$3/holder.pid"
		nsenter --net="/proc/$hp/root/run/netns/vtb$id-b" -- unshare --mount -- sh -c \
			"mount -t sysfs sysfs /sys && mount -o remount,rw /sys &&
			echo $RPS_MASK >/sys/class/net/eth0/queues/rx-0/rps_cpus; mount -o remount,ro /sys &&
			grep -q [1-9a-f] /sys/class/net/eth0/queues/rx-0/rps_cpus" || { echo "cannot set RPS on b" >&2; return 1; }
	fi
	on "$2" "$VTB" exec pps a -- ping -c 1 -W 2 10.60.0.2 >/dev/null
	taskset -c "$RECV_CPU" "$SIM" exec "$3" -- "$VTB" exec pps b -- "$UB" recv --port 9000 --idle-ms "$IDLE_MS" >bench/out/cluster-pps.recv 2>&1 &
	rp=$!
	sleep 0.5 # the receiver binds its port (no event to wait on from here)
	si0=$(softirq)
	snd=$(taskset -c "$SEND_CPU" "$SIM" exec "$2" -- "$VTB" exec pps a -- "$UB" send --to 10.60.0.2:9000 --duration "$PPS_S")
	si1=$(softirq)
	wait $rp
	on "$2" "$VTB" down pps >/dev/null 2>&1
	printf '%s %s %s\n' "$(printf '%s' "$snd" | sed -n 's/.*"pps":\([0-9.]*\).*/\1/p')" \
		"$(sed -n 's/.*"pps":\([0-9.]*\).*/\1/p' bench/out/cluster-pps.recv | head -1)" \
		"$(echo "$si0 $si1" | awk '{ n = NF / 2; for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "," : ""), $(n + i) - $i }')"
}

printf 'run\tsim\tpath\tsender\treceiver\tsent_pps\treceived_pps\tsoftirq_ticks_per_cpu\n' >"$out"
for r in $(seq "$RUNS"); do
	for m in plain rps; do
		if [ $m = rps ]; then "$SIM" rps on >/dev/null; else "$SIM" rps off >/dev/null; fi
		for p in "veth h1 h1" "new h1 h2" "old h3 h4"; do
			set -- $p
			res=$(flood $m "$@") || exit 1
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$m" "$1" "$2" "$3" $res >>"$out"
			tail -1 "$out"
		done
	done
done
plot
