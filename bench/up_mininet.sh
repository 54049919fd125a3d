#!/bin/sh
# Bring-up against Mininet (docs/benchmarks.md, "Bring-up", part 1). Same
# machine, same run, alternating, BENCH_RUNS (default 5) runs of each:
#
#   single100  mn --topo single,100 --switch lxbr --controller none --test none
#              vs vtb: h1..h100 on one LAN (bench/out/up-single100.vtb)
#   linear100  mn --topo linear,100 --switch lxbr --controller none --test none
#              vs vtb: h1..h100 and 100 LANs, LAN i = [h_i, h_i+1, h_i+2]
#              (mod 100) (bench/out/up-linear100.vtb), and the same model
#              with routing == false (no static routes; vtb only)
#
# Mininet is timed as one command (it builds and tears down); a --post
# script stamps the time between its start() and its stop(), which splits
# it into up and down. vtb is timed as `vtb up` + `vtb down`, and each alone.
# Both tools' namespaces (and vtb's substrate with its bridges) are freed
# by the kernel after the command returns (cleanup_net, a kernel worker):
# each run also records that tail (`kernel`: from the command's exit until
# no worker has run the netns workqueue for 0.1 s) and `machine` (the run
# and its tail), and before every timed run the script waits until the
# tail of the previous one is over, so no run pays for another's teardown.
# Once, before the timed runs, each side is built
# and its kernel objects are counted in the middle of the run.
#
# Writes bench/out/up_mininet.tsv (times), bench/out/up_counts.tsv (object
# counts; rows replaced for these cases) and bench/out/up_mininet.env.
# Environment: VTB (default ./vtb), BENCH_RUNS (default 5),
# BENCH_MN_CLEAN=mn to also run `mn -c` before and after (off by default: on
# a shared machine it kills every ping and controller process and deletes
# /tmp/*.log and /tmp/*.out; the script removes instead what its own Mininet
# runs leave: their processes, found through a cgroup of their own, and the
# s<N> bridges and s<N>-eth<M> links of the topologies it runs).
#
# Internal mode, used by Mininet's --post script in the counting run:
#   bench/up_mininet.sh --count-mininet CASE CGROUP_DIR OUT_TSV
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh


# count_objects CASE TOOL PROCS MOUNTS NSLIST...: one row of up_counts.tsv.
# Each NSLIST item is a command prefix that runs `ip` in one node's
# namespace ("ip -n NAME" or "nsenter -t PID -n ip"), with spaces as '+'.
# Root-side objects come from ROOT_BRIDGE_RE and ROOT_VETH_RE, in the
# namespace ROOT_NS (vtb's substrate "vtb<id>"; empty: the root namespace).
count_objects() {
	_case=$1 _tool=$2 _procs=$3 _mounts=$4
	shift 4
	_ns=0 _nsveth=0 _addr=0 _routes=0
	for _p in "$@"; do
		_cmd=$(echo "$_p" | tr '+' ' ')
		_ns=$((_ns + 1))
		_nsveth=$((_nsveth + $($_cmd -o link show type veth 2>/dev/null | wc -l)))
		_addr=$((_addr + $($_cmd -4 -o addr show scope global | wc -l)))
		_routes=$((_routes + $($_cmd -4 route show | grep -vc 'proto kernel' || true)))
	done
	_br=$(ip ${ROOT_NS:+-n "$ROOT_NS"} -o link show type bridge 2>/dev/null | awk -F': ' '{ print $2 }' | grep -Ec "$ROOT_BRIDGE_RE" || true)
	_rveth=$(ip ${ROOT_NS:+-n "$ROOT_NS"} -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep -Ec "$ROOT_VETH_RE" || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$_case" "$_tool" "$_ns" "$_br" \
		$(((_rveth + _nsveth) / 2)) "$_rveth" "$_addr" "$_routes" "$_procs" "$_mounts"
}
COUNTS_HEADER='case\ttool\tnetns\tbridges\tveth_pairs\troot_veth_ends\tipv4_addresses\troutes\tprocesses\tbind_mounts\n'

# The --post hook of the Mininet counting run: count what Mininet built.
if [ "${1:-}" = --count-mininet ]; then
	case=$2 cg=${3#-} tsv=$4
	ROOT_BRIDGE_RE='^s[0-9]+$' ROOT_VETH_RE='^s[0-9]+-eth[0-9]+$' ROOT_NS=""
	pids="" procs=0
	if [ -n "$cg" ]; then
		all=$(cat "$cg/cgroup.procs")
	else
		all=$(ls /proc | grep -E '^[0-9]+$')
	fi
	for pid in $all; do
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'mininet:'; then
			procs=$((procs + 1))
			# hosts have a namespace of their own; switches (lxbr) do not
			if [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]; then
				pids="$pids nsenter+-t+$pid+-n+ip"
			fi
		fi
	done
	# shellcheck disable=SC2086
	count_objects "$case" mininet "$procs" 0 $pids >>"$tsv"
	exit 0
fi

vtb=${VTB:-./vtb}
runs=${BENCH_RUNS:-5}
out=bench/out
tsv=$out/up_mininet.tsv
counts=$out/up_counts.tsv
for tool in mn mnexec /usr/bin/time ip nsenter; do
	if ! command -v $tool >/dev/null; then
		echo "bench: $tool is missing; run scripts/deps.sh bench" >&2
		exit 2
	fi
done
# Mininet's lxbr switch needs brctl (bridge-utils, which the mininet
# package does not pull in)
if ! command -v brctl >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: brctl is missing; apt-get install bridge-utils" >&2
		exit 2
	fi
	echo "bench: installing bridge-utils (brctl, for Mininet's lxbr switch)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bridge-utils >/dev/null
fi
[ -x "$vtb" ] || { echo "bench: $vtb is not built; run make" >&2; exit 2; }
mkdir -p "$out"

state=$(mktemp -d /tmp/vtbbench.XXXXXX)
export VTB_STATE_DIR="$state"
work=$state/work
mkdir -p "$work"
: >"$work/ids"

# A cgroup of our own holds every Mininet process we start (mnexec detaches
# its shells with setsid, so the process group does not): cleanup then ends
# exactly those, by pid.
cgroot=""
for d in /sys/fs/cgroup/pids /sys/fs/cgroup; do
	if [ -w "$d/cgroup.procs" ]; then
		cgroot=$d
		break
	fi
done
cg=""
if [ -n "$cgroot" ]; then
	cg=$cgroot/vtbbench-mn.$$
	mkdir "$cg"
fi

mn_leftover_links() {
	ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^s[0-9]+(-eth[0-9]+)?$' || true
}

mn_clean() {
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		_n=0
		while [ -s "$cg/cgroup.procs" ] && [ $_n -lt 50 ]; do
			for _pid in $(cat "$cg/cgroup.procs"); do
				kill -9 "$_pid" 2>/dev/null || true
			done
			_n=$((_n + 1))
			sleep 0.1
		done
	fi
	# bridges first (ports go with them), then the links left
	for _l in $(mn_leftover_links | grep -v -- -eth); do ip link del "$_l" 2>/dev/null || true; done
	for _l in $(mn_leftover_links); do ip link del "$_l" 2>/dev/null || true; done
	if [ "${BENCH_MN_CLEAN:-}" = mn ]; then
		mn -c >/dev/null 2>&1 || true
	fi
}

cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	# every experiment still listed in our own state directory
	for _name in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$_name" >/dev/null 2>&1 || true
	done
	"$vtb" clean >/dev/null 2>&1 || true
	mn_clean
	[ -n "$cg" ] && [ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true
	_left=0
	for _id in $(cat "$work/ids" 2>/dev/null); do
		_left=$((_left + $(ip netns list | grep -Ec "^vtb$_id(-| |\$)" || true)))
		_left=$((_left + $(ip -o link show | grep -c ": vtb$_id" || true)))
		_left=$((_left + $(ip -n "vtb$_id" -o link show 2>/dev/null | grep -c ": vtb$_id" || true)))
	done
	_left=$((_left + $(mn_leftover_links | wc -l)))
	if [ $_left -ne 0 ]; then
		echo "bench: $_left objects of this run are left; VTB_STATE_DIR=$state kept for vtb clean" >&2
		[ $_rc -eq 0 ] && _rc=1
	else
		rm -rf "$state"
	fi
	echo "bench: leftovers: $_left of this run; vtb* namespaces on the machine (not vtbtest*): $(ip netns list | grep '^vtb' | grep -vc '^vtbtest' || true)"
	exit $_rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Machine and versions, for the record.
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(uname -srm), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "memory: $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vtb: $vtb, $(stat -c '%y' "$vtb")"
	echo "tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo ' (with local changes)')"
	echo "mininet: $(mn --version 2>&1 | tail -n 1), $(ip -V)"
	echo "runs: $runs of each, alternating"
} >"$out/up_mininet.env"

# ---- the vtb models ----
{
	echo "# 100 hosts on one LAN: the vtb side of mn --topo single,100"
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "topo.connect(h, name='lan')"
} >"$out/up-single100.vtb"
{
	echo "# 100 hosts and 100 LANs, LAN i = [h_i, h_i+1, h_i+2] (mod 100): the vtb side"
	echo "# of mn --topo linear,100 (100 hosts, 100 bridges in a chain)"
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "for i in range(100):"
	echo "    topo.connect([h[i], h[(i + 1) % 100], h[(i + 2) % 100]], name='lan' + str(i + 1))"
} >"$out/up-linear100.vtb"
{
	cat "$out/up-linear100.vtb"
	echo "topo.spec(routing == false)"
} >"$out/up-linear100-noroutes.vtb"



# ---- counting run: what each side builds ----
# count_vtb CASE MODEL: build it, count, check it works, remove it
count_vtb() {
	settle >/dev/null
	id=$(vtb_up "$2" "count-$1")
	ROOT_BRIDGE_RE="^vtb${id}b" ROOT_VETH_RE="^vtb${id}p" ROOT_NS="vtb$id"
	nslist=$(ip netns list | awk -v p="vtb$id-" 'index($1, p) == 1 { print "ip+-n+" $1 }')
	procs=$("$vtb" status "count-$1" --json | grep -c '"alive": true' || true)
	mounts=$(grep -Ec "/vtb$id-[^ ]* " /proc/self/mountinfo || true)
	# shellcheck disable=SC2086
	count_objects "$1" vtb "$procs" "$mounts" $nslist >>"$work/counts"
	# it works: h1 reaches the host farthest from it (without routes, only
	# a host on a LAN of its own)
	case $1 in
	single100) to=h100 ;;
	*noroutes) to=h2 ;;
	*) to=h51 ;;
	esac
	addr=$(ip -n "vtb$id-$to" -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
	if ip netns exec "vtb$id-h1" ping -c 1 -W 2 "$addr" >/dev/null; then
		echo "bench: $1: vtb h1 reaches $to ($addr)"
	else
		echo "bench: $1: vtb h1 does NOT reach $to ($addr)" >&2
	fi
	vtb_down "count-$1"
}

# mn_cmd TOPO POSTFILE: the Mininet command, in our cgroup
mn_cmd() {
	# shellcheck disable=SC2016
	sh -c 'if [ -n "$1" ]; then echo $$ >"$1/cgroup.procs"; fi; shift; exec "$@"' sh "$cg" \
		mn --topo "$1" --switch lxbr --controller none --test none --post "$2" \
		</dev/null >"$work/mn.log" 2>&1
}

count_mn() {
	settle >/dev/null
	mn_clean
	to=h51
	[ "$1" = single100 ] && to=h100
	{
		echo "sh sh bench/up_mininet.sh --count-mininet $1 -$cg $work/counts"
		echo "h1 ping -c 1 -W 2 $to"
	} >"$work/post-count"
	mn_cmd "$2" "$work/post-count" || { echo "bench: mn --topo $2 failed" >&2; tail -n 5 "$work/mn.log" >&2; exit 1; }
	if grep -q ' 1 received' "$work/mn.log"; then
		echo "bench: $1: mininet h1 reaches $to"
	else
		echo "bench: $1: mininet h1 does NOT reach $to" >&2
	fi
	mn_clean
}

: >"$work/counts"
echo "bench: counting what each side builds"
count_vtb single100 "$out/up-single100.vtb"
count_mn single100 single,100
count_vtb linear100 "$out/up-linear100.vtb"
count_mn linear100 linear,100
count_vtb linear100-noroutes "$out/up-linear100-noroutes.vtb"
{
	printf "$COUNTS_HEADER"
	if [ -f "$counts" ]; then
		tail -n +2 "$counts" | awk -F'\t' 'FILENAME == ARGV[1] { drop[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in drop)' \
			"$work/counts" - || true
	fi
	cat "$work/counts"
} >"$work/counts.new"
mv "$work/counts.new" "$counts"
column -t -s "$(printf '\t')" "$counts" 2>/dev/null || cat "$counts"

# ---- timed runs ----

# time_mn CASE TOPO: one timed Mininet run; appends to the case's files
time_mn() {
	settle >/dev/null
	echo "sh date +%s%N >$work/stamp" >"$work/post-stamp"
	: >"$work/stamp"
	t0=$(now)
	mn_cmd "$2" "$work/post-stamp" || { echo "bench: mn --topo $2 failed" >&2; tail -n 5 "$work/mn.log" >&2; exit 1; }
	t2=$(now)
	t3=$(kernel_done "$t2")
	t1=$(cat "$work/stamp")
	ms "$t0" "$t2" >>"$work/$1.mininet.total"
	ms "$t0" "$t1" >>"$work/$1.mininet.up"
	ms "$t1" "$t2" >>"$work/$1.mininet.down"
	ms "$t2" "$t3" >>"$work/$1.mininet.kernel"
	ms "$t0" "$t3" >>"$work/$1.mininet.machine"
	mn_clean
	echo "bench: $1 mininet run: $(tail -n 1 "$work/$1.mininet.total") s (the kernel's netns work after it: $(tail -n 1 "$work/$1.mininet.kernel") s)"
}

# time_vtb CASE MODEL: one timed vtb up + vtb down
time_vtb() {
	settle >/dev/null
	t0=$(now)
	vtb_up "$2" "$1" >/dev/null
	t1=$(now)
	vtb_down "$1"
	t2=$(now)
	t3=$(kernel_done "$t2")
	ms "$t0" "$t2" >>"$work/$1.vtb.total"
	ms "$t0" "$t1" >>"$work/$1.vtb.up"
	ms "$t1" "$t2" >>"$work/$1.vtb.down"
	ms "$t2" "$t3" >>"$work/$1.vtb.kernel"
	ms "$t0" "$t3" >>"$work/$1.vtb.machine"
	echo "bench: $1 vtb run: $(tail -n 1 "$work/$1.vtb.total") s (up $(tail -n 1 "$work/$1.vtb.up"), down $(tail -n 1 "$work/$1.vtb.down"), the kernel's netns work after it $(tail -n 1 "$work/$1.vtb.kernel"))"
}

mn_clean
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	echo "bench: round $i of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
	# alternate which side goes first, so a drift in load hits both
	if [ $((i % 2)) -eq 1 ]; then
		time_mn single100 single,100
		time_vtb single100 "$out/up-single100.vtb"
		time_mn linear100 linear,100
		time_vtb linear100 "$out/up-linear100.vtb"
		time_vtb linear100-noroutes "$out/up-linear100-noroutes.vtb"
	else
		time_vtb single100 "$out/up-single100.vtb"
		time_mn single100 single,100
		time_vtb linear100-noroutes "$out/up-linear100-noroutes.vtb"
		time_vtb linear100 "$out/up-linear100.vtb"
		time_mn linear100 linear,100
	fi
done

printf 'case\ttool\tphase\truns\ttime_median_s\ttime_min_s\ttime_max_s\n' >"$tsv"
for c in single100 linear100 linear100-noroutes; do
	for tool in mininet vtb; do
		for phase in total up down kernel machine; do
			f=$work/$c.$tool.$phase
			[ -f "$f" ] || continue
			set -- $(stats "$f")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$tool" "$phase" "$(wc -l <"$f")" "$1" "$2" "$3" >>"$tsv"
		done
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/up_mininet.env"
column -t -s "$(printf '\t')" "$tsv" 2>/dev/null || cat "$tsv"
for c in single100 linear100; do
	awk -F'\t' -v c="$c" '$1 == c && $3 == "total" { t[$2] = $5 } $1 == c && $3 == "up" { u[$2] = $5 }
		$1 == c && $3 == "machine" { m[$2] = $5 }
		END { if (t["vtb"] > 0 && u["vtb"] > 0)
			printf "bench: %s: vtb is %.1fx faster than Mininet up+down (%.3f s vs %.3f s), %.1fx on up alone\n",
				c, t["mininet"] / t["vtb"], t["vtb"], t["mininet"], u["mininet"] / u["vtb"]
		      if (m["vtb"] > 0)
			printf "bench: %s: %.1fx counting the kernel'"'"'s netns work after each (%.3f s vs %.3f s)\n",
				c, m["mininet"] / m["vtb"], m["vtb"], m["mininet"] }' "$tsv"
done
echo "bench: wrote $tsv and $counts"
