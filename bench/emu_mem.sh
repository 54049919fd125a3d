#!/bin/sh
# The supervisor's memory against the number of emulated links
# (docs/benchmarks.md, "Link emulator: memory per port").
#
# For each L in EMU_MEM_LINKS (default "1 100 1000"): a model of L
# emulated links, each `latency == ms(1), capacity == mbps(100)` (the
# benchmark model's link), as a ring of L devices (L >= 3; one pair for
# L = 1 and 2), so 2 L emulated ports; bring it up, read the supervisor's
# VmRSS (/proc/PID/status; the packet rings the kernel maps into it count)
# while idle, bring it down.
#
# Writes bench/out/emu_mem.tsv: links, ports, supervisor VmRSS in MB, KB
# per port. Environment: VTB (default ./vtb), EMU_MEM_LINKS.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

vtb=${VTB:-./vtb}
sizes=${EMU_MEM_LINKS:-1 100 1000}
out=bench/out
tsv=$out/emu_mem.tsv
[ -x "$vtb" ] || { echo "bench: $vtb is not built; run make" >&2; exit 2; }
mkdir -p "$out"

state=$(mktemp -d /tmp/vtbbench.XXXXXX)
export VTB_STATE_DIR="$state"
work=$state/work
mkdir -p "$work"
: >"$work/ids"

cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	for _name in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$_name" >/dev/null 2>&1 || true
	done
	"$vtb" clean >/dev/null 2>&1 || true
	rm -rf "$state"
	exit $_rc
}
trap cleanup EXIT INT TERM HUP

# model L: L emulated links, to standard output
model() {
	awk -v n="$1" 'BEGIN {
		d = n < 3 ? 2 : n
		for (i = 0; i < d; i++)
			printf "d%d = topo.device(\047d%d\047)\n", i, i
		for (i = 0; i < n; i++)
			printf "topo.connect([d%d, d%d], latency == ms(1), capacity == mbps(100))\n",
			       i, (i + 1) % d
	}'
}

printf 'links\tports\tsupervisor_rss_mb\tkb_per_port\n' >"$tsv"
for l in $sizes; do
	model "$l" >"$work/emu$l.vtb"
	settle >/dev/null
	vtb_up "$work/emu$l.vtb" "emu$l" >/dev/null
	_pid=$("$vtb" status "emu$l" --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n 1)
	_rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$_pid/status")
	awk -v l="$l" -v r="$_rss" 'BEGIN { printf "%d\t%d\t%.1f\t%.1f\n", l, 2 * l, r / 1024, r / (2 * l) }' \
		>>"$tsv"
	echo "bench: $l emulated links ($((2 * l)) ports): supervisor VmRSS $(awk -v r="$_rss" 'BEGIN { printf "%.1f", r / 1024 }') MB"
	vtb_down "emu$l"
done
cat "$tsv"
