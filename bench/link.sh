#!/bin/sh
# The link emulator's benchmarks (docs/benchmarks.md, "Link emulator"):
#   1. packets per second, zero-impairment emulated link vs direct veth
#   2. a chain of 10 nodes, emulated links vs direct links, and the same
#      chain with 1 ms per hop (the impaired chain)
#   3. delay accuracy at 10 kpps through latency == ms(10) (CDF plot)
#   4. rate accuracy at 1, 10, 100 and 1000 Mbit/s
#   5. isolation: one link offered 10x its capacity beside a delayed one
# Every comparison runs side by side in one run, alternating, RUNS times
# (median). Traffic: build/udpbench (sendmmsg sender, recvmmsg receiver with
# kernel receive timestamps) between nodes' namespaces. Needs root.
# VTB_REF=path/to/an/older/vtb adds, in parts 1 and 2, the zero-impairment
# link and chain brought up and run by that binary (before/after in one run).
# DELAY_RUNS (default 10): part 3 runs the delayed flow that many more times
# and reports the spread of the median and p99 error over them.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
ub=$PWD/${UDPBENCH:-build/udpbench}
RUNS=${RUNS:-5}
DELAY_RUNS=${DELAY_RUNS:-10}  # part 3: runs of the delayed flow for the p99's spread
VTB_REF=${VTB_REF:-}
ref=${VTB_REF:+ref}  # the name of the reference configuration, when there is one
PARTS=${PARTS:-1 2 3 4 5}  # which of the five to run
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
out=$PWD/bench/out/link  # absolute: a node runs its commands in its own / (docs/cli.md)
img=docs/img
mkdir -p "$out" "$img"
work=$(mktemp -d /tmp/vtblink.XXXXXX)
export VTB_STATE_DIR=$work/state
cleanup() {
	for n in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$n" >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# jnum FILE KEY: the number after "KEY": (the first one)
jnum() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }
# jdelay FILE KEY: a delay_us field
jdelay() { sed -n "s/.*\"delay_us\":{.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }

# model NAME LINKPROPS [N]: a chain of N nodes (default 2) with LINKPROPS on every link
model() {
	f=$work/$1.vtb
	{
		echo "n = []"
		echo "for i in range(${3:-2}):"
		# privileged: the measuring programs write their delays into
		# $out on the host and the paced sender runs SCHED_FIFO, which an
		# isolated node cannot (docs/nodes.md)
		echo "    n.append(topo.device('n' + str(i), privileged == true))"
		echo "for i in range(${3:-2} - 1):"
		if [ -n "$2" ]; then
			echo "    topo.connect([n[i], n[i + 1]], $2)"
		else
			echo "    topo.connect([n[i], n[i + 1]])"
		fi
	} >"$f"
	echo "$f"
}

# The emulator's thread runs on the last core; the measuring programs of
# the timing benchmarks run on core 0, the paced sender SCHED_FIFO, so that
# their own scheduling noise stays out of the measurement (the direct veth
# baseline is measured the same way). PIN= leaves them to the scheduler.
PIN=""
pinned() { PIN=1; }
unpinned() { PIN=""; }
rx_pre() { [ -n "$PIN" ] && echo "taskset -c 0"; true; }
tx_pre() { [ -n "$PIN" ] && echo "taskset -c 0 chrt -f 20"; true; }

# vtb_for EXP: the binary that runs EXP (VTB_REF for the reference ones, named *ref)
vtb_for() { case $1 in *ref) echo "$VTB_REF" ;; *) echo "$vtb" ;; esac; }
# ref_up MODEL NAME: vtb_up with the reference binary
ref_up() { (vtb=$VTB_REF; vtb_up "$1" "$2"); }

# flow EXP FROM TO ADDR TAG "SEND ARGS" "RECV ARGS": one measured flow;
# results in $work/TAG.send, $work/TAG.recv
flow() {
	"$(vtb_for "$1")" exec "$1" "$3" -- $(rx_pre) "$ub" recv --port 9000 $7 >"$work/$5.recv" 2>&1 &
	_rp=$!
	sleep 0.3
	"$(vtb_for "$1")" exec "$1" "$2" -- $(tx_pre) "$ub" send --to "$4:9000" $6 >"$work/$5.send" 2>&1
	wait $_rp
}

# The CDF of the delay error, with the direct veth's own one-way delay as
# the floor of what the sockets can measure (log scale: the tail matters).
plot_delay() {
	awk '{ v = $1 < 0.1 ? 0.1 : $1; print v, NR / n }' n="$(wc -l <"$out/delay-err.txt")" \
		"$out/delay-err.txt" >"$out/delay-cdf.dat"
	awk '{ v = $1 < 0.1 ? 0.1 : $1; print v, NR / n }' n="$(wc -l <"$out/delay-direct-sorted.txt")" \
		"$out/delay-direct-sorted.txt" >"$out/delay-direct-cdf.dat"
	command -v gnuplot >/dev/null || return 0
	gnuplot <<G
set terminal pngcairo size 800,480 noenhanced
set output '$img/link-delay-cdf.png'
set title 'Delay error through latency == ms(10) at 10 kpps (one-way, at the sockets)'
set xlabel 'microseconds (log scale)'
set ylabel 'fraction of packets'
set logscale x
set xrange [1:*]
set grid
set key bottom right
set arrow from 20, graph 0 to 20, graph 1 nohead dt 2
set arrow from 100, graph 0 to 100, graph 1 nohead dt 2
plot '$out/delay-cdf.dat' using 1:2 with lines lw 2 title 'vtb: measured delay - 10 ms', \
     '$out/delay-direct-cdf.dat' using 1:2 with lines lw 2 title 'direct veth: measured delay (the floor)'
G
}
[ "${1:-}" = plot ] && { plot_delay; exit 0; }

if part 1; then
# ---- 1. pps: direct veth vs zero-impairment emulated link ----
echo "link bench 1: packets per second, 18-byte UDP payloads, unpaced sendmmsg"
vtb_up "$(model direct '')" direct >/dev/null
vtb_up "$(model emu0 'latency == 0')" emu0 >/dev/null
# the same link through the emulator's user-space path (bypass off), as before
export VTB_EMU_BYPASS=0
vtb_up "$(model emu0u 'latency == 0')" emu0u >/dev/null
unset VTB_EMU_BYPASS
# bypassed without steering to the receiver's core (docs/link-emulator.md, "Cores")
export VTB_EMU_STEER=0
vtb_up "$(model emu0ns 'latency == 0')" emu0ns >/dev/null
unset VTB_EMU_STEER
[ -n "$ref" ] && ref_up "$(model emu0ref 'latency == 0')" emu0ref >/dev/null
: >"$out/pps.txt"
for i in $(seq "$RUNS"); do
	for e in direct emu0 emu0u emu0ns ${ref:+emu0ref}; do
		flow "$e" n0 n1 10.0.0.2 "pps-$e" "--duration 3" "--idle-ms 500"
		echo "$e $(jnum "$work/pps-$e.recv" pps) $(jnum "$work/pps-$e.send" pps)" >>"$out/pps.txt"
	done
done
vtb_down direct
vtb_down emu0
vtb_down emu0u
vtb_down emu0ns
[ -n "$ref" ] && vtb_down emu0ref
for e in direct emu0 emu0u emu0ns ${ref:+emu0ref}; do awk -v e=$e '$1 == e { print $2 }' "$out/pps.txt" >"$work/p.$e"; done
pd=$(stats "$work/p.direct" | cut -d' ' -f1)
pe=$(stats "$work/p.emu0" | cut -d' ' -f1)
pu=$(stats "$work/p.emu0u" | cut -d' ' -f1)
pn=$(stats "$work/p.emu0ns" | cut -d' ' -f1)
echo "  direct veth   $pd pps received (median of $RUNS)"
echo "  emulated      $pe pps received: $(awk -v a="$pe" -v b="$pd" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (target 90%)"
echo "  no bypass     $pu pps received: $(awk -v a="$pu" -v b="$pd" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (VTB_EMU_BYPASS=0)"
echo "  not steered   $pn pps received: $(awk -v a="$pn" -v b="$pd" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (VTB_EMU_STEER=0)"
if [ -n "$ref" ]; then
	pr=$(stats "$work/p.emu0ref" | cut -d' ' -f1)
	echo "  reference     $pr pps received: $(awk -v a="$pr" -v b="$pd" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct ($VTB_REF)"
fi
fi

if part 2; then
# ---- 2. chain of 10 ----
echo "link bench 2: a chain of 10 nodes, n0 -> n9, 9 links"
vtb_up "$(model chain-direct '' 10)" chaind >/dev/null
vtb_up "$(model chain-emu 'latency == 0' 10)" chaine >/dev/null
export VTB_EMU_BYPASS=0
vtb_up "$(model chain-emu-u 'latency == 0' 10)" chainu >/dev/null
unset VTB_EMU_BYPASS
export VTB_EMU_STEER=0
vtb_up "$(model chain-emu-ns 'latency == 0' 10)" chainns >/dev/null
unset VTB_EMU_STEER
vtb_up "$(model chain-imp 'latency == ms(1)' 10)" chaini >/dev/null
# the same with two data-plane threads (links spread over both cores)
export VTB_EMU_THREADS=2
vtb_up "$(model chain-imp2 'latency == ms(1)' 10)" chaini2 >/dev/null
unset VTB_EMU_THREADS
[ -n "$ref" ] && ref_up "$(model chain-ref 'latency == 0' 10)" chainref >/dev/null
: >"$out/chain.txt"
for i in $(seq "$RUNS"); do
	for e in chaind chaine chainu chainns chaini chaini2 ${ref:+chainref}; do
		flow "$e" n0 n9 10.0.8.2 "chain-$e" "--duration 3" "--idle-ms 500"
		echo "$e $(jnum "$work/chain-$e.recv" pps)" >>"$out/chain.txt"
	done
	# the round trip at rest (100 echoes, 5 ms apart): steering is for floods only
	for e in chaind chaine chainns; do
		echo "rtt-$e $("$vtb" exec "$e" n0 -- ping -q -c 100 -i 0.005 10.0.8.2 |
			sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')" >>"$out/chain.txt"
	done
done
vtb_down chaind
vtb_down chaine
vtb_down chainu
vtb_down chainns
vtb_down chaini
vtb_down chaini2
[ -n "$ref" ] && vtb_down chainref
for e in chaind chaine chainu chainns chaini chaini2 ${ref:+chainref} rtt-chaind rtt-chaine rtt-chainns; do
	awk -v e=$e '$1 == e { print $2 }' "$out/chain.txt" >"$work/c.$e"
done
cd_=$(stats "$work/c.chaind" | cut -d' ' -f1)
ce=$(stats "$work/c.chaine" | cut -d' ' -f1)
cu=$(stats "$work/c.chainu" | cut -d' ' -f1)
cn=$(stats "$work/c.chainns" | cut -d' ' -f1)
ci=$(stats "$work/c.chaini" | cut -d' ' -f1)
ci2=$(stats "$work/c.chaini2" | cut -d' ' -f1)
echo "  direct links   $cd_ pps"
echo "  no bypass      $cu pps: $(awk -v a="$cu" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (VTB_EMU_BYPASS=0)"
echo "  not steered    $cn pps: $(awk -v a="$cn" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (VTB_EMU_STEER=0)"
echo "  ping at rest   direct $(stats "$work/c.rtt-chaind" | cut -d' ' -f1) ms, emulated $(stats "$work/c.rtt-chaine" | cut -d' ' -f1) ms, not steered $(stats "$work/c.rtt-chainns" | cut -d' ' -f1) ms (average round trip n0 -> n9, median of $RUNS)"
echo "  1 ms per hop   $ci pps: $(awk -v a="$ci" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (every hop in the emulator)"
echo "  1 ms, 2 threads $ci2 pps: $(awk -v a="$ci2" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (VTB_EMU_THREADS=2)"
if [ -n "$ref" ]; then
	cr=$(stats "$work/c.chainref" | cut -d' ' -f1)
	echo "  reference      $cr pps: $(awk -v a="$cr" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct ($VTB_REF)"
fi
echo "  emulated links $ce pps: $(awk -v a="$ce" -v b="$cd_" 'BEGIN { printf "%.1f%%", 100 * a / b }') of direct (target 50% and 120000 pps); Qemunet's ns-3 in the loop: 40000 pps ($(awk -v a="$ce" 'BEGIN { printf "%.1fx", a / 40000 }'))"
fi

if part 3; then
# ---- 3. delay accuracy ----
echo "link bench 3: delay accuracy, latency == ms(10), 10 kpps for 5 s, 64-byte payloads"
pinned
vtb_up "$(model lat10 'latency == ms(10)')" lat10 >/dev/null
vtb_up "$(model lat0 '')" lat0 >/dev/null
flow lat0 n0 n1 10.0.0.2 delay-direct "--pps 10000 --duration 5 --size 64" \
	"--idle-ms 1000 --warmup 1000 --delays $out/delay-direct.txt"
flow lat10 n0 n1 10.0.0.2 delay-emu "--pps 10000 --duration 5 --size 64" \
	"--idle-ms 1000 --warmup 1000 --delays $out/delay-emu.txt"
# DELAY_RUNS more runs of the emulated flow: the p99's spread (the issue's ten)
: >"$out/delay-runs.txt"
for i in $(seq "$DELAY_RUNS"); do
	flow lat10 n0 n1 10.0.0.2 delay-emu-r "--pps 10000 --duration 5 --size 64" \
		"--idle-ms 1000 --warmup 1000 --delays $out/delay-r.txt"
	tail -n +1001 "$out/delay-r.txt" | awk '{ printf "%.3f\n", $1 - 10000 }' | sort -g >"$work/delay-r-err.txt"
	echo "$(awk '{ v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		print v[i50], v[i99], v[NR] }' "$work/delay-r-err.txt") $(jnum "$work/delay-emu-r.recv" lost)" >>"$out/delay-runs.txt"
done
vtb_down lat10
vtb_down lat0
unpinned
# error = measured one-way delay - 10 ms (the veth's own few us included)
tail -n +1001 "$out/delay-emu.txt" | awk '{ printf "%.3f\n", $1 - 10000 }' | sort -g >"$out/delay-err.txt"
tail -n +1001 "$out/delay-direct.txt" | sort -g >"$out/delay-direct-sorted.txt"
pct() { awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }' "$1"; }
abs_err=$work/abs.txt
awk '{ print ($1 < 0 ? -$1 : $1) }' "$out/delay-err.txt" | sort -g >"$abs_err"
echo "  direct veth one-way delay: median $(pct "$out/delay-direct-sorted.txt" 50) us, p99 $(pct "$out/delay-direct-sorted.txt" 99) us"
echo "  emulated: error median $(pct "$out/delay-err.txt" 50) us, p99 $(pct "$out/delay-err.txt" 99) us, max $(pct "$out/delay-err.txt" 100) us; |error| median $(pct "$abs_err" 50) us, p99 $(pct "$abs_err" 99) us (targets 20 / 100 us)"
echo "  lost $(jnum "$work/delay-emu.recv" lost), reordered $(jnum "$work/delay-emu.recv" reordered) of $(jnum "$work/delay-emu.recv" received)"
if [ "$DELAY_RUNS" -gt 0 ]; then
	awk '{ print $1 }' "$out/delay-runs.txt" >"$work/d50"
	awk '{ print $2 }' "$out/delay-runs.txt" >"$work/d99"
	echo "  $DELAY_RUNS more runs, error median / p99 / max (us) and lost: $(awk '{ printf "%s%s/%s/%s %s", (NR > 1 ? "; " : ""), $1, $2, $3, $4 }' "$out/delay-runs.txt")"
	echo "  over those runs: median $(stats "$work/d50" | awk '{ print $1 " (" $2 "-" $3 ")" }') us, p99 $(stats "$work/d99" | awk '{ print $1 " (" $2 "-" $3 ")" }') us (median of the runs, min-max; targets 20 / 100 us)"
fi
plot_delay
fi

if part 4; then
# ---- 4. rate accuracy ----
echo "link bench 4: rate accuracy, 1472-byte payloads (1514-byte frames), offered 120%"
: >"$out/rate.txt"
for mb in 1 10 100 1000; do
	vtb_up "$(model "rate$mb" "capacity == mbps($mb)")" "rate$mb" >/dev/null
	dur=4
	flow "rate$mb" n0 n1 10.0.0.2 "rate$mb" "--rate $((mb * 12 / 10))M --size 1472 --duration $((dur + 1))" \
		"--duration $dur"
	got=$(jnum "$work/rate$mb.recv" bits_per_s)
	err=$(awk -v g="$got" -v m="$mb" 'BEGIN { printf "%+.3f", 100 * (g - m * 1e6) / (m * 1e6) }')
	echo "$mb $got $err" >>"$out/rate.txt"
	echo "  capacity $mb Mbit/s: received $(awk -v g="$got" 'BEGIN { printf "%.4f", g / 1e6 }') Mbit/s of frames ($err%, target 1%)"
	vtb_down "rate$mb"
done
fi

if part 5; then
# ---- 5. isolation ----
echo "link bench 5: isolation: link A capacity 100 Mbit/s offered 1 Gbit/s; link B latency 10 ms at 1 kpps"
f=$work/iso.vtb
# privileged as model()'s nodes: the paced sender runs SCHED_FIFO
cat >"$f" <<'M'
topo.spec(islands == true)
a1 = topo.device('a1', privileged == true)
b1 = topo.device('b1', privileged == true)
a2 = topo.device('a2', privileged == true)
b2 = topo.device('b2', privileged == true)
topo.connect([a1, b1], capacity == mbps(100))
topo.connect([a2, b2], latency == ms(10))
M
vtb_up "$f" iso >/dev/null
pinned
# B alone
flow iso a2 b2 10.0.1.2 iso-alone "--pps 1000 --duration 6 --size 64" "--idle-ms 1000 --warmup 100"
# B while A is flooded at 10x its capacity
"$vtb" exec iso b1 -- "$ub" recv --port 9000 --duration 6 >"$work/iso-a.recv" 2>&1 &
ra=$!
sleep 0.3
"$vtb" exec iso a1 -- "$ub" send --to 10.0.0.2:9000 --rate 1G --size 1472 --duration 7 >"$work/iso-a.send" 2>&1 &
sa=$!
sleep 0.5
flow iso a2 b2 10.0.1.2 iso-loaded "--pps 1000 --duration 6 --size 64" "--idle-ms 1000 --warmup 100"
wait $sa $ra || true
unpinned
"$vtb" status iso >"$out/iso-status.txt"
vtb_down iso
{
	echo "| link B (latency 10 ms, 1 kpps) | received | lost | delay error median (us) | p99 (us) | max (us) |"
	echo "|---|---|---|---|---|---|"
	for t in alone loaded; do
		r=$work/iso-$t.recv
		echo "| $t | $(jnum "$r" received) | $(jnum "$r" lost) | $(awk -v v="$(jdelay "$r" median)" 'BEGIN { printf "%.1f", v - 10000 }') | $(awk -v v="$(jdelay "$r" p99)" 'BEGIN { printf "%.1f", v - 10000 }') | $(awk -v v="$(jdelay "$r" max)" 'BEGIN { printf "%.1f", v - 10000 }') |"
	done
	echo
	echo "link A: offered $(awk -v p="$(jnum "$work/iso-a.send" pps)" 'BEGIN { printf "%.0f", p * 1514 * 8 / 1e6 }') Mbit/s, received $(awk -v g="$(jnum "$work/iso-a.recv" bits_per_s)" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s (capacity 100)"
} >"$out/isolation.md"
sed 's/^/  /' "$out/isolation.md"
fi
