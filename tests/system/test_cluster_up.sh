#!/bin/bash
# System tests of experiments across hosts (issue 17) on three simulated
# hosts (scripts/simhosts.sh) with their agents: vtb up from one host
# places the nodes (pins honoured), each host builds its part, links
# between hosts are carried over VXLAN (a direct link, an emulated one
# whose latency is measured, a LAN over three hosts, iperf3 across); two
# vtb up at once never overcommit a host; vtb down from another host and
# vtb clean after kill -9 of vtb up leave nothing on any host. Needs root,
# etcd-server, iperf3.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# a part of a few nodes is built in well under a second; agents and
# etcd on a loaded machine: 60 s
UP_S=60
# the owner's lease (6 s) lapses after kill -9 of vtb up
LAPSE_S=15

m=$(mktemp -d /tmp/vtbclup.XXXXXX)
on_exit "rm -rf $m"
sim_start 3
sim_cluster 3

cat >"$m/three.vtb" <<'M'
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h3')
ab = topo.connect([a, b], name='ab')
ab[a].spec(ip == '10.50.1.1/24')
ab[b].spec(ip == '10.50.1.2/24')
bc = topo.connect([b, c], latency == ms(10), name='bc')
bc[b].spec(ip == '10.50.2.1/24')
bc[c].spec(ip == '10.50.2.2/24')
lan = topo.connect([a, b, c], name='lan')
lan[a].spec(ip == '10.50.3.1/24')
lan[b].spec(ip == '10.50.3.2/24')
lan[c].spec(ip == '10.50.3.3/24')
M
out=$(on h2 "$VTB" up "$m/three.vtb" 2>&1)
if printf '%s\n' "$out" | grep -q "is up (id .*) .* across 3 hosts"; then ok "up from h2 across three hosts"
else not_ok "up from h2 across three hosts" "$out"; fi
if printf '%s\n' "$out" | grep -Eq "^  a +h1 " && printf '%s\n' "$out" | grep -Eq "^  c +h3 "; then
	ok "pinned nodes land where pinned (a on h1, c on h3)"
else not_ok "pinned nodes land where pinned" "$out"; fi
if on h1 ip netns list | grep -q -- "-a\$" && ! on h1 ip netns list | grep -q -- "-b\$" &&
	on h3 ip netns list | grep -q -- "-c\$"; then
	ok "each host holds only its own nodes"
else not_ok "each host holds only its own nodes" "$(for h in h1 h2 h3; do echo "$h:"; on $h ip netns list; done)"; fi
exec_on() { h=$1; shift; on "$h" "$VTB" exec three "$@"; }
expect "direct link between hosts: a (h1) pings b (h2)" exec_on h1 a -- ping -c 2 -W 2 10.50.1.2
expect "LAN over three hosts: a pings c" exec_on h1 a -- ping -c 2 -W 2 10.50.3.3
expect "LAN over three hosts: c pings b" exec_on h3 c -- ping -c 2 -W 2 10.50.3.2
expect_fail "vtb exec of a node on another host names that host" 1 "node 'a' of 'three' runs on host 'h1'" \
	exec_on h2 a -- true
rtt=$(exec_on h2 b -- ping -c 5 -i 0.2 -W 2 10.50.2.2 2>&1 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
if [ -n "$rtt" ] && awk -v r="$rtt" 'BEGIN { exit !(r >= 19 && r <= 30) }'; then
	ok "emulated link between hosts: RTT $rtt ms (10 ms each way, emulated once)"
else not_ok "emulated link between hosts: RTT about 20 ms" "rtt '$rtt'"; fi
exec_on h2 b -- sh -c 'iperf3 -s -D -1 >/dev/null 2>&1'
out=$(exec_on h1 a -- iperf3 -c 10.50.1.2 -t 2 2>&1)
bw=$(printf '%s\n' "$out" | awk '/receiver/ { print $7, $8 }')
if [ -n "$bw" ]; then ok "iperf3 across hosts: $bw"; else not_ok "iperf3 across hosts" "$out"; fi
expect_fail "the same name again is refused" 1 "already up in the cluster" on h3 "$VTB" up "$m/three.vtb"
out=$(on h3 "$VTB" status three 2>&1)
if printf '%s\n' "$out" | grep -q "up across 3 hosts" && [ "$(printf '%s\n' "$out" | grep -c " up ")" -ge 3 ]; then
	ok "status from h3: up on three hosts"
else not_ok "status from h3" "$out"; fi
out=$(on h1 "$VTB" down three 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'three' .* from 3 hosts"; then ok "down from h1"
else not_ok "down from h1" "$out"; fi
if eventually 5 nothing_anywhere; then ok "nothing left on any host, nothing in etcd"
else not_ok "nothing left on any host" "$(sim_show)"; fi

# two vtb up at once: each needs 40 GiB, the three hosts have about 70
for k in 1 2; do
	cat >"$m/big$k.vtb" <<M
n = []
for i in range(4):
    n.append(topo.device('n' + str(i), memory == gb(10)))
for i in range(3):
    topo.connect([n[i], n[i + 1]])
M
done
on h1 "$VTB" up "$m/big1.vtb" >"$m/o1" 2>&1 &
p1=$!
on h2 "$VTB" up "$m/big2.vtb" >"$m/o2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $((r1 == 0)) != $((r2 == 0)) ] && grep -q "no room\|fits on no host\|does not fit" "$m/o$([ $r1 = 0 ] && echo 2 || echo 1)"; then
	ok "two vtb up at once: one is up, the other is refused for want of room"
else not_ok "two vtb up at once never overcommit" "exit $r1: $(cat "$m/o1")
exit $r2: $(cat "$m/o2")"; fi
out=$(on h3 "$VTB" cluster status --json)
if printf '%s' "$out" | python3 -c 'import json,sys; v=json.load(sys.stdin); assert all(h["used_memory"] <= h["memory"] for h in v); assert sum(h["used_memory"] for h in v) >= 40<<30'; then
	ok "the allocation table holds the one that is up, within every host's memory"
else not_ok "the allocation table" "$out"; fi
for k in 1 2; do on h3 "$VTB" down big$k >/dev/null 2>&1; done
if eventually 5 nothing_anywhere; then ok "down: nothing left"
else not_ok "down: nothing left" "$(sim_show)"; fi

# kill -9 of vtb up once a host builds (300 nodes: each host takes a
# while), then vtb clean from another host
cat >"$m/ring.vtb" <<'M'
n = []
for i in range(300):
    n.append(topo.device('n' + str(i)))
for i in range(300):
    topo.connect([n[i], n[(i + 1) % 300]])
M
on h2 "$VTB" up "$m/ring.vtb" >"$m/o3" 2>&1 &
p=$!
for i in $(seq 600); do grep -q "building" "$m/o3" && break; sleep 0.05; done
pkill -9 -f "vtb up $m/ring.vtb"
wait $p 2>/dev/null
if grep -q "is up" "$m/o3"; then not_ok "vtb up was killed while the hosts built" "$(cat "$m/o3")"
else ok "vtb up killed (SIGKILL) while the hosts built"; fi
if eventually "$LAPSE_S" sh -c "'$SIM' exec h1 -- '$VTB' status | grep -q '^ring .*its vtb is gone'"; then
	ok "after kill -9 of vtb up, status says its vtb is gone"
else not_ok "after kill -9 of vtb up, status says its vtb is gone" "$(on h1 "$VTB" status 2>&1)"; fi
expect "vtb clean on h3" on h3 "$VTB" clean
if eventually 30 nothing_anywhere; then ok "vtb clean: nothing left on any host, nothing in etcd"
else not_ok "vtb clean: nothing left" "$(sim_show)"; fi

sim_finish
