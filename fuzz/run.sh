#!/bin/sh
# Run every fuzz target (or the ones named) for SECONDS each, all at once,
# on a working copy of the seed corpus so fuzz/corpus/ stays as committed.
# usage: fuzz/run.sh [SECONDS] [TARGET...]     (targets: compile json sup_request sup_reply qmp console measure etcd cluster fragment relay cldoc taskmsg gso pcap_stream nr_request)
# The grown corpora, logs and any artifacts stay in fuzz/build/. Exits 1 when
# a target left a crash, leak, timeout or out-of-memory artifact (a slow-unit
# artifact is only reported). FUZZ_FLAGS adds libFuzzer options, e.g.
# FUZZ_FLAGS='-fork=2 -ignore_crashes=1' to go on after a crash.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-compile json sup_request sup_reply qmp console measure etcd cluster fragment relay cldoc taskmsg gso pcap_stream nr_request}
b=$here/build

for t in $targets; do
	if [ ! -x "$b/fuzz_$t" ]; then
		echo "fuzz: $b/fuzz_$t is not built; run 'make fuzz-build'" >&2
		exit 2
	fi
done

for t in $targets; do
	mkdir -p "$b/corpus/$t" "$b/artifacts/$t"
	cp -n "$here/corpus/$t"/* "$b/corpus/$t/" 2>/dev/null || true
	rm -f "$b/artifacts/$t"/*
	files=$(find "$b/corpus/$t" -type f | wc -l)
	if [ "$files" -gt 5000 ]; then
		# the working corpus only grows: keep the inputs that add coverage
		rm -rf "$b/corpus/$t.new" && mkdir "$b/corpus/$t.new"
		"$b/fuzz_$t" -merge=1 -max_len=4096 -timeout=10 "$b/corpus/$t.new" "$b/corpus/$t" \
			>"$b/$t.merge.log" 2>&1
		rm -rf "$b/corpus/$t" && mv "$b/corpus/$t.new" "$b/corpus/$t"
		files=$(find "$b/corpus/$t" -type f | wc -l)
	fi
	echo "fuzz: $t for ${secs}s (corpus $files files)"
	# shellcheck disable=SC2086 # FUZZ_FLAGS holds several options
	"$b/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-dict="$here/vtb.dict" -print_final_stats=1 ${FUZZ_FLAGS:-} \
		-artifact_prefix="$b/artifacts/$t/" "$b/corpus/$t" >"$b/$t.log" 2>&1 &
	echo $! >"$b/$t.pid"
done

status=0
for t in $targets; do
	wait "$(cat "$b/$t.pid")" || true
	rm -f "$b/$t.pid"
	log=$b/$t.log
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
	[ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.*corp: \([^ ]*\).*/\1/p')
	echo "fuzz: $t: ${execs:-?} executions, ${speed:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (log $log)"
	found=0
	for a in "$b/artifacts/$t"/*; do
		case ${a##*/} in
		'*') ;;
		slow-unit-*) echo "fuzz: $t: slow input (over 10 s, not a failure): $a" ;;
		*) echo "fuzz: $t: FOUND $a" >&2; found=1 ;;
		esac
	done
	if [ $found = 1 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" >&2 || true
		status=1
	fi
done
exit $status
