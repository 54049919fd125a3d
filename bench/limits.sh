#!/bin/sh
# The limits' accuracy (docs/benchmarks.md, "Limits"): a container node with
# a 4-process busy loop, asked for 0.25, 0.5, 1 and 1.5 cores of CPU
# bandwidth (cores and cpufreq against a host frequency fixed at 2 GHz with
# VTB_HOST_CPUFREQ, so cpufreq == mhz(500) is a quarter core), then three
# cpufreq values against the frequency the system reports. Each rate is the
# node's own cgroup usage counter over WINDOW_S seconds, RUNS times (median,
# min, max); one node runs at a time. Other load on the host does not bias
# the measurement as long as the limit is below what the host has free: the
# counter counts the node's CPU time only. Needs root.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
RUNS=${RUNS:-3}
# the measuring window: 50 CFS periods of 100 ms, 2% granularity
WINDOW_S=${WINDOW_S:-5}
# the busy loop gets this long to start and reach its limit
SETTLE_S=1
work=$(mktemp -d /tmp/vtblimits.XXXXXX)
export VTB_STATE_DIR=$work/state
out=bench/out/limits
mkdir -p "$out"
cleanup() {
	for n in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$n" >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# usage_us ID NODE: the node's CPU time from its cgroup (v1 cpuacct.usage
# in ns, v2 cpu.stat usage_usec)
usage_us() {
	for d in $(find /sys/fs/cgroup -maxdepth 7 -type d -path "*/vtb$1/$2"); do
		if [ -f "$d/cpuacct.usage" ]; then echo $(($(cat "$d/cpuacct.usage") / 1000)); return; fi
		if grep -qs usage_usec "$d/cpu.stat"; then sed -n 's/^usage_usec //p' "$d/cpu.stat"; return; fi
	done
	echo "bench: no cgroup for $2" >&2
	exit 1
}

# idle ticks (USER_HZ) of the host
host_idle() { awk '/^cpu /{ print $5 + $6 }' /proc/stat; }

# rate NAME ID NODE: RUNS measurements of NODE's rate in cores into
# $out/NAME, and of the cores the host left idle meanwhile into $out/NAME.idle
rate() {
	: >"$out/$1"
	: >"$out/$1.idle"
	"$vtb" exec "$1" "$3" -- sh -c 'for i in 1 2 3 4; do (while :; do :; done) & done; wait' \
		>/dev/null 2>&1 &
	sleep "$SETTLE_S"
	for _r in $(seq "$RUNS"); do
		t0=$(now); u0=$(usage_us "$2" "$3"); i0=$(host_idle)
		sleep "$WINDOW_S"
		t1=$(now); u1=$(usage_us "$2" "$3"); i1=$(host_idle)
		awk -v a="$u0" -v b="$u1" -v t=$((t1 - t0)) 'BEGIN{printf "%.3f\n", (b - a) * 1000 / t}' \
			>>"$out/$1"
		awk -v a="$i0" -v b="$i1" -v t=$((t1 - t0)) 'BEGIN{printf "%.3f\n", (b - a) * 1e7 / t}' \
			>>"$out/$1.idle"
	done
	"$vtb" exec "$1" "$3" -- kill -9 -1 >/dev/null 2>&1 || true
}

# case NAME ASKED CONSTRAINTS: one node with CONSTRAINTS, its rate
case_row() {
	printf "a = topo.device('a', %s)\n" "$3" >"$work/$1.vtb"
	id=$(vtb_up "$work/$1.vtb" "$1")
	rate "$1" "$id" a
	vtb_down "$1"
	printf "| %-31s | %5s | %-20s | %5s |\n" "$3" "$2" \
		"$(stats "$out/$1" | awk '{ printf "%s (%s-%s)", $1, $2, $3 }')" \
		"$(stats "$out/$1.idle" | awk '{ print $1 }')"
}

hz=$(
	cat /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq 2>/dev/null | awk '{ print $1 * 1000 }' ||
		true
)
[ -n "$hz" ] || hz=$(awk -F': *' '/^cpu MHz/ { print int($2 * 1e6); exit }' /proc/cpuinfo)
echo "host: $(nproc) cores, $(awk -v h="$hz" 'BEGIN{printf "%.3f", h / 1e9}') GHz; $RUNS runs of $WINDOW_S s"
echo
echo "| asked (VTB_HOST_CPUFREQ=2ghz) | cores | measured: median (min-max) | host idle |"
echo "|---|---|---|---|"
export VTB_HOST_CPUFREQ=2ghz
case_row q 0.25 "cpufreq == mhz(500)"
case_row h 0.5 "cpufreq == ghz(1)"
case_row o 1 "cores == 1"
case_row oh 1.5 "cores == 2, cpufreq == ghz(1.5)"
unset VTB_HOST_CPUFREQ
echo
echo "| asked (the host's own frequency) | cores | measured: median (min-max) | host idle |"
echo "|---|---|---|---|"
for mhz in 800 1350 2000; do
	want=$(awk -v m="$mhz" -v h="$hz" 'BEGIN{printf "%.3f", m * 1e6 / h}')
	case_row "f$mhz" "$want" "cpufreq == mhz($mhz)"
done
