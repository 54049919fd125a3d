#!/bin/sh
# vtb link down / up on each link kind: ping fails while the link is cut and
# works after; inside the nodes the interface has no carrier (NO-CARRIER,
# LOWER_DOWN; on a direct veth the cut end is down and its peer has no
# carrier); the model's routes of a cut direct end come back; vtb status
# shows the link down; errors name what is wrong.
. "$(dirname "$0")/lib.sh"
m=$(mktemp -d /tmp/vtbld.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/kinds.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b], name='direct')
topo.connect([b, c], latency == ms(2), name='emu')
topo.connect([a, c, d], name='lan')
topo.connect([b, c, d], latency == ms(1), name='elan')
M
expect "up kinds" "$VTB" up "$m/kinds.vtb"
on_exit "$VTB down kinds >/dev/null 2>&1"

# works FROM ADDR: some of 5 echoes come back
works() { "$VTB" exec kinds "$1" -- ping -c 5 -i 0.2 -W 1 -q "$2" 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
# works_again FROM ADDR: an echo comes back within 3 s: the kernel gives a
# device whose carrier came back its queue again from its link watch, up
# to a second later (and a neighbour entry may have failed meanwhile)
works_again() { "$VTB" exec kinds "$1" -- ping -c 15 -i 0.2 -W 1 -q "$2" 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
# carrier NODE IF: the flags of IF in NODE, as ip shows them
flags() { "$VTB" exec kinds "$1" -- ip -o link show "$2" | sed 's/.*<\([^>]*\)>.*/\1/'; }
# lower_down NODE IF: no LOWER_UP (NO-CARRIER, or down)
lower_down() { case ",$(flags "$1" "$2")," in *,LOWER_UP,*) return 1 ;; esac; }

for kind in "direct a 10.0.0.2 b eth0 a eth0" "emu b 10.0.1.2 c eth0 b eth1" \
	"lan a 10.0.2.3 d eth0 a eth1" "elan b 10.0.3.3 d eth1 b eth2"; do
	set -- $kind
	if works "$2" "$3"; then ok "$1: $2 reaches $3"; else not_ok "$1: $2 reaches $3 before the cut"; fi
	expect "$1: vtb link down" "$VTB" link down kinds "$1"
	if works "$2" "$3"; then not_ok "$1: $2 still reaches $3 while down"; else ok "$1: ping fails while down"; fi
	if lower_down "$4" "$5" && lower_down "$6" "$7"; then
		ok "$1: no carrier on both sides ($4 $5: $(flags "$4" "$5"); $6 $7: $(flags "$6" "$7"))"
	else not_ok "$1: carrier" "$4 $5: $(flags "$4" "$5"); $6 $7: $(flags "$6" "$7")"; fi
	if "$VTB" status kinds | grep -E "^  $1 .*DOWN" >/dev/null &&
		"$VTB" status kinds --json | grep -q '"down": *true'; then ok "$1: vtb status shows it down"
	else not_ok "$1: vtb status" "$("$VTB" status kinds)"; fi
	expect "$1: vtb link up" "$VTB" link up kinds "$1"
	if works_again "$2" "$3"; then ok "$1: ping works after up"; else not_ok "$1: ping after up"; fi
	if lower_down "$4" "$5" || lower_down "$6" "$7"; then not_ok "$1: carrier back" "$(flags "$4" "$5")"
	else ok "$1: carrier back on both sides"; fi
done
if "$VTB" status kinds | grep -q DOWN; then not_ok "status: no link down after up"
else ok "status: no link down after up"; fi

# NO-CARRIER exactly on a port's node end (the kernel's word for it)
"$VTB" link down kinds emu >/dev/null
if "$VTB" exec kinds c -- ip link show eth0 | grep -q 'NO-CARRIER' &&
	"$VTB" exec kinds c -- ip link show eth0 | grep -q 'state DOWN'; then ok "emu: c's eth0 NO-CARRIER, state DOWN"
else not_ok "emu: c's eth0" "$("$VTB" exec kinds c -- ip link show eth0)"; fi
"$VTB" link up kinds emu >/dev/null
# one side of a LAN: only d's port; a and c still talk
expect "lan --from d" "$VTB" link down kinds lan --from d
if works_again a 10.0.2.2 && ! works a 10.0.2.3; then ok "lan --from d: a reaches c, not d"
else not_ok "lan --from d: a reaches c, not d"; fi
expect "lan --from d up" "$VTB" link up kinds lan --from d
# a direct veth's cut end gets the model's routes back (a's default via b)
"$VTB" link down kinds direct >/dev/null
"$VTB" link up kinds direct >/dev/null
if "$VTB" exec kinds a -- ip route | grep -q "default via 10.0.0.2"; then ok "direct: a's default route is back"
else not_ok "direct: a's routes" "$("$VTB" exec kinds a -- ip route)"; fi

# a capture on the ports goes on across the cut: ENETDOWN is reported once,
# the socket stays bound and sees frames again after vtb link up
mkfifo "$m/cap.fifo"
"$VTB" capture kinds lan -w "$m/lan.pcap" 2>"$m/cap.fifo" &
cap=$!
exec 3<"$m/cap.fifo"; read -r line <&3; cat <&3 >"$m/cap.err" & exec 3<&-
"$VTB" link down kinds lan >/dev/null
works a 10.0.2.3
"$VTB" link up kinds lan >/dev/null
works_again a 10.0.2.3
kill -INT "$cap"; wait "$cap"; rc=$?
if [ $rc = 0 ] && tcpdump -n -r "$m/lan.pcap" 2>/dev/null | grep -q "10.0.2.3 > 10.0.2.1: ICMP echo reply"; then
	ok "a capture on the LAN's ports goes on across down and up"
else not_ok "capture across down and up" "exit $rc: $(cat "$m/cap.err")"; fi

expect_fail "unknown link named" 1 "experiment 'kinds' has no link 'nope'" "$VTB" link down kinds nope
expect_fail "unknown node named" 1 "experiment 'kinds' has no node 'zz'" \
	"$VTB" link down kinds emu --from zz
expect_fail "a node not on the link named" 1 "node 'a' is not on it" \
	"$VTB" link down kinds emu --from a
expect_fail "usage" 1 "usage: vtb link \(down \| up\)" "$VTB" link down kinds
expect "down kinds" "$VTB" down kinds
finish
