#!/bin/bash
# The cluster against one host (docs/benchmarks.md, "Many hosts"): a ring of
# 900 container nodes brought up and down on this machine alone, and the
# same model across three simulated hosts (scripts/simhosts.sh: 300 nodes
# each, links between hosts over VXLAN), alternating, BENCH_RUNS times.
# Target (DESIGN.md): the cluster's `vtb up` within 1.5x of one host's. All
# three simulated hosts share this machine's 2 cores, so the cluster cannot
# be faster than one host here: the figure is the cost of the cluster's
# machinery (etcd, placement, agents, VXLAN), not its gain. Also counted:
# etcd's requests per node brought up (grpc_server_started_total of etcd's
# /metrics before and after one vtb up).
# Packets per second between hosts: bench/cluster_pps.sh.
# Writes bench/out/cluster.tsv. Environment:
# VTB (default ./vtb), BENCH_RUNS (default 3), BENCH_NODES (default 900).
#
# `bench/cluster.sh many`: many hosts instead (docs/benchmarks.md, "Many
# hosts"): BENCH_HOSTS simulated hosts (default 8) and a ring of
# BENCH_PER_HOST nodes per host (default 500), `vtb up` from h1 and `vtb
# down` from h2, BENCH_RUNS times: the times, etcd's requests and bytes
# (grpc_server_started_total and etcd_network_client_grpc_{received,sent}
# _bytes_total of its /metrics) for the up and for the down, and the agents'
# memory (VmRSS) idle and with the experiment up. Writes
# bench/out/cluster_many.tsv; a `vtb up` that fails is a row saying why.
set -eu
cd "$(dirname "$0")/.."
VTB=${VTB:-./vtb}
RUNS=${BENCH_RUNS:-3}
N=${BENCH_NODES:-900}
SIM=scripts/simhosts.sh
ETCD=http://10.99.0.254:2379
mkdir -p bench/out
model=bench/out/cluster-ring$N.vtb
awk -v n="$N" 'BEGIN {
	printf "n = []\nfor i in range(%d):\n    n.append(topo.device(\047n\047 + str(i)))\n", n
	printf "for i in range(%d):\n    topo.connect([n[i], n[(i + 1) %% %d]])\n", n, n }' >"$model"
out=bench/out/cluster.tsv
now() { date +%s.%N; }
on() { h=$1; shift; "$SIM" exec "$h" -- "$@"; }
requests() { on h1 curl -s "$ETCD/metrics" | awk '/^grpc_server_started_total/ { s += $2 } END { print s + 0 }'; }

# etcd_bytes: the bytes etcd received and sent to clients, "in out"
etcd_bytes() {
	on h1 curl -s "$ETCD/metrics" | awk '/^etcd_network_client_grpc_received_bytes_total/ { i += $2 }
		/^etcd_network_client_grpc_sent_bytes_total/ { o += $2 } END { printf "%d %d\n", i, o }'
}

# agents_rss: the agents' VmRSS in KiB, "sum max"
agents_rss() {
	for f in /var/lib/vtb-sim/h*/agent.pid; do
		read -r p _ <"$f"
		awk '/^VmRSS/ { print $2 }' "/proc/$p/status"
	done | awk '{ s += $1; if ($1 > m) m = $1 } END { print s, m }'
}

# many: BENCH_HOSTS hosts x BENCH_PER_HOST nodes (see the top)
many() {
	hosts=${BENCH_HOSTS:-8}
	per=${BENCH_PER_HOST:-500}
	n=$((hosts * per))
	model=bench/out/cluster-many$n.vtb
	awk -v n="$n" 'BEGIN {
		printf "n = []\nfor i in range(%d):\n    n.append(topo.device(\047n\047 + str(i)))\n", n
		printf "for i in range(%d):\n    topo.connect([n[i], n[(i + 1) %% %d]])\n", n, n }' >"$model"
	trap '"$SIM" down >/dev/null 2>&1' EXIT
	"$SIM" up "$hosts" >/dev/null
	on h1 "$VTB" cluster init --etcd "$ETCD" >/dev/null
	for h in $(seq -f 'h%g' 2 "$hosts"); do on "$h" "$VTB" cluster join --etcd "$ETCD" >/dev/null; done
	for h in $(seq -f 'h%g' 1 "$hosts"); do "$SIM" start-agent "$h" >/dev/null; done
	for i in $(seq 100); do on h1 "$VTB" cluster status | grep -q "$hosts alive" && break; sleep 0.2; done
	mout=bench/out/cluster_many.tsv
	printf 'run\thosts\tnodes\tup_s\tdown_s\tcross_links\tup_requests\tup_bytes_in\tup_bytes_out\tdown_requests\tdown_bytes_in\tdown_bytes_out\tagents_rss_idle_kib\tagents_rss_up_kib\tagent_rss_up_max_kib\n' >"$mout"
	for r in $(seq "$RUNS"); do
		rss0=$(agents_rss)
		q0=$(requests); b0=$(etcd_bytes)
		t0=$(now)
		if ! o=$(on h1 "$VTB" up "$model" --name bench-many 2>&1); then
			# past what etcd takes (docs/cluster.md, "Scale"): say why
			printf '%s\t%s\t%s\tfailed: %s\n' "$r" "$hosts" "$n" "$(printf '%s\n' "$o" | grep 'vtb: up' | head -1)" >>"$mout"
			tail -1 "$mout"
			continue
		fi
		t1=$(now)
		q1=$(requests); b1=$(etcd_bytes)
		rss1=$(agents_rss)
		on h2 "$VTB" down bench-many >/dev/null; t2=$(now)
		q2=$(requests); b2=$(etcd_bytes)
		cross=$(printf '%s\n' "$o" | sed -n 's/.*(\([0-9]*\) between hosts).*/\1/p')
		set -- $b0 $b1 $b2 $rss0 $rss1
		printf '%s\t%s\t%s\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$hosts" "$n" \
			"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "${cross:-?}" "$((q1 - q0))" \
			"$(($3 - $1))" "$(($4 - $2))" "$((q2 - q1))" "$(($5 - $3))" "$(($6 - $4))" "$7" "$9" "${10}" >>"$mout"
		tail -1 "$mout"
	done
}

if [ "${1:-}" = many ]; then
	many
	exit 0
fi

trap '"$SIM" down >/dev/null 2>&1; $VTB down bench-one >/dev/null 2>&1 || true' EXIT
"$SIM" up 3 >/dev/null
on h1 "$VTB" cluster init --etcd "$ETCD" >/dev/null
for h in h2 h3; do on $h "$VTB" cluster join --etcd "$ETCD" >/dev/null; done
for h in h1 h2 h3; do "$SIM" start-agent $h >/dev/null; done
for i in $(seq 50); do on h1 "$VTB" cluster status | grep -q "3 alive" && break; sleep 0.2; done

printf 'run\twhere\tnodes\tup_s\tdown_s\tcross_links\tetcd_requests\n' >"$out"
for r in $(seq "$RUNS"); do
	t0=$(now); $VTB up "$model" --name bench-one >/dev/null; t1=$(now)
	$VTB down bench-one >/dev/null; t2=$(now)
	printf '%s\tone host\t%s\t%.3f\t%.3f\t0\t-\n' "$r" "$N" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" >>"$out"
	q0=$(requests)
	t0=$(now); o=$(on h1 "$VTB" up "$model" --name bench-cl 2>/dev/null); t1=$(now)
	q1=$(requests)
	on h2 "$VTB" down bench-cl >/dev/null; t2=$(now)
	cross=$(printf '%s\n' "$o" | sed -n 's/.*(\([0-9]*\) between hosts).*/\1/p')
	printf '%s\t3 simulated hosts\t%s\t%.3f\t%.3f\t%s\t%s\n' "$r" "$N" "$(echo "$t1 - $t0" | bc)" \
		"$(echo "$t2 - $t1" | bc)" "${cross:-?}" "$((q1 - q0))" >>"$out"
	tail -2 "$out"
done
