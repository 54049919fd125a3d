#!/bin/sh
# System tests of the host's tools in VM nodes (issue 13): two VMs and
# three containers, booted once for every case. iperf3 from the host's
# package, run inside a VM, to a container and to the other VM on a direct
# link, an emulated link and a LAN; tcpdump in a VM; the taps' vnet
# headers (offloads on every link); bird2 OSPF
# between a VM and a container; and `vtb exec`
# on a VM ending what its command left in the background. Needs root,
# iperf3 and tcpdump on the host; VMs boot under TCG here (slow).
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# a command on a VM answers in seconds; a console that never answers
# fails the test in VM_EXEC_S instead of holding it for vtb exec's hour
VM_EXEC_S=${VM_EXEC_S:-120}
# iperf3's test length: long enough for TCP to open its window through the
# emulator's 1 ms, short enough for seven runs to take well under a minute
IPERF_S=2
for tool in iperf3 tcpdump jq; do
	command -v "$tool" >/dev/null || { echo "test_vm_tools.sh: $tool is not installed: skipped"; exit 0; }
done
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

cat >"$m/tools.vtb" <<'M'
a = topo.device('a', virt == true)
b = topo.device('b', virt == true)
c1 = topo.device('c1')
c2 = topo.device('c2')
c3 = topo.device('c3')
topo.connect([a, c1], name='direct')
topo.connect([a, c2], latency == ms(1), name='emu')
topo.connect([a, b, c3], name='lan')
topo.connect([a, b], name='vmvm')
topo.connect([a, b], latency == ms(1), name='vmvmemu')
M
expect "up: two VMs and three containers" "$VTB" up "$m/tools.vtb" --name vmtools
on_exit "$VTB down vmtools >/dev/null 2>&1"
vid=$("$VTB" status vmtools --json | jq -r .id)

x() { timeout "$VM_EXEC_S" "$VTB" exec vmtools "$@"; }
# addr NODE IFACE: the node's IPv4 address on IFACE
addr() { x "$1" -- ip -4 -o addr show dev "$2" | awk '{ sub("/.*", "", $4); print $4; exit }'; }
# iperf CLIENT SERVER SERVER_ADDR WHAT: iperf3 from CLIENT (a VM) to a
# one-shot server on SERVER; passes when data went through. The server
# daemonizes before it listens: the client tries again while refused. In
# a session of its own (setsid), it outlives the end of its vtb exec, which
# ends the command's process group.
iperf() {
	x "$2" -- setsid iperf3 -s -D -1 >/dev/null 2>&1
	out=$(x "$1" -- sh -c "for i in 1 2 3 4 5; do iperf3 -c $3 -t $IPERF_S -f m && exit; sleep 0.2; done" 2>&1)
	rate=$(printf '%s\n' "$out" | awk '/receiver/ { print $7, $8 }')
	if [ -n "$rate" ]; then
		ok "iperf3 from the host's package in VM $1 -> $2, $4 ($rate)"
	else
		not_ok "iperf3 in VM $1 -> $2, $4" "$out"
		x "$2" -- pkill -x iperf3 >/dev/null 2>&1
	fi
}

# the VMs' interfaces are in link order: a: eth0 direct, eth1 emu, eth2
# lan, eth3 vmvm, eth4 vmvmemu; b: eth0 lan, eth1 vmvm, eth2 vmvmemu
expect "the host's iperf3 runs in a VM with the same command" x a -- iperf3 --version
iperf a c1 "$(addr c1 eth0)" "direct link (virtio, offloads on)"
iperf a c2 "$(addr c2 eth0)" "emulated link"
iperf a c3 "$(addr c3 eth0)" "LAN"
iperf a b "$(addr b eth0)" "LAN"
iperf a b "$(addr b eth1)" "direct link"
iperf a b "$(addr b eth2)" "emulated link"
iperf b c1 "$(addr c1 eth0)" "routed through VM a"

# vnet headers: on every tap QEMU has, on direct links, LANs and emulated
# links alike (IFF_VNET_HDR, 0x4000, in the tap's tun_flags; the link
# emulator cuts GSO frames into wire frames): 8 taps, a has 5 and b 3
ntaps=0
nvh=0
for t in $(ip -n "vtb$vid" -d -o link show | awk -F': ' '/tun type tap/ { sub("@.*", "", $2); print $2 }'); do
	f=$(ip netns exec "vtb$vid" cat "/sys/class/net/$t/tun_flags" 2>/dev/null)
	ntaps=$((ntaps + 1))
	[ $(( ${f:-0} & 0x4000 )) = 0 ] || nvh=$((nvh + 1))
done
if [ "$ntaps" = 8 ] && [ "$nvh" = 8 ]; then
	ok "vnet headers on the 8 taps: direct links, the LAN and the emulated links"
else
	not_ok "vnet headers on the taps" "$ntaps taps, $nvh with IFF_VNET_HDR"
fi

# tcpdump from the host's package in a VM sees the VM's traffic
out=$(x a -- sh -c "timeout 20 tcpdump -l -ni eth0 -c 2 icmp 2>/dev/null & sleep 2; ping -c 2 -W 5 $(addr c1 eth0) >/dev/null; wait")
if [ "$(printf '%s\n' "$out" | grep -c ICMP)" = 2 ]; then
	ok "tcpdump in a VM captures its pings"
else
	not_ok "tcpdump in a VM captures its pings" "$out"
fi
expect "the VM's /etc (the host's under a private layer) is writable" \
	x a -- sh -c 'test -e /etc/alternatives && echo x >/etc/vtb-tools-test'
expect "the host's /etc is not touched" test ! -e /etc/vtb-tools-test
expect_fail "the host's /usr is read-only in a VM" 1 "Read-only" x a -- sh -c 'touch /usr/vtb-tools-test'

# bird2 from the host's package: OSPF between VM a and container c1 on
# their direct link. a announces an address of its own (10.250.0.1 on lo,
# in no subnet of the model) as an external route; c1 learns it from OSPF
# and reaches it through a.
BIRD_CONVERGE_S=60
bird_conf() { # ROUTER_ID EXTRA_OSPF_EXPORT
	cat <<C
router id $1;
protocol device { }
protocol direct { ipv4; interface "lo"; }
protocol kernel { ipv4 { export where source = RTS_OSPF_EXT2 || source = RTS_OSPF; }; }
protocol ospf v2 {
	ipv4 { import all; export $2; };
	area 0 { interface "eth0" { type ptp; hello 1; dead 4; }; };
}
C
}
if command -v bird >/dev/null; then
	bird_conf 10.255.0.1 "where source = RTS_DEVICE" >"$m/a.conf"
	bird_conf 10.255.0.2 none >"$m/c1.conf"
	# a VM's command is one line: the file's newlines as printf's \n
	conf=$(awk '{ printf "%s\\n", $0 }' "$m/a.conf")
	expect "bird starts in VM a" x a -- sh -c \
		"ip addr add 10.250.0.1/32 dev lo && printf '$conf' >/tmp/bird.conf && setsid bird -c /tmp/bird.conf -s /tmp/bird.ctl"
	expect "bird starts in container c1" x c1 -- sh -c \
		"printf '%s\n' '$(cat "$m/c1.conf")' >/tmp/bird.conf && bird -c /tmp/bird.conf -s /tmp/bird.ctl"
	if eventually "$BIRD_CONVERGE_S" x c1 -- sh -c 'ip route show proto bird | grep -q "^10.250.0.1 "' &&
		x c1 -- ping -c 1 -W 5 10.250.0.1 >/dev/null; then
		ok "OSPF (bird2) between a VM and a container: c1 learns a's address and reaches it"
	else
		not_ok "OSPF (bird2) between a VM and a container" \
			"c1: $(x c1 -- ip route 2>&1); a: $(x a -- birdc -s /tmp/bird.ctl show ospf neighbors 2>&1)"
	fi
else
	not_ok "bird2 is installed (scripts/deps.sh installs it)"
fi

# vtb exec on a VM ends what the command left in the background: the
# signal is sent before the command's end marker, so the sleep has ended
# (gone, or a zombie for a moment) by the next command
pid=$(x a -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
if [ -n "$pid" ] && x a -- sh -c "test ! -d /proc/$pid || grep -q '^State:.*Z' /proc/$pid/status"; then
	ok "vtb exec on a VM: a background sleep is gone when the command returns"
else
	not_ok "vtb exec on a VM: a background sleep is gone" "pid '$pid': $(x a -- ps 2>&1 | grep sleep)"
fi

expect "down" "$VTB" down vmtools
left=$(vtb_objects | grep "vtb$vid")
if [ -z "$left" ]; then ok "no vtb namespace or link left"; else not_ok "no vtb namespace or link left" "$left"; fi
finish
