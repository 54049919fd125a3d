#!/bin/sh
# vtb node stop / start / restart on a container: while r is stopped, ping
# across it fails, its neighbours have no carrier (direct veth and emulated
# link; on the LAN the others still talk), a counter in it does not advance
# and vtb status says so (text and JSON); after start all works again; a
# restart kills its processes but not its init, and keeps its addresses;
# vtb down of a stopped node leaves nothing; errors name what is wrong. A
# VM is paused and resumed (ping to it fails, then works; its console
# refuses commands while it is stopped); its restart is refused.
. "$(dirname "$0")/lib.sh"
m=$(mktemp -d /tmp/vtbnop.XXXXXX)
on_exit "rm -rf $m"
before=$(vtb_objects)
cat >"$m/nop.vtb" <<'M'
a = topo.device('a')
r = topo.device('r')
b = topo.device('b')
c = topo.device('c')
topo.connect([a, r], name='ar')
topo.connect([r, b], latency == ms(1), name='rb')
topo.connect([r, b, c], name='lan')
M
expect "up nop" "$VTB" up "$m/nop.vtb"
on_exit "$VTB down nop >/dev/null 2>&1"

# works FROM ADDR: some of 5 echoes come back
works() { "$VTB" exec nop "$1" -- ping -c 5 -i 0.2 -W 1 -q "$2" 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
# works_again FROM ADDR: an echo within 3 s (a device whose carrier came
# back gets its queue again from the kernel's link watch up to 1 s later)
works_again() { "$VTB" exec nop "$1" -- ping -c 15 -i 0.2 -W 1 -q "$2" 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
carrier() { "$VTB" exec nop "$1" -- ip -o link show "$2" | grep -q 'LOWER_UP'; }
count() { "$VTB" exec nop r -- cat /tmp/count; }
# How long the counter gets to show that it moves or not: it counts every
# 0.1 s, so 10 steps; long enough on a loaded machine.
TICK=1

if works a 10.0.1.2; then ok "a reaches b across r"; else not_ok "a reaches b across r"; fi
expect "a counter in r" "$VTB" exec nop r -- sh -c \
	'(i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done) </dev/null >/dev/null 2>&1 &'
expect "vtb node stop" "$VTB" node stop nop r
if works a 10.0.1.2; then not_ok "a still reaches b while r is stopped"; else ok "ping across r fails while stopped"; fi
if carrier a eth0 || carrier b eth0; then not_ok "r's neighbours have no carrier" \
	"$("$VTB" exec nop a -- ip link show eth0; "$VTB" exec nop b -- ip link show eth0)"
else ok "r's neighbours on ar and rb have no carrier"; fi
if works b 10.0.2.3; then ok "on the LAN b still reaches c"; else not_ok "on the LAN b reaches c"; fi
c1=$(count); sleep "$TICK"; c2=$(count)
if [ -n "$c1" ] && [ "$c1" = "$c2" ]; then ok "the counter does not advance while stopped ($c1)"
else not_ok "the counter does not advance while stopped" "$c1 then $c2"; fi
if "$VTB" status nop | grep -Eq '^  r +container stopped' &&
	"$VTB" status nop --json | grep -q '"stopped": *true'; then ok "vtb status shows r stopped"
else not_ok "vtb status shows r stopped" "$("$VTB" status nop)"; fi
expect_fail "a second stop says so" 0 "already stopped" "$VTB" node stop nop r

expect "vtb node start" "$VTB" node start nop r
if works_again a 10.0.1.2; then ok "ping across r works after start"; else not_ok "ping across r after start"; fi
c1=$(count); sleep "$TICK"; c2=$(count)
if [ -n "$c1" ] && [ "$c1" != "$c2" ]; then ok "the counter advances after start ($c1, $c2)"
else not_ok "the counter advances after start" "$c1 then $c2"; fi
if "$VTB" status nop | grep -q stopped || "$VTB" status nop --json | grep -q '"stopped": *true'; then
	not_ok "vtb status: no node stopped after start"; else ok "vtb status: no node stopped after start"; fi
expect_fail "a start of a running node says so" 0 "not stopped" "$VTB" node start nop r

expect "vtb node restart" "$VTB" node restart nop r
procs=$("$VTB" exec nop r -- ps -e -o comm=)
if printf '%s\n' "$procs" | grep -qx vtb-init && ! printf '%s\n' "$procs" | grep -qx sh; then
	ok "restart killed the counter, not the init"; else not_ok "restart killed the counter" "$procs"; fi
if "$VTB" exec nop r -- ip -br addr | grep -q '10.0.1.1/24'; then ok "r keeps its addresses"
else not_ok "r keeps its addresses" "$("$VTB" exec nop r -- ip -br addr)"; fi
if works_again a 10.0.1.2; then ok "ping across r works after restart"; else not_ok "ping after restart"; fi

expect_fail "unknown experiment named" 1 "no experiment named 'nope'" "$VTB" node stop nope r
expect_fail "unknown node named" 1 "experiment 'nop' has no device 'zz'" "$VTB" node stop nop zz
expect_fail "usage" 1 "usage: vtb node \(stop" "$VTB" node stop nop

# a VM: paused over QMP with its tap down, resumed; a restart is refused
cat >"$m/vm.vtb" <<'M'
vm = topo.device('vm', virt == true)
c = topo.device('c')
topo.connect([vm, c], name='vc')
M
if "$VTB" image build >/dev/null 2>&1; then
	expect "up: a VM" "$VTB" up "$m/vm.vtb" --name nopvm
	on_exit "$VTB down nopvm >/dev/null 2>&1"
	vmping() { "$VTB" exec nopvm c -- ping -c "$1" -i 0.2 -W 1 -q 10.0.0.1 2>/dev/null | grep -Eq ' [1-9][0-9]* received'; }
	if vmping 5; then ok "c reaches the VM"; else not_ok "c reaches the VM"; fi
	expect "vtb node stop (VM)" "$VTB" node stop nopvm vm
	if vmping 5; then not_ok "c still reaches the stopped VM"; else ok "ping to the stopped VM fails"; fi
	if "$VTB" status nopvm | grep -Eq '^  vm +vm +stopped'; then ok "vtb status shows the VM stopped"
	else not_ok "vtb status shows the VM stopped" "$("$VTB" status nopvm)"; fi
	expect_fail "a command on a stopped VM is refused" 2 "VM 'vm' is stopped" \
		"$VTB" exec nopvm vm -- true
	expect_fail "a VM's restart is refused" 1 "restart is not supported yet" \
		"$VTB" node restart nopvm vm
	expect "vtb node start (VM)" "$VTB" node start nopvm vm
	if vmping 15; then ok "c reaches the VM after start"; else not_ok "c reaches the VM after start"; fi
	expect "a command on the VM after start" "$VTB" exec nopvm vm -- true
	expect "stop the VM before down" "$VTB" node stop nopvm vm
	expect "down with the VM stopped" "$VTB" down nopvm
else
	not_ok "vtb image build (for the VM case)"
fi

# down of a stopped node (frozen, with a process of its own) leaves nothing
"$VTB" exec nop r -- sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 &'
expect "stop before down" "$VTB" node stop nop r
expect "down with r stopped" "$VTB" down nop
after=$(vtb_objects)
if [ "$after" = "$before" ]; then ok "no cgroup, namespace or link left"; else
	not_ok "no cgroup, namespace or link left" "$after"; fi
finish
