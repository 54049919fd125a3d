#!/bin/bash
# System tests of fragments (issue 17, docs/cluster.md "Fragments and
# dispersed links") on three simulated hosts (scripts/simhosts.sh): each
# host builds its part of one experiment with `vtb __fragment-up`, from
# fragment documents written here by hand (no agents, no etcd needed). A
# direct dispersed link (ping, a full-size frame, iperf3), an emulated one
# with 10 ms each way (RTT about 20 ms: each host impairs only what it
# sends), a LAN over three hosts (every pair pings), a link wholly on one
# host; refusals (another host's fragment, bad documents); vtb down on each
# host leaves nothing on any (namespaces, links, processes, UDP port 4789);
# kill -9 of __fragment-up mid-build then vtb clean leaves nothing. Needs
# root and python3.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
SIM=scripts/simhosts.sh
S=/var/lib/vtb-sim
# the emulated link's latency each way (the model's), and the RTT window a
# ping must fall in: 2 x 10 ms plus scheduling slack; one direction
# impaired twice (on both hosts) would give 40 ms
LAT_MS=10
RTT_MIN_MS=19
RTT_MAX_MS=30
# a VXLAN device's UDP socket closes once the kernel has unregistered the
# substrate's devices (in the background, within milliseconds)
PORT_GONE_S=5

if [ -e "$S" ]; then
	not_ok "simulated hosts are not up already" "$S exists: 'scripts/simhosts.sh down' first"
	finish
	exit 1
fi
m=$(mktemp -d /tmp/vtbfrag.XXXXXX)
chmod 755 "$m"
on_exit "rm -rf $m"
on_exit "$SIM down >/dev/null 2>&1"
on() { h=$1; shift; VTB="$VTB" "$SIM" exec "$h" -- "$@"; }

# frag XIR NAME ID HOST PLACE VNIS [JSON]: a fragment document (hosts hN
# at 10.99.0.N, those PLACE names), JSON's fields replacing the document's
cat >"$m/frag.py" <<'EOF'
import json, sys
xir = json.load(open(sys.argv[1]))
name, eid, host = sys.argv[2], sys.argv[3], sys.argv[4]
place = sys.argv[5].split(',')
xir['name'] = name
doc = {"version": 1, "name": name, "id": eid, "host": host,
       "hosts": {h: "10.99.0." + h[1:] for h in sorted(set(place))},
       "place": place, "vni": [int(v) for v in sys.argv[6].split(',')], "xir": xir}
if len(sys.argv) > 7:
    doc.update(json.loads(sys.argv[7]))
json.dump(doc, sys.stdout)
EOF
frag() { python3 "$m/frag.py" "$@"; }

# nothing_left HOST ID: no vtb namespace or link, no process of experiment
# ID, no VXLAN socket on HOST
nothing_left() {
	on "$1" sh -c 'ip netns | grep "^vtb"; ip -o link | grep -o "vtb[^:@]*"' 2>&1
	pgrep -af "vtb$2|__supervise $2|__fragment-up" | grep -v pgrep
	on "$1" awk 'toupper($2) ~ /:12B5$/ { print "udp port 4789 bound:", $2 }' /proc/net/udp
}
check_clean() {
	for h in h1 h2 h3; do
		if eventually "$PORT_GONE_S" test -z "$(nothing_left $h "$2")"; then
			ok "$1: nothing left on $h"
		else not_ok "$1: nothing left on $h" "$(nothing_left $h "$2")"; fi
	done
}

cat >"$m/demo.vtb" <<'M'
topo.spec(islands == true)
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
e = topo.device('e')
f = topo.device('f')
g = topo.device('g')
x = topo.device('x')
topo.connect([a, b])
topo.connect([c, d], latency == ms(10))
topo.connect([e, f, g])
topo.connect([g, x])
M
expect "compile the model to XIR" sh -c "'$VTB' compile --json '$m/demo.vtb' >'$m/demo.json'"
PLACE=h1,h2,h1,h2,h1,h2,h3,h3
VNI=4242,4243,4244,0
for h in h1 h2 h3; do frag "$m/demo.json" demo 3a7f $h $PLACE $VNI >"$m/$h.json"; done

expect "up 3 simulated hosts" "$SIM" up 3
for i in 1 2 3; do
	expect "h$i: /etc/vtb/cluster.conf" on h$i sh -c "mkdir -p /etc/vtb && printf 'etcd = http://10.99.0.254:2379\nhost = h$i\nunderlay = 10.99.0.$i\n' >/etc/vtb/cluster.conf"
done

# refusals: nothing is built
expect_fail "another host's fragment is refused" 1 "is for host 'h2'; this host is 'h1'" \
	on h1 "$VTB" __fragment-up "$m/h2.json"
frag "$m/demo.json" demo 3a7f h1 $PLACE 4242,0,4244,0 >"$m/bad-vni.json"
expect_fail "a dispersed link without a VNI is refused" 1 "field 'vni': entry 1 \(link 'c-d'\): its devices are on more than one host" \
	on h1 "$VTB" __fragment-up "$m/bad-vni.json"
frag "$m/demo.json" demo 3a7f h1 $PLACE $VNI '{"hosts": {"h1": "10.99.0.1", "h2": "10.99.0.300", "h3": "10.99.0.3"}}' >"$m/bad-addr.json"
expect_fail "a bad underlay address is refused" 1 "field 'hosts': host 'h2': a dotted IPv4 address expected" \
	on h1 "$VTB" __fragment-up "$m/bad-addr.json"
frag "$m/demo.json" demo 3a7f h1 h1,h2 $VNI >"$m/bad-place.json"
expect_fail "a place list of the wrong length is refused" 1 "field 'place': an array of 8 host names" \
	on h1 "$VTB" __fragment-up "$m/bad-place.json"
printf '{"version": 1, "name": "demo"' >"$m/cut.json"
expect_fail "a document that is not JSON is refused" 1 "not JSON: line 1" \
	on h1 "$VTB" __fragment-up "$m/cut.json"
expect_fail "a host in no cluster refuses" 1 "in no cluster" \
	on h1 env VTB_CLUSTER_CONF=/nonexistent "$VTB" __fragment-up "$m/h1.json"
check_clean "refusals" 3a7f

for h in h1 h2 h3; do
	expect "$h: __fragment-up" on $h "$VTB" __fragment-up "$m/$h.json"
done
out=$(on h3 "$VTB" __fragment-up - <"$m/h3.json" 2>&1)
printf '%s' "$out" | grep -q "already up on this host" && ok "a fragment twice is refused (read from stdin)" ||
	not_ok "a fragment twice is refused" "$out"
out=$(on h2 "$VTB" status demo 2>&1)
if printf '%s\n' "$out" | grep -Eq "^  b +container +up" && printf '%s\n' "$out" | grep -Eq "^  a +container +remote"; then
	ok "vtb status on h2: its nodes up, the others remote"
else not_ok "vtb status on h2: its nodes up, the others remote" "$out"; fi

expect "direct dispersed link: a (h1) pings b (h2)" on h1 "$VTB" exec demo a -- ping -c 2 -W 2 10.0.0.2
expect "a full-size frame crosses (1500 bytes, DF)" on h1 "$VTB" exec demo a -- ping -c 1 -W 2 -M do -s 1472 10.0.0.2
out=$(on h1 "$VTB" exec demo c -- ping -c 6 -i 0.2 -W 2 10.0.1.2 2>&1)
# the first reply also waited for ARP (both ways delayed): the rest
rtt=$(printf '%s\n' "$out" | sed -n 's/.*icmp_seq=\([2-9]\).*time=\([0-9.]*\) ms/\2/p' | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}')
if [ -n "$rtt" ] && awk -v r="$rtt" -v lo=$RTT_MIN_MS -v hi=$RTT_MAX_MS 'BEGIN {exit !(r >= lo && r <= hi)}'; then
	ok "emulated dispersed link, $LAT_MS ms each way: RTT $rtt ms (about $((2 * LAT_MS)), not $((4 * LAT_MS)))"
else not_ok "emulated dispersed link: RTT about $((2 * LAT_MS)) ms" "median $rtt; $out"; fi
for p in "h1 e 10.0.2.2" "h1 e 10.0.2.3" "h2 f 10.0.2.1" "h2 f 10.0.2.3" "h3 g 10.0.2.1" "h3 g 10.0.2.2"; do
	set -- $p
	expect "LAN over three hosts: $2 ($1) pings $3" on $1 "$VTB" exec demo $2 -- ping -c 1 -W 2 $3
done
expect "vtb link down on h1 cuts the dispersed link (its local port)" on h1 "$VTB" link down demo a-b
expect_fail "a no longer reaches b" 1 "100% packet loss" on h1 "$VTB" exec demo a -- ping -c 1 -W 1 10.0.0.2
expect "vtb link up on h1" on h1 "$VTB" link up demo a-b
expect "a reaches b again" on h1 "$VTB" exec demo a -- ping -c 1 -W 2 10.0.0.2
expect "a link wholly on h3: g pings x" on h3 "$VTB" exec demo g -- ping -c 1 -W 2 10.0.3.2
on h2 "$VTB" exec demo b -- iperf3 -s -p 5399 -1 -D >/dev/null 2>&1
on_exit "pkill -f 'iperf3 -s -p 5399' 2>/dev/null"
# the daemon listens once it has forked: the client tries again until then
iperf() { on h1 "$VTB" exec demo a -- iperf3 -c 10.0.0.2 -p 5399 -t 2 -f m >"$m/iperf.log" 2>&1; }
eventually 5 iperf
out=$(cat "$m/iperf.log")
bps=$(printf '%s\n' "$out" | awk '/receiver/ {print $(NF-2), $(NF-1)}')
[ -n "$bps" ] && ok "iperf3 across the dispersed link: $bps" || not_ok "iperf3 across the dispersed link" "$out"

for h in h1 h2 h3; do expect "$h: vtb down demo" on $h "$VTB" down demo; done
check_clean "after vtb down on each host" 3a7f

# an underlay of 1500 (not 1550): the dispersed link's nodes get 1450, said
cat >"$m/pair.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b])
M
printf 'a = topo.device("a")\nb = topo.device("b")\ntopo.connect([a, b], mtu == 1500)\n' >"$m/pair1500.vtb"
"$VTB" compile --json "$m/pair.vtb" >"$m/pair.json"
"$VTB" compile --json "$m/pair1500.vtb" >"$m/pair1500.json"
for h in h1 h2; do
	frag "$m/pair.json" pair 3a81 $h h1,h2 4300 >"$m/pair-$h.json"
	on $h ip link set eth0 mtu 1500
done
frag "$m/pair1500.json" pair 3a81 h1 h1,h2 4300 >"$m/pair1500-h1.json"
expect_fail "mtu == 1500 cannot cross an underlay of 1500: refused" 1 "link 'a-b' cannot cross the underlay: eth0 has MTU 1500" \
	on h1 "$VTB" __fragment-up "$m/pair1500-h1.json"
out=$(on h1 "$VTB" __fragment-up "$m/pair-h1.json" 2>&1)
printf '%s' "$out" | grep -q "MTU: 1 dispersed link lowered to fit the underlay (MTU 1500)" &&
	ok "the summary says the link's MTU was lowered" || not_ok "the summary says the MTU was lowered" "$out"
expect "h2: __fragment-up over an underlay of 1500" on h2 "$VTB" __fragment-up "$m/pair-h2.json"
out=$(on h1 "$VTB" exec pair a -- cat /sys/class/net/eth0/mtu 2>&1)
[ "$out" = 1450 ] && ok "the node's MTU is 1450" || not_ok "the node's MTU is 1450" "$out"
expect "a 1450-byte packet with DF crosses" on h1 "$VTB" exec pair a -- ping -c 1 -W 2 -M do -s 1422 10.0.0.2
for h in h1 h2; do
	expect "$h: vtb down pair" on $h "$VTB" down pair
	on $h ip link set eth0 mtu 1550
done
check_clean "after the MTU case" 3a81

# kill -9 of __fragment-up mid-build, then vtb clean on that host
cat >"$m/big.vtb" <<'M'
n = []
for i in range(160):
    n.append(topo.device('n' + str(i)))
for i in range(159):
    topo.connect([n[i], n[i + 1]])
M
"$VTB" compile --json "$m/big.vtb" >"$m/big.json"
place=$(python3 -c 'print(",".join("h%d" % (1 + (i // 20) % 2) for i in range(160)))')
vni=$(python3 -c 'print(",".join(str(5000 + i) if (i // 20) != ((i + 1) // 20) else "0" for i in range(159)))')
frag "$m/big.json" big 3a80 h1 "$place" "$vni" >"$m/big-h1.json"
midway=0
for delay in 0.05 0.15 0.3 0.5; do
	on h1 "$VTB" __fragment-up "$m/big-h1.json" >/dev/null 2>&1 &
	sleep $delay
	pid=$(pgrep -f "__fragment-up $m/big-h1.json" | head -1)
	[ -n "$pid" ] && kill -9 $pid
	wait
	if on h1 "$VTB" status big 2>/dev/null | grep -q "supervisor running"; then
		expect "down after a completed __fragment-up ($delay s)" on h1 "$VTB" down big
	else
		left=$(nothing_left h1 3a80 | wc -l)
		[ "$left" -gt 0 ] && midway=$((midway + 1))
		expect "clean after kill -9 at $delay s ($left objects left)" on h1 "$VTB" clean
	fi
	if eventually "$PORT_GONE_S" test -z "$(nothing_left h1 3a80)"; then
		ok "nothing left on h1 after kill -9 at $delay s"
	else not_ok "nothing left on h1 after kill -9 at $delay s" "$(nothing_left h1 3a80)"; fi
done
[ "$midway" -ge 1 ] && ok "$midway kills landed mid-build" || not_ok "a kill landed mid-build"

expect "simulated hosts down" "$SIM" down
finish
