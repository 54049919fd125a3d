#!/bin/sh
# The compile benchmark: for each size N, generate a ring model of N devices
# and N links (bench/gen_model.sh), once as plain statements and once built
# by loops, and time `vtb compile` (summary) and `vtb compile --json` on each,
# RUNS times (wall time from date +%s%N, max RSS from /usr/bin/time). Writes
# the medians to bench/out/compile.tsv and plots them to docs/img/compile.png.
# Environment: VTB (default ./vtb), BENCH_SIZES (default "1000 10000 100000"),
# BENCH_RUNS (default 5), BENCH_TIMEOUT seconds per run (default 120; a
# configuration that times out is not tried at larger sizes), BENCH_PLOT_ONLY.
set -eu
cd "$(dirname "$0")/.."
vtb=${VTB:-./vtb}
sizes=${BENCH_SIZES:-1000 10000 100000}
runs=${BENCH_RUNS:-5}
limit=${BENCH_TIMEOUT:-120}
out=bench/out
tsv=$out/compile.tsv
png=docs/img/compile.png

for tool in /usr/bin/time gnuplot; do
	if ! command -v $tool >/dev/null; then
		echo "bench: $tool is missing; run scripts/deps.sh bench" >&2
		exit 2
	fi
done
[ -x "$vtb" ] || { echo "bench: $vtb is not built; run make" >&2; exit 2; }
mkdir -p "$out" "$(dirname "$png")"

# Machine and build, for the record.
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(uname -srm), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "memory: $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "vtb: $vtb, $(stat -c '%y' "$vtb")"
	echo "runs: $runs per configuration, timeout ${limit}s"
} >"$out/compile.env"

# stats FILE: "median min max" of the numbers in FILE, one a line.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN NaN NaN"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

# BENCH_PLOT_ONLY=1 redraws the plot from an existing compile.tsv.
if [ "${BENCH_PLOT_ONLY:-}" != 1 ]; then
	printf 'n\tform\tmode\tbytes\truns\ttime_median_s\ttime_min_s\ttime_max_s\trss_median_mb\tstatus\n' >"$tsv"
	skip=" "
	for n in $sizes; do
		for form in plain loop; do
			model=$out/$form-$n.vtb
			bench/gen_model.sh "$n" "$form" >"$model"
			bytes=$(wc -c <"$model")
			for mode in summary json; do
				cfg="$form/$mode"
				status=ok
				: >"$out/times" && : >"$out/rss"
				if [ "${skip#* "$cfg" }" != "$skip" ]; then
					status=skipped
				else
					i=0
					while [ $i -lt "$runs" ]; do
						i=$((i + 1))
						flag=""
						[ $mode = json ] && flag=--json
						rc=0
						# wall time from date: /usr/bin/time's %e has 10 ms steps
						t0=$(date +%s%N)
						/usr/bin/time -f '%M' -o "$out/time.one" \
							timeout "$limit" "$vtb" compile "$model" $flag >/dev/null 2>"$out/stderr" || rc=$?
						t1=$(date +%s%N)
						if [ $rc -eq 124 ]; then
							status=timeout
							skip="$skip$cfg "
							break
						elif [ $rc -ne 0 ]; then
							status=failed
							head -n 5 "$out/stderr" >&2
							break
						fi
						echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }' >>"$out/times"
						tail -n 1 "$out/time.one" | awk '{ printf "%.1f\n", $1 / 1024 }' >>"$out/rss"
					done
				fi
				# shellcheck disable=SC2046 # three numbers
				set -- $(stats "$out/times")
				t_med=$1 t_min=$2 t_max=$3
				# shellcheck disable=SC2046
				set -- $(stats "$out/rss")
				rss=$1
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$form" "$mode" "$bytes" \
					"$(wc -l <"$out/times")" "$t_med" "$t_min" "$t_max" "$rss" "$status" >>"$tsv"
				printf 'bench: compile N=%-7s %-5s %-7s median %6s s (min %s, max %s), %6s MB  %s\n' \
					"$n" "$form" "$mode" "$t_med" "$t_min" "$t_max" "$rss" "$status"
			done
		done
	done
	rm -f "$out/times" "$out/rss" "$out/time.one" "$out/stderr"
fi

gnuplot <<PLOT
set terminal pngcairo size 1100,450 font 'sans,10'
set output '$png'
set datafile separator '\t'
set datafile missing 'NaN'
# ranges that always show the targets (stats before any range or log scale)
stats '$tsv' skip 1 using 1 nooutput
nmin = STATS_min; nmax = STATS_max
stats '$tsv' skip 1 using 6 nooutput
tmax = STATS_max
stats '$tsv' skip 1 using 9 nooutput
rmax = STATS_max
set multiplot layout 1,2 title 'vtb compile: ring of N devices and N links (median of $runs runs)'
set logscale x
set logscale y
set grid
set key bottom right
set xlabel 'N (devices = links)'
set xrange [nmin / 2:nmax * 2]
sel(f, m, col) = (strcol(2) eq f && strcol(3) eq m) ? column(col) : NaN
set ylabel 'wall time (s)'
set yrange [*:(tmax > 1 ? tmax * 2 : 2)]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'red'
set label 1 'target 1 s' at graph 0.03, first 1.2 tc rgb 'red'
plot '$tsv' skip 1 using 1:(sel('plain', 'summary', 6)) with linespoints title 'statements, summary', \
     '' skip 1 using 1:(sel('plain', 'json', 6)) with linespoints title 'statements, --json', \
     '' skip 1 using 1:(sel('loop', 'summary', 6)) with linespoints title 'loops, summary', \
     '' skip 1 using 1:(sel('loop', 'json', 6)) with linespoints title 'loops, --json'
set ylabel 'max RSS (MB)'
set yrange [*:(rmax > 200 ? rmax * 2 : 400)]
set arrow 1 from graph 0, first 200 to graph 1, first 200 nohead dt 2 lc rgb 'red'
set label 1 'target 200 MB' at graph 0.03, first 235 tc rgb 'red'
plot '$tsv' skip 1 using 1:(sel('plain', 'summary', 9)) with linespoints title 'statements, summary', \
     '' skip 1 using 1:(sel('plain', 'json', 9)) with linespoints title 'statements, --json', \
     '' skip 1 using 1:(sel('loop', 'summary', 9)) with linespoints title 'loops, summary', \
     '' skip 1 using 1:(sel('loop', 'json', 9)) with linespoints title 'loops, --json'
unset multiplot
PLOT
echo "bench: wrote $tsv and $png"
