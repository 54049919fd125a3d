#!/bin/sh
# System tests of VM nodes: a QEMU VM (TCG here) with an e1000 NIC on a
# direct link to one container and a virtio NIC on an emulated link to
# another; real ping both ways, vtb exec output and exit status, the guest's
# driver, tasks on the VM, and a QEMU killed with -9. Needs root; the first
# run builds the guest image (apt-get download of a Debian kernel).
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# a command on the VM answers in seconds; a console that never answers
# fails the test in VM_EXEC_S instead of holding it for vtb exec's hour
VM_EXEC_S=${VM_EXEC_S:-120}
# For a QEMU or a supervisor to be gone after SIGKILL: the kernel ends
# one in milliseconds, but freeing a TCG guest's memory on a loaded
# two-core machine can take a second or two.
GONE_S=10
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

cat >"$m/vm.vtb" <<'M'
vm = topo.device('vm', virt == true)
c1 = topo.device('c1')
c2 = topo.device('c2')
c3 = topo.device('c3')
l = topo.connect([vm, c1])
l[vm].spec(nic == e1000)
topo.connect([vm, c2], latency == ms(5))
topo.connect([vm, c1, c3], name='lan')
task('hello', run(vm, 'echo from-the-vm; uname -n'), run(c1, 'ping -c 1 -W 5 10.0.0.1'))
M
expect "vtb image build" "$VTB" image build
expect "up: a VM and two containers" "$VTB" up "$m/vm.vtb" --name vmt
on_exit "$VTB down vmt >/dev/null 2>&1"

vid=$("$VTB" status vmt --json | jq -r .id)
expect "the VM's three taps are in the substrate vtb$vid" \
	test "$(ip -n "vtb$vid" -d -o link show | grep -c 'tun type tap')" = 3
expect "the host's namespace has none of the experiment's interfaces" \
	sh -c "! ip -o link show | grep -q ': vtb$vid'"
expect "status: the VM is ready, with its accelerator" \
	sh -c "'$VTB' status vmt | grep -Eq '^  vm +vm +ready +qemu/(tcg|kvm)'"
expect "container -> VM over the direct link (e1000)" "$VTB" exec vmt c1 -- ping -c 2 -W 5 10.0.0.1
expect "VM -> container over the direct link" timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- ping -c 2 -W 5 10.0.0.2
expect "container -> VM over the emulated link" "$VTB" exec vmt c2 -- ping -c 2 -W 5 10.0.1.1
expect "VM -> container over the emulated link" timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- ping -c 2 -W 5 10.0.1.2
rtt=$("$VTB" exec vmt c2 -- ping -c 5 -i 0.2 -q 10.0.1.1 | awk -F/ '/^rtt/ { print $5 }')
if awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 10 && r < 15) }'; then
	ok "emulated link to the VM: round trip $rtt ms (latency 5 ms each way)"
else
	not_ok "emulated link to the VM: round trip" "got '$rtt' ms, want 10..15"
fi
expect "routing through the VM: c1 -> c2" "$VTB" exec vmt c1 -- ping -c 1 -W 5 10.0.1.2
expect "container -> VM on a LAN (the tap in the bridge)" "$VTB" exec vmt c3 -- ping -c 2 -W 5 10.0.2.1
expect "VM -> container on the LAN" timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- ping -c 2 -W 5 10.0.2.3

out=$(timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- sh -c 'echo out-line; echo err-line >&2; exit 3' 2>&1); rc=$?
if [ "$rc" = 3 ] && printf '%s' "$out" | grep -q out-line && printf '%s' "$out" | grep -q err-line; then
	ok "vtb exec on the VM: output and the command's exit status (3)"
else
	not_ok "vtb exec on the VM" "exit $rc, output: $out"
fi
drv=$(timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- readlink /sys/class/net/eth0/device/driver)
expect "eth0's driver in the guest is e1000, as asked" sh -c "echo '$drv' | grep -q '/e1000$'"
drv=$(timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- readlink /sys/class/net/eth1/device/driver)
expect "eth1's driver is virtio_net (the default)" sh -c "echo '$drv' | grep -q '/virtio_net$'"
expect "the guest's hostname is the node's name" sh -c "test \"\$('$VTB' exec vmt vm -- hostname)\" = vm"
att=$(printf 'echo attach-$((6 * 7))\n' | timeout "$VM_EXEC_S" "$VTB" exec vmt vm 2>&1)
expect "vtb exec NAME VM without a command attaches to the console" \
	sh -c "printf '%s' '$att' | grep -q attach-42"
big=$(timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- seq 1 20000 | md5sum)
want=$(seq 1 20000 | md5sum)
expect "long output comes through intact" test "$big" = "$want"
expect "vtb run: a task on the VM and a container" sh -c "'$VTB' run vmt | grep -q '1 ok'"

# kill -9 of QEMU: the VM is failed, exec says so, down leaves nothing
qpid=$(pgrep -f "[q]emu-system.*$VTB_STATE_DIR/.*\.vm0\.con" | head -n 1)
if [ -n "$qpid" ]; then
	kill -9 "$qpid"
	expect "the killed QEMU is gone" wait_gone "$qpid" "$GONE_S"
	expect "status: the killed VM is failed" sh -c "'$VTB' status vmt | grep -Eq '^  vm +vm +failed'"
	expect_fail "exec on the killed VM fails, saying so" 2 "failed" timeout "$VM_EXEC_S" "$VTB" exec vmt vm -- true
else
	not_ok "find the VM's QEMU process" "no qemu process for the experiment"
fi
expect "down" "$VTB" down vmt
# ([q]: the pattern must not match the shell that runs pgrep)
expect "no QEMU left" sh -c "! pgrep -f '[q]emu-system.*$VTB_STATE_DIR' >/dev/null"

# kill -9 of the supervisor: QEMU goes with it; clean leaves nothing
expect "up again" "$VTB" up "$m/vm.vtb" --name vmt2
on_exit "$VTB down vmt2 >/dev/null 2>&1"
spid=$("$VTB" status vmt2 --json | sed -n '/"supervisor"/,/}/s/.*"pid": *\([0-9][0-9]*\).*/\1/p')
expect "found the supervisor" test -n "$spid"
qpid=$(pgrep -f "[q]emu-system.*$VTB_STATE_DIR" | head -n 1)
expect "found the VM's QEMU" test -n "$qpid"
kill -9 "$spid"
expect "the killed supervisor is gone" wait_gone "$spid" "$GONE_S"
expect "QEMU died with its supervisor" wait_gone "${qpid:-0}" "$GONE_S"
expect "no QEMU left" sh -c "! pgrep -f '[q]emu-system.*$VTB_STATE_DIR' >/dev/null"
expect "clean" "$VTB" clean
left=$(vtb_new_objects)
if [ -z "$left" ]; then ok "no vtb namespace or link left"; else not_ok "no vtb namespace or link left" "$left"; fi
finish
