#!/bin/sh
# A change against the binary before it, side by side in one run
# (docs/benchmarks.md, "Regression check"): bring-up and teardown of
# single,100 and linear,100 (the Mininet benchmark's vtb models) and of a
# 1000-node ring with emulated links (bench/gen_model.sh), and the packets
# per second of a zero-impairment emulated link (bench/link.sh's part 1).
# The two binaries alternate, RUNS times each; the medians are compared.
# usage: OLD=/path/to/old/vtb [NEW=./vtb] [RUNS=5] bench/regress.sh
#        bench/regress.sh plot    (only the plot, from bench/out/regress.tsv)
# Output: bench/out/regress.tsv (case binary phase median min max), a
# summary on standard output and docs/img/regress.png (new/old per case,
# with the min-max range). Needs root.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

# The plot: each case's new median over old's, with new's min and max over
# old's median as the error bar (1.0 = no change).
plot() {
	command -v gnuplot >/dev/null || { echo "bench: gnuplot is missing (scripts/deps.sh bench)" >&2; return 0; }
	mkdir -p docs/img
	awk -F'\t' 'NR > 1 { k = $1 " " $3; if ($2 == "old") o[k] = $4; else { n[k] = $4; lo[k] = $5; hi[k] = $6; order[++c] = k } }
		END { for (i = 1; i <= c; i++) { k = order[i]; printf "\"%s\"\t%f\t%f\t%f\n", k, n[k] / o[k], lo[k] / o[k], hi[k] / o[k] } }' \
		bench/out/regress.tsv >bench/out/regress.dat
	gnuplot <<G
set terminal pngcairo size 800,420 noenhanced
set output 'docs/img/regress.png'
set title 'This change against the binary before it: new median / old median (bars: new min-max)'
set ylabel 'new / old (times: lower is faster; pps: higher)'
set yrange [0.5:1.5]
set grid ytics
set xtics rotate by -30
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
set style fill solid 0.5
set boxwidth 0.6
plot 'bench/out/regress.dat' using 0:2:xtic(1) with boxes notitle, \
     '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 notitle
G
}
[ "${1:-}" = plot ] && { plot; exit 0; }
old=${OLD:?give OLD=/path/to/the/previous/vtb}
new=${NEW:-$PWD/vtb}
RUNS=${RUNS:-5}
ub=$PWD/${UDPBENCH:-build/udpbench}
out=bench/out
mkdir -p "$out"
work=$(mktemp -d /tmp/vtbregress.XXXXXX)
export VTB_STATE_DIR=$work/state
vtb=$new
cleanup() {
	down_all "$old" "$new"
	rm -rf "$work"
}
trap cleanup EXIT
[ -x "$ub" ] || { echo "bench: $ub is missing; make build/udpbench" >&2; exit 2; }

# the models
{
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "topo.connect(h, name='lan')"
} >"$work/single100.vtb"
{
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "for i in range(100):"
	echo "    topo.connect([h[i], h[(i + 1) % 100], h[(i + 2) % 100]], name='lan' + str(i + 1))"
} >"$work/linear100.vtb"
bench/gen_model.sh 1000 loop | sed 's/, cores == 1, memory == mb(64)//' >"$work/ring1000.vtb"
{
	echo "a = topo.device('a')"
	echo "b = topo.device('b')"
	echo "topo.connect([a, b], latency == 0)"
} >"$work/emu0.vtb"

: >"$work/times"
# updown TAG BINARY MODEL: one timed vtb up and vtb down
updown() {
	vtb=$2
	settle >/dev/null
	t0=$(now)
	vtb_up "$3" r >/dev/null
	t1=$(now)
	vtb_down r
	t2=$(now)
	echo "$1 $2 up $(ms "$t0" "$t1")" >>"$work/times"
	echo "$1 $2 down $(ms "$t1" "$t2")" >>"$work/times"
}

# pps BINARY: received packets per second through a zero-impairment emulated link
pps() {
	vtb=$1
	vtb_up "$work/emu0.vtb" p >/dev/null
	"$vtb" exec p b -- "$ub" recv --port 9000 --idle-ms 500 >"$work/recv" 2>&1 &
	rp=$!
	sleep 0.3
	"$vtb" exec p a -- "$ub" send --to 10.0.0.2:9000 --duration 3 >"$work/send" 2>&1
	wait $rp
	vtb_down p
	echo "emu0 $1 pps $(sed -n 's/.*"pps":\([-0-9.e+]*\).*/\1/p' "$work/recv" | head -n 1)" >>"$work/times"
}

for i in $(seq "$RUNS"); do
	for b in "$old" "$new"; do
		for m in single100 linear100 ring1000; do
			updown "$m" "$b" "$work/$m.vtb"
		done
		pps "$b"
	done
	echo "bench regress: round $i of $RUNS done" >&2
done

printf 'case\tbinary\tphase\tmedian\tmin\tmax\n' >"$out/regress.tsv"
for c in single100:up single100:down linear100:up linear100:down ring1000:up ring1000:down emu0:pps; do
	m=${c%%:*} p=${c#*:}
	for b in old new; do
		bin=$old
		[ $b = new ] && bin=$new
		awk -v m="$m" -v b="$bin" -v p="$p" '$1 == m && $2 == b && $3 == p { print $4 }' \
			"$work/times" >"$work/v"
		printf '%s\t%s\t%s\t%s\n' "$m" "$b" "$p" "$(stats "$work/v" | tr ' ' '\t')" >>"$out/regress.tsv"
	done
done
plot
echo "medians of $RUNS, alternating (old: $old, new: $new):"
awk -F'\t' 'NR > 1 { v[$1 " " $3, $2] = $4; k[$1 " " $3] = 1 }
	END { for (c in k) printf "  %-16s old %10s  new %10s  new/old %.2f\n", c, v[c, "old"], v[c, "new"],
		v[c, "new"] / v[c, "old"] }' "$out/regress.tsv" | sort
