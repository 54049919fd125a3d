#!/bin/sh
# System tests of what a new user meets first (issue 19): two experiments of
# one model never share generated MACs; forwarding is on exactly where a node
# routes. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

up() {
	expect "up $1" "$VTB" up "$2" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}
# mac EXP NODE IFACE
mac() { "$VTB" exec "$1" "$2" -- ip -o link show "$3" 2>/dev/null | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p'; }
# sysctl_of EXP NODE KEY
sysctl_of() { "$VTB" exec "$1" "$2" -- cat "/proc/sys/$3" 2>/dev/null; }

cat >"$m/pair.vtb" <<'M'
a = topo.device('a')
r = topo.device('r')
b = topo.device('b')
topo.connect([a, r])
topo.connect([r, b])
M
up one "$m/pair.vtb"
up two "$m/pair.vtb"
m1=$(mac one a eth0)
m2=$(mac two a eth0)
if [ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ]; then
	ok "two experiments of one model get different MACs ($m1, $m2)"
else
	not_ok "two experiments of one model get different MACs" "one: '$m1', two: '$m2'"
fi

# nothing vtb leaves running (supervisor, node inits) keeps what vtb up's
# caller had open: a lock taken around vtb up is free once it has returned
expect "up under a lock" flock "$m/lock" "$VTB" up "$m/pair.vtb" --name locked
on_exit "$VTB down locked >/dev/null 2>&1"
if flock -n "$m/lock" true; then
	ok "the lock taken around vtb up is free once it returns"
else
	not_ok "the lock taken around vtb up is free once it returns" \
		"$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -B20 "$m/lock" | head -20)"
fi
# a daemon started with vtb exec does not keep the caller's descriptors
# (bird started under a flock held the lock for as long as it ran)
if 9<"$m/lock" "$VTB" exec locked a -- sh -c 'test ! -e /proc/self/fd/9'; then
	ok "vtb exec passes only descriptors 0-2 to the command"
else
	not_ok "vtb exec passes only descriptors 0-2 to the command" \
		"$(9<"$m/lock" "$VTB" exec locked a -- ls -l /proc/self/fd 2>&1)"
fi
expect "down locked" "$VTB" down locked

# text vtb status shows what --json has: the queue's limit, every drop cause
cat >"$m/emu.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], latency == ms(1), queue == 50)
M
up emu "$m/emu.vtb"
out=$("$VTB" status emu 2>&1)
if printf '%s\n' "$out" | grep -q 'latency 1 ms, queue limit 50 pkts' &&
	printf '%s\n' "$out" | grep -q 'drops: loss 0 queue 0 memory 0 kernel 0 oversize 0 tx 0 port 0'; then
	ok "text status shows the queue limit and the oversize, tx and port drops"
else
	not_ok "text status shows the queue limit and every drop cause" "$out"
fi

# vtb up's summary says what a VM node is (no namespace is made for it)
cat >"$m/vm.vtb" <<'M'
v = topo.device('v', virt == true)
c = topo.device('c')
topo.connect([v, c])
M
out=$("$VTB" up "$m/vm.vtb" --name vmsum 2>&1)
on_exit "$VTB down vmsum >/dev/null 2>&1"
if printf '%s\n' "$out" | grep -Eq '^  v +VM \(QEMU, (tcg|kvm)\)' &&
	printf '%s\n' "$out" | grep -Eq '^  c +vtb[0-9a-f]+-c '; then
	ok "the summary names a VM node's accelerator and a container's namespace"
else
	not_ok "the summary names a VM node's accelerator" "$out"
fi
expect "down vmsum" "$VTB" down vmsum
finish
