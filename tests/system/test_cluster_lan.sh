#!/bin/bash
# System tests of an emulated LAN spanning hosts (issue 17) on three
# simulated hosts whose etcd wants client certificates (the relay carries
# vtb link set to every host): a LAN with 10 ms on each endpoint, a and b
# on h1, c on h2, d on h3 (10 Mbit/s on d's endpoint). The RTT between
# nodes on one host and on two hosts is the one-host figure (2 x 10 ms,
# measured on one host too): each host impairs its own endpoints' traffic
# once, the VXLAN device carries what is impaired already; d's rate holds
# across hosts; the third host's underlay sees the ARP broadcast of a ping
# between the other two but none of its unicast frames (a forwarding entry
# per remote MAC on each VXLAN device); vtb link set of the LAN from one
# host changes the delay on every host, and loss on one endpoint from
# another host loses that endpoint's traffic only; vtb down leaves nothing
# on any host. Needs root, etcd-server, tcpdump, iperf3.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# the LAN's latency on each endpoint (the model's), and the window an RTT
# of two of them must fall in on a loaded machine: above 2 x LAT_MS (each
# way once), well below 3 x (once more on the way would be 4 x)
LAT_MS=10
RTT_MIN_MS=19
RTT_MAX_MS=30
# after vtb link set latency=30ms
SET_MS=30
SET_MIN_MS=59
SET_MAX_MS=75
# d's rate (Mbit/s), and the window iperf3's receiver must see over 3 s
# (the first second omitted: slow start) on a loaded machine
RATE_MBPS=10
RATE_MIN=8.5
RATE_MAX=10.5
# tcpdump on h3's underlay: long enough for an ARP exchange and 5 pings
# 0.2 s apart on a loaded machine
TCPDUMP_S=6

m=$(mktemp -d /tmp/vtbclan.XXXXXX)
on_exit "rm -rf $m"
sim_cluster_tls 3 "$m"
if etcd_keys /vtb/hosts/ | grep -q h3; then ok "etcd's keys are read with h1's certificate"
else not_ok "etcd's keys are read with h1's certificate"; fi

cat >"$m/lan.vtb" <<M
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h1')
c = topo.device('c', host == 'h2')
d = topo.device('d', host == 'h3')
lan = topo.connect([a, b, c, d], latency == ms($LAT_MS), name='lan')
lan[a].spec(ip == '10.60.0.1/24')
lan[b].spec(ip == '10.60.0.2/24')
lan[c].spec(ip == '10.60.0.3/24')
lan[d].spec(ip == '10.60.0.4/24', capacity == mbps($RATE_MBPS))
M

# rtt HOST EXP NODE ADDR: the median RTT (ms) of pings 2 to 6 (the first
# one waits for ARP, itself impaired)
rtt() {
	on "$1" "$VTB" exec "$2" "$3" -- ping -n -c 6 -i 0.2 -W 2 "$4" 2>&1 |
		sed -n 's/.*icmp_seq=\([2-9]\).*time=\([0-9.]*\) ms/\2/p' | sort -n |
		awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'
}
within() { [ -n "$1" ] && awk -v r="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(r >= lo && r <= hi)}'; }

# --- the one-host figure: the same LAN on h1 alone (host pins ignored)
expect "the LAN on one host (h1, --local)" on h1 "$VTB" up --local "$m/lan.vtb" --name one
one=$(rtt h1 one a 10.60.0.3)
if within "$one" $RTT_MIN_MS $RTT_MAX_MS; then ok "one host: RTT a-c $one ms ($LAT_MS ms on each endpoint)"
else not_ok "one host: RTT a-c about $((2 * LAT_MS)) ms" "'$one'"; fi
expect "the one-host LAN down" on h1 "$VTB" down --local one

# --- across three hosts
out=$(on h1 "$VTB" up "$m/lan.vtb" --name three 2>&1)
if printf '%s\n' "$out" | grep -q "is up (id .*) .* across 3 hosts"; then ok "an emulated LAN across three hosts is up"
else not_ok "an emulated LAN across three hosts is up" "$out"; fi
id=$(printf '%s\n' "$out" | sed -n 's/.*(id \([0-9a-f]*\)).*/\1/p')
for pair in "h1 a 10.60.0.2 a-b (both on h1)" "h1 a 10.60.0.3 a-c (h1-h2)" "h2 c 10.60.0.4 c-d (h2-h3)" \
	"h3 d 10.60.0.2 d-b (h3-h1)"; do
	set -- $pair
	r=$(rtt "$1" three "$2" "$3")
	shift 3
	if within "$r" $RTT_MIN_MS $RTT_MAX_MS; then ok "RTT $* $r ms: the one-host figure ($one ms), impaired once each way"
	else not_ok "RTT $* about $((2 * LAT_MS)) ms" "'$r'"; fi
done
# the VXLAN device is a port of each host's emulator, with a forwarding
# entry per MAC of the other hosts' endpoints (h1: c's and d's)
fdb=$(on h1 ip netns exec "vtb$id" bridge fdb show dev "vtb${id}x0" 2>&1)
if [ "$(printf '%s\n' "$fdb" | grep -v '^00:00:00:00:00:00' | grep -c 'dst 10.99.0.[23] .*permanent')" = 2 ] &&
	[ "$(printf '%s\n' "$fdb" | grep -c '^00:00:00:00:00:00 dst 10.99.0.[23]')" = 2 ]; then
	ok "h1's VXLAN device: an entry per remote MAC (c's to h2, d's to h3), and the flooding list"
else not_ok "h1's VXLAN device's forwarding entries" "$fdb"; fi

# --- d's rate holds across hosts: d (h3) sends to a (h1)
on h1 "$VTB" exec three a -- iperf3 -s -D -1 >/dev/null 2>&1
out=$(on h3 "$VTB" exec three d -- iperf3 -c 10.60.0.1 -t 4 -O 1 -f m 2>&1)
bw=$(printf '%s\n' "$out" | awk '/receiver/ { print $7 }')
if within "$bw" $RATE_MIN $RATE_MAX; then ok "d's $RATE_MBPS Mbit/s hold from h3 to h1: $bw Mbit/s"
else not_ok "d's rate holds across hosts" "'$bw'; $out"; fi

# --- h3's underlay during a ping between a (h1) and c (h2): the ARP
# request is flooded there, the unicast frames are not
on h3 timeout -s INT $TCPDUMP_S tcpdump -i eth0 -n -U -w "$m/h3.pcap" udp port 4789 2>"$m/td.err" &
td=$!
eventually 5 grep -q "listening on" "$m/td.err"
on h1 "$VTB" exec three a -- ip neigh flush all
on h2 "$VTB" exec three c -- ip neigh flush all
out=$(on h1 "$VTB" exec three a -- ping -n -c 5 -i 0.2 -W 2 10.60.0.3 2>&1)
wait $td
seen=$(tcpdump -r "$m/h3.pcap" -n 2>/dev/null)
icmp=$(printf '%s\n' "$seen" | grep -c "10.60.0.[13] > 10.60.0.[13]: ICMP echo")
arp=$(printf '%s\n' "$seen" | grep -c "ARP, Request who-has 10.60.0.3")
if printf '%s' "$out" | grep -q " 5 received" && [ "$icmp" = 0 ] && [ "$arp" -ge 1 ]; then
	ok "h3's underlay: the ARP broadcast ($arp), no frame of the 5 pings between h1 and h2"
else not_ok "unicast goes to one host only" "icmp $icmp, arp $arp; ping: $out; $(cat "$m/td.err"); $seen"; fi

# --- vtb link set from h1 changes the LAN on every host
expect "link set from h1: lan latency=${SET_MS}ms" on h1 "$VTB" link set three lan latency=${SET_MS}ms
r=$(rtt h2 three c 10.60.0.4)
if within "$r" $SET_MIN_MS $SET_MAX_MS; then ok "RTT c-d (h2-h3) after link set from h1: $r ms"
else not_ok "link set from h1 changes h2 and h3" "'$r'"; fi
r=$(rtt h1 three a 10.60.0.2)
if within "$r" $SET_MIN_MS $SET_MAX_MS; then ok "RTT a-b (h1) after link set: $r ms"
else not_ok "link set changes h1" "'$r'"; fi
out=$(on h2 "$VTB" status three --json)
if printf '%s' "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
lan = [l for l in s["links"] if l["name"] == "lan"][0]
d = {x["from"]: x for x in lan["directions"]}
assert sorted(d) == ["a", "b", "c", "d"], sorted(d)
assert all(x["params"]["latency_ns"] == '$SET_MS'000000 for x in d.values()), d
assert d["d"]["params"]["rate_bps"] == '$RATE_MBPS'000000, d["d"]
assert all(x["counters"]["tx_packets"] > 0 for x in d.values()), d
'; then ok "status from h2: the four directions of lan, each from its own host, at $SET_MS ms"
else not_ok "status of the LAN's directions" "$out"; fi

# --- loss on one endpoint, from h1: only c's traffic (on h2) is lost
expect "link set from h1: lan --from c loss=100%" on h1 "$VTB" link set three lan --from c loss=100%
expect_fail "a (h1) gets no answer from c (h2): c's frames are lost on h2" 1 "100% packet loss" \
	on h1 "$VTB" exec three a -- ping -n -c 2 -i 0.2 -W 1 10.60.0.3
expect "a (h1) still reaches d (h3)" on h1 "$VTB" exec three a -- ping -n -c 2 -i 0.2 -W 2 10.60.0.4

# --- down from h2 leaves nothing
out=$(on h2 "$VTB" down three 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'three' .* from 3 hosts"; then ok "down from h2"
else not_ok "down from h2" "$out"; fi
if eventually 5 nothing_anywhere; then ok "nothing left on any host, nothing of the experiment in etcd"
else not_ok "nothing left on any host" "$(sim_show)"; fi
sim_finish
