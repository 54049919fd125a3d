#!/bin/bash
# System tests of a VM in a fragment (issue 17) on two simulated hosts
# (scripts/simhosts.sh): a QEMU VM (TCG) pinned on h1, a container on h2,
# joined by a direct link (over VXLAN: the VM's tap and the VXLAN device,
# joined by the shortcut) and by an emulated one with 5 ms each way
# (emulated on the sending host: about 10 ms round trip); a third direct
# link through the bridge (its host's agent without the shortcut, as with
# VTB_DISPERSED_BYPASS=0 there: the same fragment the other way). Ping
# across both ways with the right round trip, vtb exec on the VM from the
# other host (the relay), vtb status from either host shows the VM ready
# on h1, and vtb down from h2 leaves no QEMU and nothing else anywhere.
# Needs root, etcd-server; the first run builds the guest image.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# a command on the VM answers in seconds once it booted; a console that
# never answers fails the test in VM_EXEC_S instead of holding it
VM_EXEC_S=${VM_EXEC_S:-120}
# For QEMU to be gone after vtb down: the supervisor stops it at once, but
# freeing a TCG guest's memory on a loaded two-core machine can take a
# second or two
GONE_S=10
m=$(mktemp -d /tmp/vtbclvm.XXXXXX)
on_exit "rm -rf $m"

cat >"$m/vm.vtb" <<'M'
vm = topo.device('vm', virt == true, host == 'h1')
c = topo.device('c', host == 'h2')
d = topo.connect([vm, c], name='d')
d[vm].spec(ip == '10.70.1.1/24')
d[c].spec(ip == '10.70.1.2/24')
e = topo.connect([vm, c], latency == ms(5), name='e')
e[vm].spec(ip == '10.70.2.1/24')
e[c].spec(ip == '10.70.2.2/24')
M

expect "vtb image build" "$VTB" image build
# certificates: exec on another host's node and the merged status go
# through the agents' relay, which needs them (docs/cluster.md, "The relay")
expect "the cluster's CA" "$VTB" cluster ca --dir "$m/ca"
expect "etcd's certificate" "$VTB" cluster cert etcd --underlay 10.99.0.254 --ca "$m/ca" -o "$m/ca/etcd.pem"
for i in 1 2; do
	expect "h$i's certificate" "$VTB" cluster cert h$i --underlay 10.99.0.$i --ca "$m/ca" -o "$m/h$i.pem"
done
VTBSIM_ETCD_TLS="$m/ca" sim_start 2
ETCD=https://10.99.0.254:2379
expect "h1: cluster init" on h1 "$VTB" cluster init --etcd "$ETCD" --bundle "$m/h1.pem"
expect "h2: cluster join" on h2 "$VTB" cluster join --etcd "$ETCD" --bundle "$m/h2.pem"
for h in h1 h2; do expect "$h: agent started" "$SIM" start-agent "$h"; done
if eventually "$SIM_ALIVE_S" sim_alive h1 2; then ok "2 hosts alive"
else not_ok "2 hosts alive" "$(on h1 "$VTB" cluster status 2>&1)"; fi

# etcd's keys with h1's certificate (simlib's etcd_keys has none)
etcd_keys() {
	on h1 etcdctl --endpoints "$ETCD" --cacert "$m/ca/ca.crt" --cert "$m/h1.pem" --key "$m/h1.pem" \
		get --prefix "$1" --keys-only 2>/dev/null | grep .
}

expect "up from h2: a VM on h1, a container on h2" on h2 "$VTB" up "$m/vm.vtb" --name clvm
on_exit "$SIM exec h2 -- $VTB down clvm >/dev/null 2>&1"
expect "etcd holds the experiment's keys" etcd_keys /vtb/exp/

qemu_on() { host_objects "$1" | grep -c qemu; }
expect "h1 runs one QEMU, h2 none" test "$(qemu_on h1) $(qemu_on h2)" = "1 0"
for h in h1 h2; do
	out=$(on $h "$VTB" status clvm 2>&1)
	if printf '%s\n' "$out" | grep -Eq '^  vm +vm +ready +qemu/(tcg|kvm)'; then ok "status from $h: the VM is ready"
	else not_ok "status from $h: the VM is ready" "$out"; fi
done
out=$(on h2 "$VTB" status clvm --json 2>&1)
if printf '%s' "$out" | jq -e '.nodes[] | select(.name == "vm" and .host == "h1" and .state == "ready")' >/dev/null; then
	ok "status --json from h2: the VM is ready on h1"
else not_ok "status --json from h2: the VM is ready on h1" "$out"; fi

vid=$(on h1 "$VTB" status clvm --json | jq -r .id)
expect "h1: the direct link's tap and VXLAN device are joined by redirects" \
	sh -c "'$SIM' exec h1 -- tc -n vtb$vid filter show dev vtb${vid}x0 ingress | grep -q vtb_redirect"

expect "container (h2) -> VM (h1) over the direct link" on h2 "$VTB" exec clvm c -- ping -c 2 -W 5 10.70.1.1
expect "container (h2) -> VM (h1) over the emulated link" on h2 "$VTB" exec clvm c -- ping -c 2 -W 5 10.70.2.1
out=$(on h2 timeout "$VM_EXEC_S" "$VTB" exec clvm vm -- ping -c 2 -W 5 10.70.1.2 2>&1)
if printf '%s' "$out" | grep -q ' 0% packet loss'; then ok "vtb exec on the VM from h2: VM -> container over the direct link"
else not_ok "vtb exec on the VM from h2: VM -> container over the direct link" "$out"; fi
expect "VM -> container over the emulated link (exec from h1)" \
	timeout "$VM_EXEC_S" "$SIM" exec h1 -- "$VTB" exec clvm vm -- ping -c 2 -W 5 10.70.2.2

rtt=$(on h2 "$VTB" exec clvm c -- ping -c 5 -i 0.2 -q 10.70.2.1 | awk -F/ '/^rtt/ { print $5 }')
if awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 10 && r < 15) }'; then
	ok "emulated link between hosts: round trip $rtt ms (5 ms each way, each on its sender)"
else
	not_ok "emulated link between hosts: round trip" "got '$rtt' ms, want 10..15"
fi
rtt=$(on h2 "$VTB" exec clvm c -- ping -c 5 -i 0.2 -q 10.70.1.1 | awk -F/ '/^rtt/ { print $5 }')
if awk -v r="${rtt:-99}" 'BEGIN { exit !(r < 5) }'; then
	ok "direct link between hosts: round trip $rtt ms (no latency)"
else
	not_ok "direct link between hosts: round trip" "got '$rtt' ms, want under 5"
fi

out=$(on h2 timeout "$VM_EXEC_S" "$VTB" exec clvm vm -- sh -c 'echo out-line; uname -n; exit 3' 2>&1); rc=$?
if [ "$rc" = 3 ] && printf '%s' "$out" | grep -q out-line && printf '%s' "$out" | grep -qx vm; then
	ok "vtb exec on the VM from h2: output and exit status (3)"
else
	not_ok "vtb exec on the VM from h2" "exit $rc, output: $out"
fi

qpid=$(host_objects h1 | awk '/qemu/ { print $1; exit }')
expect "found the VM's QEMU on h1" test -n "$qpid"
expect "down from h2" on h2 "$VTB" down clvm
expect "the VM's QEMU is gone" wait_gone "${qpid:-0}" "$GONE_S"
if eventually 10 nothing_anywhere; then ok "down: nothing left on any host, no QEMU, no key"
else not_ok "down: nothing left on any host" "$(sim_show)"; fi

# the same VM over the bridge path: h1's agent without the shortcut
expect "h1's agent killed" "$SIM" kill-agent h1
expect "h1's agent started with VTB_DISPERSED_BYPASS=0" env VTB_DISPERSED_BYPASS=0 "$SIM" start-agent h1
expect "up again from h1" on h1 "$VTB" up "$m/vm.vtb" --name clvm
vid=$(on h1 "$VTB" status clvm --json | jq -r .id)
expect "h1: no redirect on the VXLAN device (through the bridge)" \
	sh -c "! '$SIM' exec h1 -- tc -n vtb$vid filter show dev vtb${vid}x0 ingress | grep -q bpf"
expect "container (h2) -> VM (h1) through the bridge" on h2 "$VTB" exec clvm c -- ping -c 2 -W 5 10.70.1.1
expect "down from h1" on h1 "$VTB" down clvm
if eventually 10 nothing_anywhere; then ok "down again: nothing left anywhere"
else not_ok "down again: nothing left anywhere" "$(sim_show)"; fi

sim_finish
