#!/bin/sh
# A direct LAN's switch (materialize/lanswitch.h) against the Linux bridge
# it replaced (docs/benchmarks.md, "LANs without bridges"), side by side in
# one run, alternating, RUNS times (median):
#   1. data plane on a LAN of three nodes: UDP packets per second (18-byte
#      payloads, unpaced sendmmsg, build/udpbench), TCP throughput (iperf3,
#      one flow) and ping RTT, n0 to n1
#   2. teardown: the kernel's work after `vtb down` of 100 LANs of three
#      (bench/lib.sh's kernel_done), and `vtb up` of the same
# The bridge is vtb before the switch: VTB_REF names that binary (required).
# Writes bench/out/lan.tsv. Needs root.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
ub=$PWD/${UDPBENCH:-build/udpbench}
RUNS=${RUNS:-5}
[ -n "${VTB_REF:-}" ] || { echo "bench: VTB_REF=path/to/vtb-with-bridges is required" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "bench: iperf3 is missing; run scripts/deps.sh bench" >&2; exit 2; }
out=bench/out
mkdir -p "$out"
work=$(mktemp -d /tmp/vtblan.XXXXXX)
export VTB_STATE_DIR=$work/state
cleanup() {
	down_all "$vtb" "$VTB_REF"
	rm -rf "$work"
}
trap cleanup EXIT

# bin CONF: the binary of a configuration (switch: this vtb, bridge: VTB_REF)
bin() { case $1 in switch) echo "$vtb" ;; *) echo "$VTB_REF" ;; esac; }
# jnum FILE KEY: the number after "KEY": (the first one)
jnum() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }

cat >"$work/lan3.vtb" <<'M'
# privileged: udpbench runs from this checkout, which a node's own /tmp would hide
n = []
for i in range(3):
    n.append(topo.device('n' + str(i), privileged == true))
topo.connect(n, name='lan')
M
{
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "for i in range(100):"
	echo "    topo.connect([h[i], h[(i + 1) % 100], h[(i + 2) % 100]], name='lan' + str(i + 1))"
	echo "topo.spec(routing == false)"
} >"$work/lan100.vtb"

: >"$work/res"
echo "lan bench 1: data plane on a LAN of three (n0 -> n1)"
for c in switch bridge; do
	(vtb=$(bin $c); vtb_up "$work/lan3.vtb" "lan-$c" >/dev/null)
done
for i in $(seq "$RUNS"); do
	for c in switch bridge; do
		b=$(bin $c)
		"$b" exec "lan-$c" n1 -- "$ub" recv --port 9000 --idle-ms 500 >"$work/recv" 2>&1 &
		rp=$!
		sleep 0.3
		"$b" exec "lan-$c" n0 -- "$ub" send --to 10.0.0.2:9000 --duration 3 >"$work/send" 2>&1
		wait $rp
		echo "$c pps $(jnum "$work/recv" pps)" >>"$work/res"
		"$b" exec "lan-$c" n1 -- iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
		sp=$!
		sleep 0.3
		"$b" exec "lan-$c" n0 -- iperf3 -c 10.0.0.2 -p 5201 -t 3 -J >"$work/tcp" 2>/dev/null || true
		wait $sp || true
		echo "$c tcp_gbps $(sed -n 's/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/\1/p' "$work/tcp" | tail -n 1 |
			awk '{ printf "%.3f", $1 / 1e9 }')" >>"$work/res"
		echo "$c rtt_ms $("$b" exec "lan-$c" n0 -- ping -c 20 -i 0.05 -q 10.0.0.2 |
			sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')" >>"$work/res"
		echo "bench: round $i $c: $(grep "^$c " "$work/res" | tail -n 3 | awk '{ printf "%s %s  ", $2, $3 }')"
	done
done
for c in switch bridge; do (vtb=$(bin $c); vtb_down "lan-$c"); done

echo "lan bench 2: vtb up and the kernel's work after vtb down, 100 LANs of three"
for i in $(seq "$RUNS"); do
	for c in switch bridge; do
		settle >/dev/null
		b=$(bin $c)
		t0=$(now)
		(vtb=$b; vtb_up "$work/lan100.vtb" "l100-$c" >/dev/null)
		t1=$(now)
		t2=$(now)
		(vtb=$b; vtb_down "l100-$c")
		t3=$(now)
		t4=$(kernel_done "$t3")
		echo "$c up_s $(ms "$t0" "$t1")" >>"$work/res"
		echo "$c down_s $(ms "$t2" "$t3")" >>"$work/res"
		echo "$c tail_s $(ms "$t3" "$t4")" >>"$work/res"
		echo "bench: round $i $c: up $(ms "$t0" "$t1") s, down $(ms "$t2" "$t3") s, kernel after it $(ms "$t3" "$t4") s"
	done
done

printf 'conf\tmetric\truns\tmedian\tmin\tmax\n' >"$out/lan.tsv"
for c in switch bridge; do
	for k in pps tcp_gbps rtt_ms up_s down_s tail_s; do
		awk -v c=$c -v k=$k '$1 == c && $2 == k { print $3 }' "$work/res" >"$work/v"
		set -- $(stats "$work/v")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$k" "$(wc -l <"$work/v")" "$1" "$2" "$3" >>"$out/lan.tsv"
	done
done
column -t -s "$(printf '\t')" "$out/lan.tsv"
echo "bench: wrote $out/lan.tsv"
