#!/bin/sh
# A direct LAN is switched by tc programs on its ports in the substrate, with
# no bridge (materialize/lanswitch.h): every member reaches every other; a
# group address reaches them all; a unicast frame goes only to the port of
# its destination once its address is learnt (a third member's tcpdump sees
# none of it); a member whose MAC changes is reached again; two LANs do not
# see each other's frames; the substrate holds no bridge, and vtb down
# leaves nothing.
. "$(dirname "$0")/lib.sh"
m=$(mktemp -d /tmp/vtblsw.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/lsw.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
e = topo.device('e')
topo.connect([a, b, c, d], name='lan')
topo.connect([a, e, d], name='other')
M
expect "up: two LANs" "$VTB" up "$m/lsw.vtb" --name lsw
on_exit "$VTB down lsw >/dev/null 2>&1"
id=$("$VTB" status lsw --json | jq -r .id)
ns() { echo "vtb$id-$1"; }

# 1. every member reaches every other
for pair in "a 10.0.0.2" "a 10.0.0.3" "a 10.0.0.4" "b 10.0.0.3" "c 10.0.0.4" "d 10.0.0.2" \
	"e 10.0.1.1" "e 10.0.1.3"; do
	set -- $pair
	expect "$1 reaches $2" ip netns exec "$(ns "$1")" ping -c 1 -W 2 -q "$2"
done

# 2. a group address reaches every other member, and only those (once
# the kernel has given the four LAN interfaces their link-local addresses
# and finished duplicate address detection: up to a second after vtb up)
lladdr() { ip -n "$(ns "$1")" -6 -o addr show dev eth0 scope link | grep -v tentative |
	awk '{ sub(/\/.*/, "", $4); print $4 }'; }
settled() { for x in a b c d; do [ -n "$(lladdr "$x")" ] || return 1; done; }
expect "a, b, c and d have their link-local addresses" eventually 10 settled
ip netns exec "$(ns a)" ping -6 -c 2 -i 0.3 -W 2 "ff02::1%eth0" 2>/dev/null |
	sed -n 's/.*bytes from \([^%]*\)%.*/\1/p' | sort -u >"$m/answers"
# (a answers itself too: the kernel loops its own multicast back)
for x in a b c d; do lladdr "$x"; done | sort >"$m/want"
if cmp -s "$m/answers" "$m/want"; then ok "a's ping to ff02::1 is answered by b, c and d (and a), and only them"
else not_ok "a's ping to ff02::1 is answered by b, c and d" "$(cat "$m/answers")"; fi

# 3. learnt unicast goes only to its destination: c sees none of a's
# pings to b (their addresses are known from the ARP exchange of 1.)
ip netns exec "$(ns c)" timeout 4 tcpdump -c 100 -ni eth0 -w "$m/c.pcap" icmp >/dev/null 2>&1 &
cap=$!
sleep 1
expect "a pings b 10 times" ip netns exec "$(ns a)" ping -c 10 -i 0.1 -W 1 -q 10.0.0.2
wait $cap
n=$(tcpdump -nr "$m/c.pcap" 2>/dev/null | wc -l)
if [ "$n" = 0 ]; then ok "c's eth0 saw none of a's echoes to b"
else not_ok "c's eth0 saw none of a's echoes to b" "$(tcpdump -nr "$m/c.pcap" 2>/dev/null | head -3)"; fi
# and e, on the other LAN with a, saw nothing of the first LAN
ip netns exec "$(ns e)" timeout 3 tcpdump -c 100 -ni eth0 -w "$m/e.pcap" 'arp or icmp' >/dev/null 2>&1 &
cap=$!
sleep 1
ip netns exec "$(ns a)" ip neigh flush dev eth0
expect "a pings c after forgetting its neighbours" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 1 -q 10.0.0.3
wait $cap
n=$(tcpdump -nr "$m/e.pcap" 2>/dev/null | grep -c '10\.0\.0\.' || true)
if [ "$n" = 0 ]; then ok "e (the other LAN) saw none of the first LAN's ARP and echoes"
else not_ok "e saw none of the first LAN's frames" "$(tcpdump -nr "$m/e.pcap" 2>/dev/null | head -3)"; fi

# 4. a member whose MAC changes is learnt again
ip netns exec "$(ns c)" ip link set eth0 address 02:00:5e:00:53:01
ip netns exec "$(ns a)" ip neigh flush dev eth0
ip netns exec "$(ns b)" ip neigh flush dev eth0
expect "a reaches c at its new MAC" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 -q 10.0.0.3
expect "b reaches c at its new MAC" ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 2 -q 10.0.0.3
if ip netns exec "$(ns a)" ip neigh show 10.0.0.3 | grep -q 02:00:5e:00:53:01; then
	ok "a's neighbour entry for c has the new MAC"
else not_ok "a's neighbour entry for c" "$(ip netns exec "$(ns a)" ip neigh show 10.0.0.3)"; fi

# 5. no bridge, a program on every port
expect "the substrate has no bridge" test -z "$(ip -n "vtb$id" -o link show type bridge)"
n=0
for p in $(ip -n "vtb$id" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^vtb${id}p"); do
	tc -n "vtb$id" filter show dev "$p" ingress | grep -q vtb_lanswitch && n=$((n + 1))
done
if [ "$n" = 7 ]; then ok "the 7 ports of the two LANs carry the switch"
else not_ok "the 7 ports of the two LANs carry the switch" "$n"; fi

expect "down" "$VTB" down lsw
expect "nothing of it is left" test -z "$(vtb_new_objects)"
finish
