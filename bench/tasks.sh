#!/bin/sh
# The barrier of vtb run (docs/benchmarks.md, "Tasks"): a 100-node LAN, a task
# of 100 `true` commands, 20 runs. Per run: the task's wall time (vtb's own
# "task 'all' ended in X s": from the first fork to the last reap) against
# starting the same 100 `sh -c true` from a shell loop and waiting, with no
# barrier and no namespaces; the start skew (max - min of the recorded start
# times); and the whole `vtb run` command. Needs root.
set -eu
cd "$(dirname "$0")/.."
VTB=${VTB:-$PWD/vtb}
N=${N:-100}
RUNS=${RUNS:-20}
out=bench/out
mkdir -p "$out"
export VTB_STATE_DIR=$(mktemp -d /tmp/vtbbench.XXXXXX)
m=$out/tasks-$N.vtb
{
	echo "n = []"
	echo "for i in range($N):"
	echo "    n.append(topo.device('h' + str(i)))"
	echo "topo.connect(n)"
	echo "cmds = []"
	echo "for i in range($N):"
	echo "    cmds.append(run(n[i], 'true'))"
	echo "task('all', cmds)"
} >"$m"
trap '"$VTB" down tasks >/dev/null 2>&1; rm -rf "$VTB_STATE_DIR"' EXIT
"$VTB" up "$m" --name tasks >/dev/null

now_ns() { date +%s%N; }
tsv=$out/tasks.tsv
printf 'run\ttask_ms\tbaseline_ms\toverhead_ms\tskew_ms\tspan_ms\tvtb_run_ms\n' >"$tsv"
i=1
while [ "$i" -le "$RUNS" ]; do
	# the baseline: fork N `true` in the root namespace and wait for them all
	b0=$(now_ns)
	j=0
	while [ "$j" -lt "$N" ]; do /bin/sh -c true & j=$((j + 1)); done
	wait
	b1=$(now_ns)
	t0=$(now_ns)
	"$VTB" run tasks --json >"$out/tasks-run.json" 2>"$out/tasks-run.txt"
	t1=$(now_ns)
	task=$(sed -n "s/^task 'all' ended in \([0-9.]*\) s.*/\1/p" "$out/tasks-run.txt")
	awk -v run="$i" -v task="$task" -v whole="$(( (t1 - t0) ))" -v base="$(( (b1 - b0) ))" -F'[:,]' '
		{ for (k = 1; k < NF; k++) {
			if ($k == "\"start_ns\"") s = $(k + 1)
			if ($k == "\"end_ns\"") e = $(k + 1) }
		  if (NR == 1 || s < smin) smin = s
		  if (NR == 1 || s > smax) smax = s
		  if (NR == 1 || e > emax) emax = e }
		END { printf "%d\t%.2f\t%.2f\t%.2f\t%.3f\t%.2f\t%.2f\n", run, task * 1e3, base / 1e6,
		             task * 1e3 - base / 1e6, (smax - smin) / 1e6, (emax - smin) / 1e6, whole / 1e6 }' \
		"$out/tasks-run.json" >>"$tsv"
	i=$((i + 1))
done
# medians
for col in 2 3 4 5 6 7; do
	name=$(head -1 "$tsv" | cut -f$col)
	med=$(tail -n +2 "$tsv" | cut -f$col | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
	echo "$name median: $med"
done
