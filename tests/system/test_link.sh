#!/bin/sh
# System tests of emulated links: real ping and iperf3 across a built
# experiment whose links pass through vtb's link emulator. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
on_exit "pkill -f 'iperf3 -s -p 5399' 2>/dev/null"

# up NAME MODEL: bring it up and register its removal
up() {
	expect "up $1" "$VTB" up "$2" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}
ns() { echo "vtb$("$VTB" status "$1" | sed -n "s/.*(id \([0-9a-f]*\)).*/\1/p")-$2"; }
# static neighbours both ways, so lost ARP does not skew loss counts
neigh() { # EXP A A_IP B B_IP
	ma=$(ip -n "$(ns "$1" "$2")" -o link show eth0 | sed 's/.*ether \([^ ]*\).*/\1/')
	mb=$(ip -n "$(ns "$1" "$4")" -o link show eth0 | sed 's/.*ether \([^ ]*\).*/\1/')
	ip -n "$(ns "$1" "$2")" neigh replace "$5" lladdr "$mb" dev eth0
	ip -n "$(ns "$1" "$4")" neigh replace "$3" lladdr "$ma" dev eth0
}
# ping_stats EXP NODE ADDR COUNT INTERVAL: "received avg mdev"
ping_stats() {
	"$VTB" exec "$1" "$2" -- ping -n -q -c "$4" -i "$5" -W 1 "$3" 2>&1 | awk '
		/packets transmitted/ { rx = $4 }
		/^rtt/ { split($4, v, "/"); avg = v[2]; mdev = v[4] }
		END { print rx + 0, avg + 0, mdev + 0 }'
}
# within NAME VALUE LO HI
within() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		ok "$1 ($2 in [$3, $4])"
	else
		not_ok "$1" "$2 not in [$3, $4]"
	fi
}

# 1. latency: 5 ms each way is a 10 ms round trip, with little spread
cat >"$m/lat.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], latency == ms(5))
M
up lat "$m/lat.vtb"
neigh lat a 10.0.0.1 b 10.0.0.2
set -- $(ping_stats lat a 10.0.0.2 50 0.02)
expect "ping through latency == ms(5): all 50 replies" test "$1" = 50
within "round trip about 10 ms" "$2" 10.0 10.6
# small deviation: nine in ten round trips within 0.5 ms of 10 ms (a rare
# late wake-up of this VM's vCPU by its host must not fail the test)
near=$("$VTB" exec lat a -- ping -n -c 50 -i 0.02 10.0.0.2 2>&1 | awk -F'time=' '
	/time=/ { split($2, v, " "); n++; if (v[1] >= 10.0 && v[1] <= 10.5) k++ }
	END { print k + 0 }')
within "round trips within [10.0, 10.5] ms, of 50" "$near" 45 50

# 2. vtb link set takes effect within one round trip
"$VTB" exec lat a -- ping -n -D -c 300 -i 0.01 10.0.0.2 >"$m/ping.log" 2>&1 &
pid=$!
sleep 1
"$VTB" link set lat a b latency=20ms >/dev/null
t_set=$(date +%s.%N)
wait $pid
# every echo sent more than one old round trip (10 ms) after the change
# returned must see the new 40 ms round trip
bad=$(awk -v t="$t_set" -F'[][ =]+' '/time=/ {
	for (i = 1; i <= NF; i++) if ($i == "time") rtt = $(i + 1)
	sent = $2 - rtt / 1000
	if (sent > t + 0.010 && rtt < 39.5) n++
	if (sent > t + 0.010) after++
} END { print n + 0, after + 0 }' "$m/ping.log")
set -- $bad
if [ "$1" = 0 ] && [ "$2" -gt 20 ]; then
	ok "link set: all $2 echoes sent after the change see 40 ms"
else
	not_ok "link set within one round trip" "$1 of $2 echoes after the change were not delayed"
fi
expect "status shows the new latency" sh -c "'$VTB' status lat | grep -q 'a -> b: latency 20 ms'"
# duplicate: every frame a -> b twice, so every echo is answered twice
"$VTB" link set lat a b latency=1ms >/dev/null
"$VTB" link set lat a-b --from a duplicate=100% >/dev/null
# (ping may exit before the last echo's copy arrives: 5 or 6 of 6)
dups=$("$VTB" exec lat a -- ping -n -c 6 -i 0.05 10.0.0.2 2>&1 | sed -n 's/.*+\([0-9]*\) duplicates.*/\1/p')
expect "duplicate=100%: ping sees its echoes twice (${dups:-no} duplicates of 6)" test "${dups:-0}" -ge 5
"$VTB" link set lat a-b --from a duplicate=0 >/dev/null
# jitter spreads the delay without reordering: mdev grows, nothing is lost
"$VTB" link set lat a b latency=10ms jitter=4ms >/dev/null
set -- $(ping_stats lat a 10.0.0.2 40 0.05)
expect "jitter: all 40 echoes back" test "$1" = 40
within "jitter=4ms each way spreads the round trip (mdev ms)" "$3" 0.8 5
expect_fail "link set: unknown link named" 1 "no link between 'a' and 'c'" \
	"$VTB" link set lat a c latency=1ms
expect_fail "link set: bad value named" 1 "latency=5parsec" "$VTB" link set lat a b latency=5parsec
expect "down lat" "$VTB" down lat

# 3. capacity: 20 Mbit/s of Ethernet frame bytes
cat >"$m/cap.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], capacity == mbps(20))
M
up cap "$m/cap.vtb"
"$VTB" exec cap b -- iperf3 -s -p 5399 -D -1 >/dev/null 2>&1
sleep 0.3
# UDP: 1472-byte datagrams are 1514-byte frames; offered 30 Mbit/s
got=$("$VTB" exec cap a -- iperf3 -c 10.0.0.2 -p 5399 -u -b 30M -l 1472 -t 4 -f m 2>&1 |
	awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }')
exp=$(awk 'BEGIN { print 20 * 1472 / 1514 }')
within "iperf3 UDP through capacity == mbps(20): goodput within 3% of $exp" "${got:-0}" \
	"$(awk -v e="$exp" 'BEGIN { print e * 0.97 }')" "$(awk -v e="$exp" 'BEGIN { print e * 1.03 }')"
sleep 0.3
"$VTB" exec cap b -- iperf3 -s -p 5399 -D -1 >/dev/null 2>&1
sleep 0.3
# TCP: 1448-byte segments (timestamps on) in 1514-byte frames
got=$("$VTB" exec cap a -- iperf3 -c 10.0.0.2 -p 5399 -t 5 -O 1 -f m 2>&1 |
	awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }')
exp=$(awk 'BEGIN { print 20 * 1448 / 1514 }')
within "iperf3 TCP through capacity == mbps(20): goodput within 3% of $exp" "${got:-0}" \
	"$(awk -v e="$exp" 'BEGIN { print e * 0.97 }')" "$(awk -v e="$exp" 'BEGIN { print e * 1.03 }')"
expect "down cap" "$VTB" down cap

# 4. loss 0.2 each way: a round trip survives with 0.8^2, so 36% are lost;
# 600 echoes: mean 216, sd 11.8; accept 4.5 sd either side
cat >"$m/loss.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], loss == 0.2)
M
up loss "$m/loss.vtb"
neigh loss a 10.0.0.1 b 10.0.0.2
set -- $(ping_stats loss a 10.0.0.2 600 0.005)
within "ping through loss == 0.2: echoes lost of 600" "$((600 - $1))" 163 269
st=$("$VTB" status loss)
la=$(printf '%s\n' "$st" | awk '/a -> b/ { getline; for (i = 1; i <= NF; i++) if ($i == "loss") print $(i + 1) }')
within "status counts the losses a -> b (about 120)" "${la:-0}" 80 160
expect "down loss" "$VTB" down loss

# 5. an emulated LAN: each endpoint's traffic is delayed on its way in
cat >"$m/lan.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
lan = topo.connect([a, b, c], latency == ms(1))
lan[b].spec(latency == ms(3))
M
up lan "$m/lan.vtb"
neigh lan a 10.0.0.1 b 10.0.0.2
set -- $(ping_stats lan a 10.0.0.2 20 0.02)
expect "ping across the emulated LAN" test "$1" = 20
within "LAN round trip a -> b -> a about 4 ms" "$2" 4.0 4.6
set -- $(ping_stats lan c 10.0.0.1 20 0.02)
expect "c reaches a on the LAN" test "$1" = 20
expect "down lan" "$VTB" down lan

left=$(vtb_new_objects)
expect "no vtb namespace or link left" test -z "$left"
finish
