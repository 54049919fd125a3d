#!/bin/bash
# System tests of vtb capture of a LAN spanning hosts (issue 18) on three
# simulated hosts with certificates (the relay): a LAN of a (h1), b and c
# (h2) and d (h3), direct and emulated. From h1, `vtb capture NAME lan -c
# 12 -w f.pcap -- icmp` while b pings c (two nodes of h2: their unicast
# never reaches h1) and d pings a: the pcap holds the 12 frames of both
# pings, each once, in non-decreasing time; stderr names the three hosts.
# A host whose agent is gone is an error naming it. vtb down leaves
# nothing on any host. Needs root, etcd-server, tcpdump.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# frames of 3 pings each way between two pairs: 3 requests and 3 replies
# per pair
PINGS=3
FRAMES=$((4 * PINGS))
# a capture that waits for frames that never come ends here (seconds)
CAP_TIMEOUT_S=40

m=$(mktemp -d /tmp/vtbccap.XXXXXX)
on_exit "rm -rf $m"
sim_cluster_tls 3 "$m"

# model KIND PROPS: the LAN, direct (no PROPS) or emulated
model() {
	cat >"$m/$1.vtb" <<M
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h2')
d = topo.device('d', host == 'h3')
lan = topo.connect([a, b, c, d]$2, name='lan')
lan[a].spec(ip == '10.60.0.1/24')
lan[b].spec(ip == '10.60.0.2/24')
lan[c].spec(ip == '10.60.0.3/24')
lan[d].spec(ip == '10.60.0.4/24')
M
}

# capture_both KIND: from h1, the LAN's frames while b pings c and d pings a
capture_both() {
	local k=$1 pc=$m/$1.pcap err=$m/$1.err cap rc td n dup dec
	on h1 timeout $CAP_TIMEOUT_S "$VTB" capture $k lan -c $FRAMES -w "$pc" -- icmp 2>"$err" &
	cap=$!
	if ! eventually 15 grep -q "capturing at" "$err"; then
		not_ok "$k: capture from h1 starts" "$(cat "$err")"
		wait $cap
		return
	fi
	on h2 "$VTB" exec $k b -- ping -n -c $PINGS -i 0.2 -W 2 10.60.0.3 >/dev/null &
	on h3 "$VTB" exec $k d -- ping -n -c $PINGS -i 0.2 -W 2 10.60.0.1 >/dev/null
	wait $!
	wait $cap; rc=$?
	td=$(tcpdump -tt -n -r "$pc" 2>/dev/null)
	n=$(printf '%s\n' "$td" | grep -c "ICMP echo")
	bc=$(printf '%s\n' "$td" | grep -c "10.60.0.[23] > 10.60.0.[23]: ICMP echo")
	da=$(printf '%s\n' "$td" | grep -c "10.60.0.[14] > 10.60.0.[14]: ICMP echo")
	dup=$(printf '%s\n' "$td" | cut -d' ' -f2- | sort | uniq -d)
	dec=$(printf '%s\n' "$td" | awk '$1 < last { print "before: " $0 } { last = $1 }')
	if [ "$rc" = 0 ] && [ "$n" = $FRAMES ] && [ "$bc" = $((2 * PINGS)) ] && [ "$da" = $((2 * PINGS)) ]; then
		ok "$k: capture from h1 holds both pings: b-c on h2 ($bc frames), d-a h3-h1 ($da)"
	else not_ok "$k: capture from h1 holds both pings" "exit $rc, $n frames ($bc b-c, $da d-a): $(cat "$err"); $td"; fi
	if [ -n "$td" ] && [ -z "$dup" ] && [ -z "$dec" ]; then ok "$k: each frame once, timestamps non-decreasing"
	else not_ok "$k: each frame once, in time order" "twice: $dup; out of order: $dec"; fi
	if grep -q "capturing at [0-9]* interfaces on 3 hosts (h1, h2, h3)" "$err"; then
		ok "$k: stderr names the hosts captured"
	else not_ok "$k: stderr names the hosts captured" "$(cat "$err")"; fi
}

model direct ""
model emulated ", latency == ms(1)"
for k in direct emulated; do
	out=$(on h1 "$VTB" up "$m/$k.vtb" --name $k 2>&1)
	if printf '%s\n' "$out" | grep -q "is up (id .*) .* across 3 hosts"; then ok "$k LAN across three hosts is up"
	else not_ok "$k LAN across three hosts is up" "$out"; fi
	capture_both $k
done

# --- a host that cannot be reached: an error naming it
expect "h3's agent killed" "$SIM" kill-agent h3
out=$(on h1 timeout $CAP_TIMEOUT_S "$VTB" capture direct lan -c 1 -w "$m/gone.pcap" 2>&1); rc=$?
if [ "$rc" = 2 ] && printf '%s\n' "$out" | grep -q "capture on host 'h3' failed"; then
	ok "a host whose agent is gone: exit 2, naming it"
else not_ok "a host that cannot be reached is an error naming it" "exit $rc: $out"; fi
expect "h3's agent started again" "$SIM" start-agent h3
eventually "$SIM_ALIVE_S" sim_alive h1 3

for k in direct emulated; do
	out=$(on h1 "$VTB" down $k 2>&1)
	if printf '%s\n' "$out" | grep -q "removed experiment '$k' .* from 3 hosts"; then ok "$k down from h1"
	else not_ok "$k down from h1" "$out"; fi
done
if eventually 5 nothing_anywhere; then ok "nothing left on any host, nothing of the experiment in etcd"
else not_ok "nothing left on any host" "$(sim_show)"; fi
sim_finish
