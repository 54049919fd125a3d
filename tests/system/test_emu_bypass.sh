#!/bin/sh
# The kernel bypass of zero-impairment emulated directions
# (docs/link-emulator.md, "Bypass"): such a direction is carried by a tc
# redirect between its ports, and vtb status still counts its frames; `vtb
# link set latency=10ms` takes it back into the emulator (the round trip
# rises by 20 ms, the counters go on), latency=0 gives it back to the
# kernel; a bypassed port's socket is off the port's taps (and back on
# them when the emulator takes the direction back); vtb capture (both
# ends) and vtb link down behave as on any
# emulated link; a direction with an impairment from the start, and a LAN,
# are never bypassed. Needs root.
. "$(dirname "$0")/lib.sh"
m=$(mktemp -d /tmp/vtbbp.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/bp.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b], latency == 0, name='zero')
l = topo.connect([b, c], latency == 0, name='half')
l[b].spec(loss == 0.01)
topo.connect([c, d], loss == 0.01, name='lossy')
topo.connect([a, c, d], latency == 0, name='elan')
M
expect "up bp" "$VTB" up "$m/bp.vtb" --name bp
on_exit "$VTB down bp >/dev/null 2>&1"
id=$("$VTB" status bp --json | jq -r .id)
sub=vtb$id
N=20

# bypass LINK FROM: the direction's "bypass" in vtb status --json
bypass() {
	"$VTB" status bp --json | jq -r '.links[] | select(.name == "'"$1"'") | .directions[]
		| select(.from == "'"$2"'") | .bypass'
}
# counter LINK FROM KEY: a counter of the direction
counter() {
	"$VTB" status bp --json | jq -r '.links[] | select(.name == "'"$1"'") | .directions[]
		| select(.from == "'"$2"'") | .counters.'"$3"
}
# port LINK FROM: the direction's in port
port() {
	"$VTB" status bp --json | jq -r '.links[] | select(.name == "'"$1"'") | .directions[]
		| select(.from == "'"$2"'") | .port.name'
}
# taps PORT: the EtherType the emulator's socket on PORT is bound to: 0003
# (every frame: on the port's taps) while the emulator carries the
# direction, 88b5 (none: off the taps) while the kernel does
taps() {
	_i=$(ip netns exec "$sub" cat "/sys/class/net/$1/ifindex")
	ip netns exec "$sub" awk -v i="$_i" 'NR > 1 && $5 == i { print $4 }' /proc/net/packet
}
# rtt FROM ADDR: the average round trip of 5 echoes, in ms (empty when none came back)
rtt() {
	"$VTB" exec bp "$1" -- ping -c 5 -i 0.05 -W 1 -q "$2" 2>/dev/null |
		sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}
# within NAME VALUE LO HI
within() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; then
		ok "$1 ($2 in [$3, $4])"
	else
		not_ok "$1" "${2:-nothing} not in [$3, $4]"
	fi
}
check() { if "$@"; then ok "$name"; else not_ok "$name"; fi; }

# 1. a zero-impairment link: both directions in the kernel
pa=$(port zero a)
pb=$(port zero b)
r0=$(rtt a 10.0.0.2)
within "zero: ping works" "$r0" 0 5
name="zero: a -> b bypassed"; check [ "$(bypass zero a)" = true ]
name="zero: b -> a bypassed"; check [ "$(bypass zero b)" = true ]
name="zero: the emulator's sockets are off both ports' taps ($pa, $pb)"
check eval '[ "$(taps "$pa")" = 88b5 ] && [ "$(taps "$pb")" = 88b5 ]'
"$VTB" status bp | grep -q 'bypass: carried by the kernel' && ok "zero: vtb status says bypass" ||
	not_ok "zero: vtb status says bypass" "$("$VTB" status bp)"
rx0=$(counter zero a rx_packets)
tx0=$(counter zero a tx_packets)
"$VTB" exec bp a -- ping -c $N -i 0.01 -q 10.0.0.2 >/dev/null 2>&1
rx1=$(counter zero a rx_packets)
tx1=$(counter zero a tx_packets)
within "zero: the bypassed direction counts the echo requests (rx)" "$((rx1 - rx0))" $N $((N + 4))
within "zero: ... and as many out (tx)" "$((tx1 - tx0))" $N $((N + 4))

# 2. latency=10ms takes it back into the emulator, latency=0 gives it back
expect "zero: vtb link set latency=10ms" "$VTB" link set bp zero latency=10ms
r1=$(rtt a 10.0.0.2)
within "zero: 10 ms each way: the round trip rose by about 20 ms" "$r1" 19.5 30
name="zero: a -> b no longer bypassed"; check [ "$(bypass zero a)" = false ]
name="zero: ... its port's socket back on the taps"; check [ "$(taps "$pa")" = 0003 ]
rx2=$(counter zero a rx_packets)
within "zero: the counters go on from the kernel's (rx)" "$((rx2 - rx1))" 5 9
expect "zero: vtb link set latency=0" "$VTB" link set bp zero latency=0
# the frames still in the 10 ms delay line leave first, then it switches
sleep 0.1
r2=$(rtt a 10.0.0.2)
within "zero: latency 0 again: the round trip is back" "$r2" 0 5
name="zero: a -> b bypassed again"; check [ "$(bypass zero a)" = true ]
name="zero: ... its port's socket off the taps again"; check [ "$(taps "$pa")" = 88b5 ]
# both counters from one status: a frame between two calls (an ARP probe)
# would count in one and not the other
rt3=$(counter zero a 'rx_packets, .counters.tx_packets')
rx3=$(echo "$rt3" | sed -n 1p); tx3=$(echo "$rt3" | sed -n 2p)
within "zero: the counters went on through both switches (rx)" "$((rx3 - rx2))" 5 9
if [ "$rx3" = "$tx3" ]; then ok "zero: in == out"; else not_ok "zero: in == out" "rx $rx3, tx $tx3"; fi

# 3. vtb capture, at the receiver (default) and at the sender's port
capture() {
	f=$m/cap.fifo
	rm -f "$f"
	mkfifo "$f"
	"$VTB" capture bp zero --from a "$@" -w "$m/cap.pcap" 2>"$f" &
	cap_pid=$!
	exec 3<"$f"
	while read -r line <&3; do case $line in capturing*) break ;; esac; done
	cat <&3 >/dev/null &
	exec 3<&-
	"$VTB" exec bp a -- ping -c $N -i 0.01 -q 10.0.0.2 >/dev/null 2>&1
	kill -INT "$cap_pid"
	wait "$cap_pid"
	tcpdump -n -r "$m/cap.pcap" 2>/dev/null | grep -c "> 10.0.0.2: ICMP echo request"
}
within "zero: vtb capture at the receiver sees the bypassed frames" "$(capture)" $N $N
within "zero: vtb capture --ingress at the sender's port sees them" "$(capture --ingress)" $N $N

# 4. vtb link down cuts a bypassed link, and up brings it back to the kernel
expect "zero: vtb link down" "$VTB" link down bp zero
if "$VTB" exec bp a -- ping -c 3 -i 0.2 -W 1 -q 10.0.0.2 2>/dev/null | grep -q ' 0 received'; then
	ok "zero: ping fails while down"
else not_ok "zero: ping fails while down"; fi
expect "zero: vtb link up" "$VTB" link up bp zero
works() { "$VTB" exec bp a -- ping -c 15 -i 0.2 -W 1 -q 10.0.0.2 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
name="zero: ping works after up"; check works
name="zero: bypassed after up"; check [ "$(bypass zero a)" = true ]

# 5. what is never bypassed: an impaired direction (its port's socket
# stays on the taps), a lossy link, a LAN; the other direction of a
# half-impaired link is
name="half: b -> c (loss 1%) not bypassed"; check [ "$(bypass half b)" = false ]
name="half: ... its port's socket on the taps"; check [ "$(taps "$(port half b)")" = 0003 ]
name="half: c -> b (nothing) bypassed"; check [ "$(bypass half c)" = true ]
name="lossy: neither direction bypassed"; check eval '[ "$(bypass lossy c)" = false ] && [ "$(bypass lossy d)" = false ]'
name="lossy: both ports' sockets on the taps"
check eval '[ "$(taps "$(port lossy c)")" = 0003 ] && [ "$(taps "$(port lossy d)")" = 0003 ]'
name="elan: a LAN is not bypassed"; check [ "$(bypass elan a)" = false ]
"$VTB" exec bp c -- ping -c 3 -i 0.05 -q 10.0.3.1 >/dev/null 2>&1
name="elan: still works through the emulator"; check [ "$(counter elan c tx_packets)" -ge 3 ]

finish
