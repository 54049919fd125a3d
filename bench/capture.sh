#!/bin/sh
# Capture's cost on an emulated link (docs/benchmarks.md, "Capture"): the
# delay error of latency == ms(10) at 10 kpps (bench/link.sh part 3's
# measurement) with no capture, with vtb capture taking what leaves the
# emulator (at the receiver's end), and with --ingress (at the sender's
# port), alternating, RUNS times. Needs root.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
ub=$PWD/${UDPBENCH:-build/udpbench}
RUNS=${RUNS:-3}
out=bench/out/capture
mkdir -p "$out"
work=$(mktemp -d /tmp/vtbcapb.XXXXXX)
export VTB_STATE_DIR=$work/state
cap_pid=""
cleanup() {
	[ -n "$cap_pid" ] && kill -INT "$cap_pid" 2>/dev/null
	"$vtb" down lat10 >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/lat10.vtb" <<'M'
n0 = topo.device('n0')
n1 = topo.device('n1')
topo.connect([n0, n1], latency == ms(10), name='l')
M
# the measuring programs on core 0, as in bench/link.sh part 3 (without
# SCHED_FIFO, which node root may not ask for); a node cannot write the
# host's files: the receiver writes its delays into its own /tmp
flow() {
	"$vtb" exec lat10 n1 -- taskset -c 0 "$ub" recv --port 9000 --idle-ms 1000 --warmup 1000 \
		--delays "/tmp/$1.txt" >"$work/$1.recv" 2>&1 &
	_rp=$!
	sleep 0.3
	"$vtb" exec lat10 n0 -- taskset -c 0 "$ub" send --to 10.0.0.2:9000 --pps 10000 \
		--duration 5 --size 64 >"$work/$1.send" 2>&1
	wait $_rp
	"$vtb" exec lat10 n1 -- cat "/tmp/$1.txt" >"$work/$1.txt"
}
# capture MODE: start vtb capture for MODE (none, egress, ingress), wait
# for its "capturing at" line on a fifo
capture() {
	cap_pid=""
	[ "$1" = none ] && return 0
	rm -f "$work/fifo"; mkfifo "$work/fifo"
	"$vtb" capture lat10 l --from n0 $([ "$1" = ingress ] && echo --ingress) \
		-w "$work/$1.pcap" 2>"$work/fifo" &
	cap_pid=$!
	exec 3<"$work/fifo"; read -r _l <&3; cat <&3 >/dev/null & exec 3<&-
}
pct() { sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }'; }

echo "capture bench: delay error of latency == ms(10), 10 kpps for 5 s, 64-byte payloads, $RUNS runs"
vtb_up "$work/lat10.vtb" lat10 >/dev/null
: >"$out/runs.txt"
for i in $(seq "$RUNS"); do
	for mode in none egress ingress; do
		capture "$mode"
		flow "$mode-$i"
		frames=0
		if [ -n "$cap_pid" ]; then
			kill -INT "$cap_pid"; wait "$cap_pid" || true; cap_pid=""
			frames=$(tcpdump -r "$work/$mode.pcap" 2>/dev/null | wc -l)
		fi
		# error = measured one-way delay - 10 ms (the warm-up left out)
		grep -E '^-?[0-9.]+$' "$work/$mode-$i.txt" | awk '{ printf "%.3f\n", $1 - 10000 }' >"$work/err.txt"
		sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$work/$mode-$i.send")
		echo "$mode $(pct "$work/err.txt" 50) $(pct "$work/err.txt" 99) $(pct "$work/err.txt" 100) $sent $frames" >>"$out/runs.txt"
	done
done
vtb_down lat10
echo "  mode     error median  p99      max (us)   frames sent / captured (median of $RUNS)"
for mode in none egress ingress; do
	for k in 2 3 4 5 6; do awk -v m=$mode -v k=$k '$1 == m { print $k }' "$out/runs.txt" >"$work/v$k"; done
	printf '  %-8s %8s %8s %8s %8s / %s\n' "$mode" "$(stats "$work/v2" | cut -d' ' -f1)" \
		"$(stats "$work/v3" | cut -d' ' -f1)" "$(stats "$work/v4" | cut -d' ' -f1)" \
		"$(stats "$work/v5" | cut -d' ' -f1)" "$(stats "$work/v6" | cut -d' ' -f1)"
done
