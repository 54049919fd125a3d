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
# hosts, sender and receiver) shares this machine's cores.
# Writes bench/out/cluster_pps.tsv and docs/img/cluster-pps.png.
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

# plot: received pps per run, one series per path
plot() {
	command -v gnuplot >/dev/null || return 0
	for p in veth new old; do awk -F'\t' -v p="$p" '$2 == p { print $1, $6 }' "$out" >"bench/out/cluster_pps_$p.dat"; done
	gnuplot <<G
set terminal pngcairo size 800,480 noenhanced
set output '$img'
set title 'UDP pps received, 18-byte payloads (2 cores shared by both hosts, sender and receiver)'
set xlabel 'run'
set ylabel 'packets per second'
set yrange [0:*]
set xtics 1
set grid
set key bottom right
plot 'bench/out/cluster_pps_veth.dat' using 1:2 with linespoints lw 2 title 'one host (veth)', \
     'bench/out/cluster_pps_new.dat' using 1:2 with linespoints lw 2 title 'between hosts, shortcut (tc redirect)', \
     'bench/out/cluster_pps_old.dat' using 1:2 with linespoints lw 2 title 'between hosts, bridge (VTB_DISPERSED_BYPASS=0)'
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

# flood PATH SENDER RECEIVER: one measurement, "sent_pps received_pps"
flood() {
	on "$2" "$VTB" up "bench/out/cluster-pps-$1.vtb" --name pps >/dev/null 2>&1
	on "$2" "$VTB" exec pps a -- ping -c 1 -W 2 10.60.0.2 >/dev/null
	on "$3" "$VTB" exec pps b -- "$UB" recv --port 9000 --idle-ms "$IDLE_MS" >bench/out/cluster-pps.recv 2>&1 &
	rp=$!
	sleep 0.5 # the receiver binds its port (no event to wait on from here)
	snd=$(on "$2" "$VTB" exec pps a -- "$UB" send --to 10.60.0.2:9000 --duration "$PPS_S")
	wait $rp
	on "$2" "$VTB" down pps >/dev/null 2>&1
	printf '%s %s\n' "$(printf '%s' "$snd" | sed -n 's/.*"pps":\([0-9.]*\).*/\1/p')" \
		"$(sed -n 's/.*"pps":\([0-9.]*\).*/\1/p' bench/out/cluster-pps.recv | head -1)"
}

printf 'run\tpath\tsender\treceiver\tsent_pps\treceived_pps\n' >"$out"
for r in $(seq "$RUNS"); do
	for p in "veth h1 h1" "new h1 h2" "old h3 h4"; do
		set -- $p
		res=$(flood "$@")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$1" "$2" "$3" ${res% *} ${res#* } >>"$out"
		tail -1 "$out"
	done
done
plot
