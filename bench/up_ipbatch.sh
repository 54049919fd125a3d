#!/bin/sh
# Bring-up against iproute2 batches (docs/benchmarks.md, "Bring-up", part 2):
# the kernel objects `vtb up` creates for a model, created by `ip -batch`
# instead, then removed by a matching deletion batch; timed against
# `vtb up` and `vtb down`, alternating, BENCH_RUNS (default 5) runs each.
#
# Models (written to bench/out/):
#   chain100   n1..n100 in a chain (99 point-to-point links) plus two LANs,
#              [n1, n34, n67] and [n25, n50, n75, n100]; static routes
#   single100  h1..h100 on one LAN
#
# The batches are written from the model's realization: the script brings
# the model up with vtb once, reads `vtb status NAME --json` (nodes,
# interfaces, addresses, MACs, links) and each node's static routes (ip
# route), brings it down, and writes
#   root.batch      netns add (per node), link add ... type bridge (per LAN),
#                   link add PORT up master BRIDGE type veth peer name ethX
#                   netns NS address MAC (per LAN endpoint), link add ethX
#                   netns A address MAC type veth peer name ethY netns B
#                   address MAC (per point-to-point link)
#   ns/NODE.batch   link set lo up, link set ethX up, addr add, route add:
#                   run as `ip -n NS -batch FILE`, one ip process per node
#                   (a batch line cannot switch namespace)
#   del.batch       netns del (per node), link del BRIDGE (per LAN)
# with names of its own (vtbq<tag>-NODE, vtbq<tag>b<n>, vtbq<tag>p<n>).
# What the batches do not do and vtb does: UTS namespaces and hostnames,
# IP forwarding on nodes with two or more interfaces (ip has no command for
# it), the journal (SQLite), the supervisor process.
#
# Writes bench/out/up_ipbatch.tsv and rows of bench/out/up_counts.tsv.
# Environment: VTB (default ./vtb), BENCH_RUNS (default 5).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

vtb=${VTB:-./vtb}
runs=${BENCH_RUNS:-5}
out=bench/out
tsv=$out/up_ipbatch.tsv
counts=$out/up_counts.tsv
for tool in ip python3; do
	if ! command -v $tool >/dev/null; then
		echo "bench: $tool is missing" >&2
		exit 2
	fi
done
[ -x "$vtb" ] || { echo "bench: $vtb is not built; run make" >&2; exit 2; }
mkdir -p "$out"


# count_objects CASE TOOL PROCS MOUNTS NS...: one row of up_counts.tsv
# (the same columns as bench/up_mininet.sh). Root-side objects are those
# matching ROOT_BRIDGE_RE and ROOT_VETH_RE, in the namespace ROOT_NS (vtb's
# substrate "vtb<id>"; empty: the root namespace).
count_objects() {
	_case=$1 _tool=$2 _procs=$3 _mounts=$4
	shift 4
	_ns=0 _nsveth=0 _addr=0 _routes=0
	for _n in "$@"; do
		_ns=$((_ns + 1))
		_nsveth=$((_nsveth + $(ip -n "$_n" -o link show type veth 2>/dev/null | wc -l)))
		_addr=$((_addr + $(ip -n "$_n" -4 -o addr show scope global | wc -l)))
		_routes=$((_routes + $(ip -n "$_n" -4 route show | grep -vc 'proto kernel' || true)))
	done
	_br=$(ip ${ROOT_NS:+-n "$ROOT_NS"} -o link show type bridge 2>/dev/null | awk -F': ' '{ print $2 }' | grep -Ec "$ROOT_BRIDGE_RE" || true)
	_rveth=$(ip ${ROOT_NS:+-n "$ROOT_NS"} -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep -Ec "$ROOT_VETH_RE" || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$_case" "$_tool" "$_ns" "$_br" \
		$(((_rveth + _nsveth) / 2)) "$_rveth" "$_addr" "$_routes" "$_procs" "$_mounts"
}

state=$(mktemp -d /tmp/vtbbench.XXXXXX)
export VTB_STATE_DIR="$state"
work=$state/work
mkdir -p "$work"
: >"$work/ids"
tag=$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')
prefix=vtbq$tag

cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP
	for _name in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$_name" >/dev/null 2>&1 || true
	done
	"$vtb" clean >/dev/null 2>&1 || true
	# what a batch run may have left (names carry our tag)
	for _n in $(ip netns list | awk -v p="$prefix-" 'index($1, p) == 1 { print $1 }'); do
		ip netns del "$_n" 2>/dev/null || true
	done
	for _l in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^${prefix}b" || true); do
		ip link del "$_l" 2>/dev/null || true
	done
	_left=$(ip netns list | grep -c "^$prefix-" || true)
	_left=$((_left + $(ip -o link show | grep -c ": $prefix" || true)))
	for _id in $(cat "$work/ids" 2>/dev/null); do
		_left=$((_left + $(ip netns list | grep -Ec "^vtb$_id(-| |\$)" || true)))
		_left=$((_left + $(ip -o link show | grep -c ": vtb$_id" || true)))
		_left=$((_left + $(ip -n "vtb$_id" -o link show 2>/dev/null | grep -c ": vtb$_id" || true)))
	done
	if [ "$_left" -ne 0 ]; then
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
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vtb: $vtb, $(stat -c '%y' "$vtb"); $(ip -V)"
	echo "tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo ' (with local changes)')"
	echo "runs: $runs of each, alternating"
} >"$out/up_ipbatch.env"

# ---- models ----
{
	echo "# 100 nodes in a chain plus two LANs"
	echo "n = []"
	echo "for i in range(100):"
	echo "    n.append(topo.device('n' + str(i + 1)))"
	echo "for i in range(99):"
	echo "    topo.connect([n[i], n[i + 1]])"
	echo "topo.connect([n[0], n[33], n[66]], name='lanA')"
	echo "topo.connect([n[24], n[49], n[74], n[99]], name='lanB')"
} >"$out/up-chain100.vtb"
{
	echo "# 100 hosts on one LAN: the vtb side of mn --topo single,100"
	echo "h = []"
	echo "for i in range(100):"
	echo "    h.append(topo.device('h' + str(i + 1)))"
	echo "topo.connect(h, name='lan')"
} >"$out/up-single100.vtb"



# gen_batches CASE MODEL: bring the model up once, count what vtb built,
# write the batches from its realization into $work/CASE/, bring it down.
gen_batches() {
	_c=$1 _d=$work/$1
	mkdir -p "$_d/ns"
	settle >/dev/null
	_id=$(vtb_up "$2" "gen-$_c")
	"$vtb" status "gen-$_c" --json >"$_d/status.json"
	: >"$_d/routes"
	for _n in $(ip netns list | awk -v p="vtb$_id-" 'index($1, p) == 1 { print $1 }'); do
		_node=${_n#vtb$_id-}
		ip -n "$_n" -4 route show proto static | sed "s/^/$_node	/" >>"$_d/routes"
		ip -n "$_n" -6 route show proto static | sed "s/^/$_node	/" >>"$_d/routes"
	done
	ROOT_BRIDGE_RE="^vtb${_id}b" ROOT_VETH_RE="^vtb${_id}p" ROOT_NS="vtb$_id"
	_procs=$("$vtb" status "gen-$_c" --json | grep -c '"alive": true' || true)
	_mounts=$(grep -Ec "/vtb$_id-[^ ]* " /proc/self/mountinfo || true)
	# shellcheck disable=SC2046
	count_objects "$_c" vtb "$_procs" "$_mounts" \
		$(ip netns list | awk -v p="vtb$_id-" 'index($1, p) == 1 { print $1 }') >>"$work/counts"
	vtb_down "gen-$_c"
	python3 - "$_d" "$prefix" <<'PY'
import json, os, sys

d, prefix = sys.argv[1], sys.argv[2]
st = json.load(open(os.path.join(d, 'status.json')))
routes = {}
for line in open(os.path.join(d, 'routes')):
    node, route = line.rstrip('\n').split('\t', 1)
    route = route.replace(' proto static', '').strip()
    if route:
        routes.setdefault(node, []).append(route)

def ns(node):
    return '%s-%s' % (prefix, node)

# per link: the interfaces on it, in endpoint order
ifs = {}
for n in st['nodes']:
    for i in n['interfaces']:
        ifs.setdefault(i['link'], {})[n['name']] = i

root = ['netns add %s' % ns(n['name']) for n in st['nodes']]
delete = ['netns del %s' % ns(n['name']) for n in st['nodes']]
port = 0
for b, l in enumerate(st['links']):
    on = ifs.get(l['name'], {})
    if l['kind'] == 'p2p':
        a, z = l['endpoints']
        ia, iz = on[a], on[z]
        root.append('link add %s netns %s address %s type veth peer name %s netns %s address %s'
                    % (ia['name'], ns(a), ia['mac'], iz['name'], ns(z), iz['mac']))
        continue
    br = '%sb%x' % (prefix, b)
    root.append('link add %s up type bridge forward_delay 0 stp_state 0 mcast_snooping 0' % br)
    delete.append('link del %s' % br)
    for node in l['endpoints']:
        i = on[node]
        root.append('link add %sp%x up master %s type veth peer name %s netns %s address %s'
                    % (prefix, port, br, i['name'], ns(node), i['mac']))
        port += 1

with open(os.path.join(d, 'root.batch'), 'w') as f:
    f.write('\n'.join(root) + '\n')
with open(os.path.join(d, 'del.batch'), 'w') as f:
    f.write('\n'.join(delete) + '\n')
with open(os.path.join(d, 'ns.list'), 'w') as lst:
    for k, n in enumerate(st['nodes']):
        cmds = ['link set lo up']
        for i in n['interfaces']:
            cmds.append('link set %s up' % i['name'])
            for fam in ('ipv4', 'ipv6'):
                if i.get(fam):
                    cmds.append('addr add %s dev %s' % (i[fam], i['name']))
        cmds += ['route add ' + r for r in routes.get(n['name'], [])]
        path = os.path.join(d, 'ns', '%d.batch' % k)
        with open(path, 'w') as f:
            f.write('\n'.join(cmds) + '\n')
        lst.write('%s %s\n' % (ns(n['name']), path))
PY
	echo "bench: $_c: $(wc -l <"$_d/root.batch") root batch lines, $(cat "$_d"/ns/*.batch | wc -l) namespace batch lines in $(wc -l <"$_d/ns.list") files, $(wc -l <"$_d/del.batch") deletion lines"
}

# batch_up CASE: the timed creation; prints "root_end_ns"
batch_up() {
	ip -batch "$work/$1/root.batch" || { echo "bench: ip -batch root.batch failed" >&2; exit 1; }
	_t=$(now)
	while read -r _ns _f; do
		ip -n "$_ns" -batch "$_f" || { echo "bench: ip -n $_ns -batch $_f failed" >&2; exit 1; }
	done <"$work/$1/ns.list"
	echo "$_t"
}

batch_down() {
	ip -batch "$work/$1/del.batch" || { echo "bench: ip -batch del.batch failed" >&2; exit 1; }
}

# check_batch CASE FROM TO: count what the batches built and check that it
# works (forwarding is turned on here, untimed, for the check only)
check_batch() {
	settle >/dev/null
	batch_up "$1" >/dev/null
	ROOT_BRIDGE_RE="^${prefix}b" ROOT_VETH_RE="^${prefix}p" ROOT_NS=""
	# shellcheck disable=SC2046
	count_objects "$1" ip-batch 0 0 \
		$(ip netns list | awk -v p="$prefix-" 'index($1, p) == 1 { print $1 }') >>"$work/counts"
	for _n in $(ip netns list | awk -v p="$prefix-" 'index($1, p) == 1 { print $1 }'); do
		if [ "$(ip -n "$_n" -o link show type veth | wc -l)" -ge 2 ]; then
			ip netns exec "$_n" sysctl -qw net.ipv4.ip_forward=1
		fi
	done
	_addr=$(ip -n "$prefix-$3" -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
	if ip netns exec "$prefix-$2" ping -c 1 -W 2 "$_addr" >/dev/null; then
		echo "bench: $1: the ip-batch build works: $2 reaches $3 ($_addr)"
	else
		echo "bench: $1: the ip-batch build does NOT work: $2 does not reach $3 ($_addr)" >&2
	fi
	batch_down "$1"
}

: >"$work/counts"
gen_batches chain100 "$out/up-chain100.vtb"
gen_batches single100 "$out/up-single100.vtb"
check_batch chain100 n1 n60
check_batch single100 h1 h100
{
	printf 'case\ttool\tnetns\tbridges\tveth_pairs\troot_veth_ends\tipv4_addresses\troutes\tprocesses\tbind_mounts\n'
	if [ -f "$counts" ]; then
		tail -n +2 "$counts" | awk -F'\t' 'FILENAME == ARGV[1] { drop[$1 "\t" $2] = 1; next } !(($1 "\t" $2) in drop)' \
			"$work/counts" - || true
	fi
	cat "$work/counts"
} >"$work/counts.new"
mv "$work/counts.new" "$counts"
column -t -s "$(printf '\t')" "$counts" 2>/dev/null || cat "$counts"

time_batch() {
	settle >/dev/null
	t0=$(now)
	tr=$(batch_up "$1")
	t1=$(now)
	batch_down "$1"
	t2=$(now)
	ms "$t0" "$t2" >>"$work/$1.ip-batch.total"
	ms "$t0" "$t1" >>"$work/$1.ip-batch.up"
	ms "$t0" "$tr" >>"$work/$1.ip-batch.up_root"
	ms "$tr" "$t1" >>"$work/$1.ip-batch.up_ns"
	ms "$t1" "$t2" >>"$work/$1.ip-batch.down"
	echo "bench: $1 ip-batch run: up $(tail -n 1 "$work/$1.ip-batch.up") (root batch $(tail -n 1 "$work/$1.ip-batch.up_root"), $(wc -l <"$work/$1/ns.list") namespace batches $(tail -n 1 "$work/$1.ip-batch.up_ns")), down $(tail -n 1 "$work/$1.ip-batch.down")"
}

time_vtb() {
	settle >/dev/null
	t0=$(now)
	vtb_up "$2" "$1" >/dev/null
	t1=$(now)
	vtb_down "$1"
	t2=$(now)
	ms "$t0" "$t2" >>"$work/$1.vtb.total"
	ms "$t0" "$t1" >>"$work/$1.vtb.up"
	ms "$t1" "$t2" >>"$work/$1.vtb.down"
	echo "bench: $1 vtb run: up $(tail -n 1 "$work/$1.vtb.up"), down $(tail -n 1 "$work/$1.vtb.down")"
}

i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	echo "bench: round $i of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
	for c in chain100 single100; do
		if [ $((i % 2)) -eq 1 ]; then
			time_batch $c
			time_vtb $c "$out/up-$c.vtb"
		else
			time_vtb $c "$out/up-$c.vtb"
			time_batch $c
		fi
	done
done

printf 'case\ttool\tphase\truns\ttime_median_s\ttime_min_s\ttime_max_s\n' >"$tsv"
for c in chain100 single100; do
	for tool in ip-batch vtb; do
		for phase in total up up_root up_ns down; do
			f=$work/$c.$tool.$phase
			[ -f "$f" ] || continue
			set -- $(stats "$f")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$tool" "$phase" "$(wc -l <"$f")" "$1" "$2" "$3" >>"$tsv"
		done
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/up_ipbatch.env"
column -t -s "$(printf '\t')" "$tsv" 2>/dev/null || cat "$tsv"
for c in chain100 single100; do
	awk -F'\t' -v c="$c" '$1 == c { t[$2 "." $3] = $5 }
		END { printf "bench: %s: vtb up / ip-batch up = %.2f, vtb down / ip-batch down = %.2f, up+down %.2f\n", c,
			t["vtb.up"] / t["ip-batch.up"], t["vtb.down"] / t["ip-batch.down"], t["vtb.total"] / t["ip-batch.total"] }' "$tsv"
done
echo "bench: wrote $tsv and $counts"
