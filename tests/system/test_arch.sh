#!/bin/sh
# System tests of VM nodes of other architectures (docs/vms.md,
# "Architectures"): an arm64 VM and a riscv64 VM under QEMU's TCG, each
# on an emulated link (10 ms each way) to one container: real ping both
# ways with the round trip measured, vtb exec, a task with vtb run, the
# errors for a NIC model the guest cannot drive and for time dilation, and
# vtb down leaving nothing. Needs root, qemu-system-arm and -misc; the first
# run builds both guest images (Debian's packages: a few minutes), later
# runs find them cached.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# A TCG boot of a foreign guest takes 3-6 s alone on this 2-core machine;
# two at once with other suites running beside them can take ten times
# that. vtb up fails a VM not ready in this time.
ARCH_BOOT_S=300
# A command on such a guest answers in a second or two; one that never
# answers fails the test in this time instead of holding it for an hour.
VM_EXEC_S=120
# The first image build downloads ~60 MB (arm64) and ~115 MB (riscv64)
# and unpacks them; a cached build is a lookup.
IMAGE_BUILD_S=600
# Both links add 10 ms each way: a round trip is 20 ms, plus what a TCG
# guest takes to answer (a few ms, more on a loaded machine).
RTT_MIN_MS=20
RTT_MAX_MS=60
export VTB_VM_BOOT_TIMEOUT=$ARCH_BOOT_S
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

for a in arm64 riscv64; do
	expect "vtb image build --arch $a" timeout "$IMAGE_BUILD_S" "$VTB" image build --arch "$a"
done
expect_fail "an unknown architecture is a user error" 1 "no guest architecture 's390x'" \
	"$VTB" image build --arch s390x

cat >"$m/arch.vtb" <<'M'
a = topo.device('a', arch == arm64)
r = topo.device('r', arch == riscv64)
c = topo.device('c')
topo.connect([a, c], latency == ms(10))
topo.connect([r, c], latency == ms(10))
task('arch', run(a, 'uname -m', expect='^aarch64'), run(r, 'uname -m', expect='^riscv64'),
     run(c, 'ping -c 1 -W 5 10.0.0.1 && ping -c 1 -W 5 10.0.1.1'), timeout=s(120))
M
up=$VTB_STATE_DIR/up.out
"$VTB" up "$m/arch.vtb" --name archt >"$up" 2>&1; rc=$?
on_exit "$VTB down archt >/dev/null 2>&1"
if [ "$rc" = 0 ]; then ok "up: an arm64 VM, a riscv64 VM and a container"; else
	not_ok "up: an arm64 VM, a riscv64 VM and a container" "exit $rc: $(cat "$up")"; fi
expect "the summary says the foreign guests run busybox only" \
	sh -c "grep -q 'arm64, tcg; busybox only' '$up' && grep -q 'riscv64, tcg; busybox only' '$up'"
"$VTB" status archt --json >"$VTB_STATE_DIR/st.json"
# (test -s: jq -e passes on an empty input)
expect "status: both VMs ready, with their architectures" sh -c "test -s '$VTB_STATE_DIR/st.json' &&
	jq -e '[.nodes[] | select(.vm) | .vm.state + \" \" + .vm.arch + \" \" + .vm.accel] | sort ==
		[\"ready arm64 tcg\", \"ready riscv64 tcg\"]' '$VTB_STATE_DIR/st.json'"
expect "status: the VMs' lines name their architectures" sh -c "'$VTB' status archt |
	grep -Eq '^  a +vm +ready +qemu/tcg arm64 ' && '$VTB' status archt |
	grep -Eq '^  r +vm +ready +qemu/tcg riscv64 '"
expect "the arm64 guest is aarch64" \
	sh -c "test \"\$(timeout $VM_EXEC_S '$VTB' exec archt a -- uname -m)\" = aarch64"
expect "the riscv64 guest is riscv64" \
	sh -c "test \"\$(timeout $VM_EXEC_S '$VTB' exec archt r -- uname -m)\" = riscv64"
for v in a:10.0.0 r:10.0.1; do
	n=${v%%:*}
	net=${v#*:}
	expect "container -> $n over the emulated link" "$VTB" exec archt c -- ping -c 2 -W 5 "$net.1"
	expect "$n -> container over the emulated link" \
		timeout "$VM_EXEC_S" "$VTB" exec archt "$n" -- ping -c 2 -W 5 "$net.2"
	rtt=$("$VTB" exec archt c -- ping -c 5 -i 0.2 -q "$net.1" | awk -F/ '/^rtt/ { print $5 }')
	if awk -v r="${rtt:-0}" -v lo="$RTT_MIN_MS" -v hi="$RTT_MAX_MS" \
		'BEGIN { exit !(r >= lo && r < hi) }'; then
		ok "container <-> $n: round trip $rtt ms (latency 10 ms each way)"
	else
		not_ok "container <-> $n: round trip" "got '$rtt' ms, want $RTT_MIN_MS..$RTT_MAX_MS"
	fi
done
expect "the foreign guests have no host userland (busybox's ping)" \
	sh -c "timeout $VM_EXEC_S '$VTB' exec archt a -- readlink /bin/ping | grep -q busybox"
expect_fail "vtb run: the task on both VMs and the container" 0 "1 ok" "$VTB" run archt
expect "down" "$VTB" down archt
expect "no QEMU left" sh -c "! pgrep -f '[q]emu-system.*$VTB_STATE_DIR' >/dev/null"

cat >"$m/nic.vtb" <<'M'
r = topo.device('r', arch == riscv64)
c = topo.device('c')
l = topo.connect([r, c])
l[r].spec(nic == rtl8139)
M
expect_fail "a NIC model the riscv64 guest cannot drive is an error naming it" 1 \
	"endpoint 'r': nic == rtl8139: a riscv64 VM cannot have it" "$VTB" up "$m/nic.vtb" --name archn
cat >"$m/dil.vtb" <<'M'
v = topo.device('v', arch == arm64, dilation == 10)
c = topo.device('c')
topo.connect([v, c])
M
expect_fail "time dilation is refused, saying why" 1 "dilation == 10: .*-icount" \
	"$VTB" up "$m/dil.vtb" --name archd
left=$(vtb_new_objects)
if [ -z "$left" ]; then ok "no vtb namespace or link left"; else not_ok "no vtb namespace or link left" "$left"; fi
finish
