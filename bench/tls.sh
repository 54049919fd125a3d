#!/bin/bash
# The cost of TLS on control operations (docs/benchmarks.md, "TLS on
# control operations"): the same operations on three simulated hosts
# whose etcd is reached over http:// and over https:// with client
# certificates, the two alternating (BENCH_ROUNDS rounds of each, the
# hosts made anew for each round), BENCH_RUNS times each operation per
# round, from h1:
#   status   vtb status (the cluster's experiments: etcd reads)
#   exec     vtb exec r c -- true, c on h3 (the relay: TCP, TLS 1.3 with
#            both hosts' certificates, a session process on h3)
#   linkset  vtb link set r bc latency=..., bc between h2 and h3 (the
#            relay to both)
#   up       vtb up of a 3-node experiment across h1, h2, h3
#   down     vtb down of it
# The relay has no plain mode: on http:// the hosts still have their
# certificates (and the relay its TLS); what differs is etcd's TLS, which
# every operation meets (each vtb opens etcd anew: a TCP and TLS handshake,
# then its requests). exec-local (vtb exec of a node on h1 itself: no
# relay) is the reference for the relay's own cost. Writes
# bench/out/tls.tsv (mode, operation, median, min, max in ms). Environment:
# VTB (default ./vtb), BENCH_RUNS (default 7), BENCH_ROUNDS (default 2).
# Needs root, etcd-server; run it under /tmp/vtb-system.lock.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
VTB=$(readlink -f "${VTB:-./vtb}")
RUNS=${BENCH_RUNS:-7}
ROUNDS=${BENCH_ROUNDS:-2}
SIM=scripts/simhosts.sh
work=$(mktemp -d /tmp/vtb-bench-tls.XXXXXX)
chmod 755 "$work"
trap 'VTB=$VTB $SIM down >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir -p bench/out
out=bench/out/tls.tsv
on() { h=$1; shift; VTB="$VTB" "$SIM" exec "$h" -- "$@"; }

"$VTB" cluster ca --dir "$work/ca" >/dev/null
"$VTB" cluster cert etcd --underlay 10.99.0.254 --ca "$work/ca" -o "$work/ca/etcd.pem" >/dev/null
for i in 1 2 3; do
	"$VTB" cluster cert h$i --underlay 10.99.0.$i --ca "$work/ca" -o "$work/h$i.pem" >/dev/null
done
cat >"$work/r.vtb" <<'M'
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h3')
topo.connect([a, b], name='ab')
topo.connect([b, c], latency == ms(5), name='bc')
M
cp "$work/r.vtb" "$work/u.vtb"

# timed MODE OP CMD...: CMD on h1 RUNS times, each one's ms appended to
# $work/MODE-OP
timed() {
	_f="$work/$1-$2"
	shift 2
	on h1 bash -c 'for i in $(seq '"$RUNS"'); do s=$(date +%s%N); "$@" >/dev/null 2>&1 ||
		{ echo FAILED: "$@" >&2; exit 1; }; e=$(date +%s%N); echo $(((e - s) / 1000)); done' _ "$@" |
		awk '{ printf "%.3f\n", $1 / 1000 }' >>"$_f"
}

# round MODE: the hosts with etcd over MODE (http or https), the cluster,
# experiment r, then each operation RUNS times
round() {
	if [ "$1" = https ]; then
		VTBSIM_ETCD_TLS="$work/ca" VTB="$VTB" "$SIM" up 3 >/dev/null
	else
		VTB="$VTB" "$SIM" up 3 >/dev/null
	fi
	etcd=$1://10.99.0.254:2379
	on h1 "$VTB" cluster init --etcd "$etcd" --bundle "$work/h1.pem" >/dev/null
	for h in h2 h3; do on $h "$VTB" cluster join --etcd "$etcd" --bundle "$work/$h.pem" >/dev/null; done
	for h in h1 h2 h3; do "$SIM" start-agent $h >/dev/null; done
	until [ "$(on h1 "$VTB" cluster status | grep -c 'alive since')" = 3 ]; do sleep 0.2; done
	on h1 "$VTB" up "$work/r.vtb" --name r >/dev/null 2>&1
	timed "$1" status "$VTB" status
	timed "$1" exec "$VTB" exec r c -- true
	timed "$1" exec-local "$VTB" exec r a -- true
	timed "$1" linkset "$VTB" link set r bc latency=7ms
	for i in $(seq "$RUNS"); do
		s=$(now)
		on h1 "$VTB" up "$work/u.vtb" --name u >/dev/null 2>&1
		m=$(now)
		on h1 "$VTB" down u >/dev/null 2>&1
		e=$(now)
		echo "$(ms "$s" "$m") * 1000" | bc >>"$work/$1-up"
		echo "$(ms "$m" "$e") * 1000" | bc >>"$work/$1-down"
	done
	on h1 "$VTB" down r >/dev/null 2>&1
	VTB="$VTB" "$SIM" down >/dev/null
}

for k in $(seq "$ROUNDS"); do
	echo "round $k of $ROUNDS: http, then https" >&2
	round http
	round https
done
printf 'mode\top\tmedian_ms\tmin_ms\tmax_ms\n' >"$out"
for op in status exec exec-local linkset up down; do
	for mode in http https; do
		printf '%s\t%s\t%s\n' "$mode" "$op" "$(stats "$work/$mode-$op" | tr ' ' '\t')" >>"$out"
	done
done
column -t "$out"
