#!/bin/sh
# The bring-up benchmarks (docs/benchmarks.md, "Bring-up"), in order:
#   bench/up_mininet.sh   vtb against Mininet 2.3.0 (single,100 and linear,100)
#   bench/up_ipbatch.sh   vtb against the same kernel objects made by ip -batch
#   bench/up_1000.sh      1000 nodes: up and down times, memory
# then plots bench/out/up_*.tsv to docs/img/bringup.png and
# docs/img/bringup_1000.png. `bench/up.sh plot` only plots.
# Environment: as the three scripts (VTB, BENCH_RUNS).
set -eu
cd "$(dirname "$0")/.."
out=bench/out
if ! command -v gnuplot >/dev/null; then
	echo "bench: gnuplot is missing; run scripts/deps.sh bench" >&2
	exit 2
fi
if [ "${1:-}" != plot ]; then
	bench/up_mininet.sh
	bench/up_ipbatch.sh
	bench/up_1000.sh
fi
for f in up_mininet up_ipbatch up_1000; do
	[ -f "$out/$f.tsv" ] || { echo "bench: $out/$f.tsv is missing; run bench/$f.sh" >&2; exit 2; }
done
mkdir -p docs/img
dat=$(mktemp /tmp/vtbbench-plot.XXXXXX)
trap 'rm -f "$dat" "$dat.ip" "$dat.1000"' EXIT

# median of CASE TOOL PHASE in a times TSV (columns case tool phase runs median ...)
med() { awk -F'\t' -v c="$2" -v t="$3" -v p="$4" '$1 == c && $2 == t && $3 == p { print $5 }' "$1"; }

m=$out/up_mininet.tsv
{
	printf 'label\tup\tdown\n'
	for c in single100 linear100; do
		topo=single,100
		[ $c = linear100 ] && topo=linear,100
		printf '"Mininet\\n%s"\t%s\t%s\n' "$topo" "$(med "$m" $c mininet up)" "$(med "$m" $c mininet down)"
		printf '"vtb\\n%s"\t%s\t%s\n' "$c" "$(med "$m" $c vtb up)" "$(med "$m" $c vtb down)"
	done
} >"$dat"
i=$out/up_ipbatch.tsv
{
	printf 'label\troot\tns\tup\tdown\n'
	for c in chain100 single100; do
		printf '"ip -batch\\n%s"\t%s\t%s\t0\t%s\n' "$c" "$(med "$i" $c ip-batch up_root)" \
			"$(med "$i" $c ip-batch up_ns)" "$(med "$i" $c ip-batch down)"
		printf '"vtb\\n%s"\t0\t0\t%s\t%s\n' "$c" "$(med "$i" $c vtb up)" "$(med "$i" $c vtb down)"
	done
} >"$dat.ip"
k=$out/up_1000.tsv
{
	printf 'label\tup\tdown\tkernel\n'
	for c in ring1000 sites1000; do
		printf '"%s"\t%s\t%s\t%s\n' "$c" \
			"$(awk -F'\t' -v c=$c '$1 == c && $2 == "up" { print $5 }' "$k")" \
			"$(awk -F'\t' -v c=$c '$1 == c && $2 == "down" { print $5 }' "$k")" \
			"$(awk -F'\t' -v c=$c '$1 == c && $2 == "kernel_after_down" { print $5 }' "$k")"
	done
} >"$dat.1000"
runs=$(awk -F'\t' 'NR == 2 { print $4 }' "$m")

gnuplot <<PLOT
set terminal pngcairo size 1200,520 font 'sans,10'
set output 'docs/img/bringup.png'
set datafile separator '\t'
set style data histogram
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set key top left
set bmargin 4
set offsets 0, 0, graph 0.35, 0
set multiplot layout 1,2 title 'Bring-up and teardown, wall time (median of $runs, same machine, same run)'
set title 'vtb vs Mininet 2.3.0 (lxbr, no controller)'
set ylabel 'seconds'
set yrange [0:*]
plot '$dat' skip 1 using 2:xtic(1) title 'up' lc rgb '#4477aa', \
     '' skip 1 using 3 title 'down' lc rgb '#ee8866', \
     '' skip 1 using (\$0):(\$2 + \$3):(sprintf('%.2f s', \$2 + \$3)) with labels offset 0,0.8 notitle
set title 'vtb vs the same objects made by ip -batch'
plot '$dat.ip' skip 1 using 2:xtic(1) title 'ip -batch (root namespace)' lc rgb '#228833', \
     '' skip 1 using 3 title 'ip -n NS -batch (one per node)' lc rgb '#ccbb44', \
     '' skip 1 using 4 title 'vtb up' lc rgb '#4477aa', \
     '' skip 1 using 5 title 'down' lc rgb '#ee8866', \
     '' skip 1 using (\$0):(\$2 + \$3 + \$4 + \$5):(sprintf('%.2f s', \$2 + \$3 + \$4 + \$5)) with labels offset 0,0.8 notitle
unset multiplot

set terminal pngcairo size 700,450 font 'sans,10'
set output 'docs/img/bringup_1000.png'
set title 'vtb, 1000 container nodes (median of $runs)'
set style histogram clustered gap 1
set key top left
set offsets 0, 0, 0, 0
set yrange [0:12]
set arrow 1 from graph 0, first 10 to graph 1, first 10 nohead dt 2 lc rgb 'red'
set label 1 'target 10 s' at graph 0.80, first 10.4 tc rgb 'red'
plot '$dat.1000' skip 1 using 2:xtic(1) title 'vtb up' lc rgb '#4477aa', \
     '' skip 1 using 3 title 'vtb down' lc rgb '#ee8866', \
     '' skip 1 using 4 title 'kernel still freeing after down (approx.)' lc rgb '#bbbbbb', \
     '' skip 1 using (\$0 - 0.27):2:(sprintf('%.2f', \$2)) with labels offset 0,0.7 notitle, \
     '' skip 1 using (\$0):3:(sprintf('%.2f', \$3)) with labels offset 0,0.7 notitle
PLOT
echo "bench: wrote docs/img/bringup.png and docs/img/bringup_1000.png"
