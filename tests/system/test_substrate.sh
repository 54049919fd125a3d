#!/bin/sh
# System tests of issue 11's substrate: an experiment's bridges, ports and
# supervisor live in its own network namespace vtb<id>, not the host's; no
# substrate interface has an IPv6 address, so nothing of the host answers
# a node; vtb down removes the namespace, and refuses while a process the
# user started is still in it. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbsub.XXXXXX)
on_exit "rm -rf $m"
# the system's python (a pyenv shim needs its environment)
PY=/usr/bin/python3
# the host's TCP listener's port (on [::], v4 and v6)
PORT=5411

cat >"$m/sub.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
e = topo.device('e')
topo.connect([a, b, c], name='lan')
topo.connect([c, d], latency == ms(20))
topo.connect([d, e])
M

expect "up: a LAN, an emulated link and a direct link" "$VTB" up "$m/sub.vtb" --name sub
on_exit "$VTB down sub >/dev/null 2>&1"
id=$("$VTB" status sub --json | jq -r .id)
sub=vtb$id

# 1. the host's namespace holds none of the experiment's interfaces
n=$(ip -o link show | awk -F': ' '{ print $2 }' | grep -c "^vtb$id" || true)
if [ "$n" = 0 ]; then ok "the host's ip link lists no vtb$id interface"
else not_ok "the host's ip link lists no vtb$id interface" "$(ip -o link show | grep "vtb$id")"; fi
links=$(ip -n "$sub" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
# the LAN is switched by a tc program on each of its ports, with no bridge
expect "the substrate has no bridge" test -z "$(ip -n "$sub" -o link show type bridge)"
expect "the LAN's ports are switched" sh -c "tc -n $sub filter show dev vtb${id}p0 ingress | grep -q vtb_lanswitch"

# three LAN ports and the emulated link's two; the direct link has none
n=$(printf '%s\n' "$links" | grep -c "^vtb${id}p" || true)
if [ "$n" = 5 ]; then ok "the substrate has the five ports"; else not_ok "the substrate has the five ports" "$links"; fi

# 2. IPv6 is off on every substrate interface: no address, nothing answers
expect "no substrate interface has an IPv6 address" test -z "$(ip -n "$sub" -6 addr)"
for l in $links; do
	v=$(ip netns exec "$sub" cat "/proc/sys/net/ipv6/conf/$l/disable_ipv6")
	if [ "$v" = 1 ]; then ok "disable_ipv6 is 1 on $l"; else not_ok "disable_ipv6 is 1 on $l" "$v"; fi
done

# bridge netfilter (where br_netfilter is loaded, as here and on Docker
# hosts) does not run the substrate's iptables hooks on every bridged frame
if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
	v=$(for k in iptables ip6tables arptables; do ip netns exec "$sub" cat "/proc/sys/net/bridge/bridge-nf-call-$k"; done | tr -d '\n')
	if [ "$v" = 000 ]; then ok "bridge-nf-call-iptables, -ip6tables, -arptables are 0 in the substrate"
	else not_ok "bridge-nf-call-* are 0 in the substrate" "$v"; fi
fi

# the link-local addresses of every node interface, once the kernel has
# given each of the 7 one and finished its duplicate address detection (an
# interface gets its address when the kernel's link watch sees its
# carrier, up to a second after vtb up returns)
lladdrs() { for node in a b c d e; do ip -n "$sub-$node" -6 -o addr show scope link; done; }
settled() { [ "$(lladdrs | grep -vc tentative)" = 7 ]; }
expect "every node interface has its link-local address" eventually 10 settled
for node in a b c d e; do
	ip -n "$sub-$node" -6 -o addr show scope link | awk '{ sub(/\/.*/, "", $4); print $4 }'
done | sort >"$m/nodes"
# every reply to a LAN node's all-nodes ping comes from a node
ip netns exec "$sub-a" ping -6 -n -c 3 -w 5 ff02::1%eth0 2>&1 |
	sed -n 's/.*bytes from \([^%]*\)%.*/\1/p' | sort -u >"$m/answers"
expect "the LAN's nodes answer a's all-nodes ping" test -s "$m/answers"
stray=$(comm -23 "$m/answers" "$m/nodes")
if [ -z "$stray" ]; then ok "nothing but nodes answers a's all-nodes ping"
else not_ok "nothing but nodes answers a's all-nodes ping" "$stray"; fi

# a TCP listener of the host on [::] is out of every node's reach: tried at
# every link-local address a node can find (its neighbours, the host's own,
# and the EUI-64 address each substrate interface would have), on every link
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
while True:
    c, a = s.accept()
    print(a[0], flush=True)
    c.close()
' "$PORT" >"$m/accepted" 2>&1 &
lpid=$!
on_exit "kill $lpid 2>/dev/null"
# the link-local (EUI-64) address of each MAC on stdin
eui64() {
	"$PY" -c '
import sys
for mac in sys.stdin.read().split():
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    print("fe80::%x:%x:%x:%x" % (b[0] << 8 | b[1], b[2] << 8 | 0xff, 0xfe << 8 | b[3], b[4] << 8 | b[5]))
'
}
ip -n "$sub" -o link show | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p' | eui64 >"$m/targets"
ip -6 -o addr show scope link | awk '{ sub(/\/.*/, "", $4); print $4 }' >>"$m/targets"
for node in a b c d e; do
	ip -n "$sub-$node" -6 neigh show | awk '/^fe80/ { print $1 }'
done >>"$m/targets"
sort -u "$m/targets" -o "$m/targets"
reached=$(for node in a c d; do
	ip netns exec "$sub-$node" "$PY" -c '
import socket, sys
port, node, targets, ifs = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(), sys.argv[4:]
for t in targets:
    for i in ifs:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(0.3)
        try:
            s.connect((t, port, 0, socket.if_nametoindex(i)))
            print("%s reached %s%%%s" % (node, t, i))
        except OSError:
            pass
        s.close()
' "$PORT" "$node" "$(cat "$m/targets")" $(ip -n "$sub-$node" -o link show | awk -F': ' '$2 ~ /^eth/ { sub(/@.*/, "", $2); print $2 }') \
	2>&1 | sed "s/^/ /" &
done; wait)
expect "targets to try were found" test -s "$m/targets"
if [ -z "$reached" ] && [ ! -s "$m/accepted" ]; then ok "no node reaches the host's listener on [::]:$PORT"
else not_ok "no node reaches the host's listener on [::]:$PORT" "$reached $(cat "$m/accepted")"; fi

# 3. the supervisor runs in the substrate, and the emulated link still delays
ino=$(stat -L -c %i "/run/netns/$sub")
spid=$("$VTB" status sub --json | jq -r '.supervisor.pid')
expect "the supervisor's network namespace is the substrate" \
	test "$(stat -L -c %i "/proc/$spid/ns/net")" = "$ino"
# the shortest round trip (the first also waits for ARP)
rtt=$("$VTB" exec sub c -- ping -n -q -c 3 -i 0.2 10.0.1.2 | sed -n 's/^rtt.* = \([^/]*\).*/\1/p')
if awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 40 && r < 50) }'; then
	ok "the emulated link delays: round trip $rtt ms (20 ms each way)"
else not_ok "the emulated link delays" "round trip '$rtt' ms, want 40..50"; fi
expect "the direct link works" "$VTB" exec sub e -- ping -n -c 1 -W 2 10.0.2.1

# 4. down refuses to unbind the substrate while a process is still in it,
# and says which; once it is gone, down removes everything
mkfifo "$m/in"
# it says its pid once it is in the substrate
hpid=0
if [ -e "/run/netns/$sub" ]; then
	ip netns exec "$sub" sh -c 'echo $$ >"$1"; exec sleep 600' sh "$m/in" &
	read -r hpid <"$m/in"
fi
expect "a process enters the substrate" test "${hpid:-0}" -gt 0
[ "${hpid:-0}" -gt 0 ] || hpid=999999999 # no such process: kill does nothing
on_exit "kill $hpid 2>/dev/null"
expect_fail "down names the process still in the substrate" 2 "process $hpid \((sh|sleep)\) is still in it" \
	"$VTB" down sub
expect "the substrate stays while it is held" test -e "/run/netns/$sub"
kill "$hpid" 2>/dev/null
wait_gone "$hpid" 5
expect "down once it is gone" "$VTB" down sub
expect "down leaves no /run/netns/$sub" test ! -e "/run/netns/$sub"
held=$(for p in /proc/[0-9]*; do
	[ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && echo "${p#/proc/}"
done)
expect "down leaves no process in the substrate" test -z "$held"
left=$(vtb_objects | grep "vtb$id" || true)
expect "down leaves no object of vtb$id" test -z "$left"

# 5. an id whose substrate name is taken is never used
ip netns add vtbbee7
on_exit "ip netns del vtbbee7 2>/dev/null"
expect_fail "an id whose substrate name the kernel holds is refused" 2 "vtbbee7 exists" \
	env VTB_ID=bee7 "$VTB" up "$m/sub.vtb" --name taken
ip netns del vtbbee7

finish
