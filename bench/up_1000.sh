#!/bin/sh
# Bring-up at 1000 container nodes (docs/benchmarks.md, "Bring-up", part 3).
# Targets: `vtb up` under 10 s, `vtb down` under 10 s, on 2 cores.
#
# Models (written to bench/out/):
#   ring1000   n1..n1000 in a ring: 1000 nodes, 1000 point-to-point links
#   sites1000  100 sites of a router and 9 hosts on a LAN, the routers in a
#              ring: 1000 nodes, 200 links (100 LANs of 10, 100
#              point-to-point), that is 1100 veth pairs and 100 bridges
#
# BENCH_RUNS (default 5) runs of each, alternating. Per run: wall time of
# `vtb up` and its max RSS (/usr/bin/time %M), VmRSS of the experiment's
# supervisor while it is up (/proc/PID/status), wall time of `vtb down`, and
# how long the kernel goes on freeing the namespaces after `vtb down`
# returned (lib.sh's kernel_done: until no kernel worker has run the netns
# workqueue for 0.1 s; another user's namespaces going at the same time
# would lengthen it). Once per model,
# the kernel objects are counted and a ping crosses the topology between
# two far-apart nodes.
#
# Writes bench/out/up_1000.tsv and rows of bench/out/up_counts.tsv.
# Environment: VTB (default ./vtb), BENCH_RUNS (default 5).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

vtb=${VTB:-./vtb}
runs=${BENCH_RUNS:-5}
out=bench/out
tsv=$out/up_1000.tsv
counts=$out/up_counts.tsv
if [ ! -x /usr/bin/time ]; then
	echo "bench: /usr/bin/time is missing; run scripts/deps.sh bench" >&2
	exit 2
fi
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
	_left=0
	for _id in $(cat "$work/ids" 2>/dev/null); do
		_left=$((_left + $(ip netns list | grep -Ec "^vtb$_id(-| |\$)" || true)))
		_left=$((_left + $(ip -o link show | grep -c ": vtb$_id" || true)))
		_left=$((_left + $(ip -n "vtb$_id" -o link show 2>/dev/null | grep -c ": vtb$_id" || true)))
	done
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

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(uname -srm), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "memory: $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "/run: $(df -T /run/netns 2>/dev/null | awk 'NR == 2 { print $2 }') (where the namespace files are made)"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vtb: $vtb, $(stat -c '%y' "$vtb")"
	echo "tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo ' (with local changes)')"
	echo "runs: $runs of each, alternating"
} >"$out/up_1000.env"

# ---- models ----
{
	echo "# 1000 nodes in a ring: 1000 nodes, 1000 point-to-point links"
	echo "n = []"
	echo "for i in range(1000):"
	echo "    n.append(topo.device('n' + str(i + 1)))"
	echo "for i in range(1000):"
	echo "    topo.connect([n[i], n[(i + 1) % 1000]])"
} >"$out/up-ring1000.vtb"
{
	echo "# 100 sites of a router and 9 hosts on a LAN, the routers in a ring:"
	echo "# 1000 nodes, 100 LANs of 10 and 100 point-to-point links"
	echo "r = []"
	echo "for s in range(100):"
	echo "    r.append(topo.device('r' + str(s + 1)))"
	echo "for s in range(100):"
	echo "    lan = [r[s]]"
	echo "    for j in range(9):"
	echo "        lan.append(topo.device('h' + str(s + 1) + '-' + str(j + 1)))"
	echo "    topo.connect(lan, name='site' + str(s + 1))"
	echo "for s in range(100):"
	echo "    topo.connect([r[s], r[(s + 1) % 100]])"
} >"$out/up-sites1000.vtb"

# vtb_up MODEL NAME: bring it up (max RSS to $work/rss), print its id
# vtb_up: lib.sh's, also taking vtb up's peak memory
vtb_up() {
	/usr/bin/time -f '%M' -o "$work/rss" "$vtb" up "$1" --name "$2" >"$work/up.out" 2>"$work/up.err" || {
		echo "bench: vtb up $1 failed:" >&2
		grep -v building "$work/up.err" | head -n 5 >&2
		exit 1
	}
	_id=$(sed -n 's/.* is up (id \([0-9a-f]*\)).*/\1/p' "$work/up.out")
	echo "$_id" >>"$work/ids"
	echo "$_id"
}


# check SHAPE ID FROM TO...: count the kernel objects once, and ping from
# FROM to each TO across the topology
check() {
	_shape=$1 _id=$2 _from=$3
	shift 3
	_nsveth=0 _addr=0 _routes=0 _ns=0
	for _n in $(ip netns list | awk -v p="vtb$_id-" 'index($1, p) == 1 { print $1 }'); do
		_ns=$((_ns + 1))
		_nsveth=$((_nsveth + $(ip -n "$_n" -o link show type veth 2>/dev/null | wc -l)))
		_addr=$((_addr + $(ip -n "$_n" -4 -o addr show scope global | wc -l)))
		_routes=$((_routes + $(ip -n "$_n" -4 route show | grep -vc 'proto kernel' || true)))
	done
	_br=$(ip -n "vtb$_id" -o link show type bridge | grep -c ": vtb${_id}b" || true)
	_rveth=$(ip -n "vtb$_id" -o link show type veth 2>/dev/null | grep -c ": vtb${_id}p" || true)
	_procs=$("$vtb" status "$_shape" --json | grep -c '"alive": true' || true)
	_mounts=$(grep -Ec "/vtb$_id-[^ ]* " /proc/self/mountinfo || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$_shape" vtb "$_ns" "$_br" \
		$(((_rveth + _nsveth) / 2)) "$_rveth" "$_addr" "$_routes" "$_procs" "$_mounts" >>"$work/counts"
	for _to in "$@"; do
		_a=$(ip -n "vtb$_id-$_to" -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
		if ip netns exec "vtb$_id-$_from" ping -c 1 -W 3 "$_a" >"$work/ping" 2>&1; then
			echo "bench: $_shape: $_from reaches $_to ($_a): $(sed -n 's/.*bytes from \([^:]*\): \(.*\)/\2/p' "$work/ping")"
		else
			echo "bench: $_shape: $_from does NOT reach $_to ($_a)" >&2
			cat "$work/ping" >&2
			echo failed >>"$work/check"
		fi
	done
}

# one SHAPE: a timed run (and the check on the first)
one() {
	_shape=$1
	settle >/dev/null
	_t0=$(now)
	_id=$(vtb_up "$out/up-$_shape.vtb" "$_shape")
	_t1=$(now)
	awk '{ printf "%.1f\n", $1 / 1024 }' "$work/rss" >>"$work/$_shape.up_rss"
	_pid=$("$vtb" status "$_shape" --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -n 1)
	awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$_pid/status" >>"$work/$_shape.supervisor_rss"
	if [ ! -f "$work/$_shape.checked" ]; then
		touch "$work/$_shape.checked"
		case $_shape in
		# 60 hops each way (a ring of 1000 is 500 hops across, beyond
		# any TTL): n61 one way round, n941 the other
		ring1000) check "$_shape" "$_id" n1 n2 n61 n941 ;;
		# r1 to r51 is 50 hops round the ring of routers, either way
		sites1000) check "$_shape" "$_id" h1-1 h1-9 h26-5 h51-9 ;;
		esac
	fi
	_t2=$(now)
	vtb_down "$_shape"
	_t3=$(now)
	_t4=$(kernel_done "$_t3")
	ms "$_t0" "$_t1" >>"$work/$_shape.up"
	ms "$_t2" "$_t3" >>"$work/$_shape.down"
	ms "$_t3" "$_t4" >>"$work/$_shape.kernel_after_down"
	echo "bench: $_shape: up $(tail -n 1 "$work/$_shape.up") s ($(tail -n 1 "$work/$_shape.up_rss") MB max RSS; supervisor $(tail -n 1 "$work/$_shape.supervisor_rss") MB), down $(tail -n 1 "$work/$_shape.down") s (+ kernel ~$(tail -n 1 "$work/$_shape.kernel_after_down") s)"
}

: >"$work/counts"
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	echo "bench: round $i of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
	if [ $((i % 2)) -eq 1 ]; then
		one ring1000
		one sites1000
	else
		one sites1000
		one ring1000
	fi
done

{
	printf 'case\ttool\tnetns\tbridges\tveth_pairs\troot_veth_ends\tipv4_addresses\troutes\tprocesses\tbind_mounts\n'
	if [ -f "$counts" ]; then
		tail -n +2 "$counts" | awk -F'\t' 'FILENAME == ARGV[1] { drop[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in drop)' \
			"$work/counts" - || true
	fi
	cat "$work/counts"
} >"$work/counts.new"
mv "$work/counts.new" "$counts"

printf 'case\tmetric\tunit\truns\tmedian\tmin\tmax\n' >"$tsv"
for s in ring1000 sites1000; do
	for m in up:s down:s kernel_after_down:s up_rss:MB supervisor_rss:MB; do
		f=$work/$s.${m%:*}
		set -- $(stats "$f")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "${m%:*}" "${m#*:}" "$(wc -l <"$f")" "$1" "$2" "$3" >>"$tsv"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/up_1000.env"
column -t -s "$(printf '\t')" "$tsv" 2>/dev/null || cat "$tsv"
awk -F'\t' '$2 == "up" || $2 == "down" { printf "bench: %s: vtb %s median %s s: target 10 s %s\n", $1, $2, $5, ($5 < 10 ? "met" : "NOT met") }' "$tsv"
if [ -f "$work/check" ]; then
	echo "bench: a ping across the topology failed" >&2
	exit 1
fi
echo "bench: wrote $tsv and $counts"
