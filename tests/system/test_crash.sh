#!/bin/sh
# Crash recovery: kill -9 of vtb up at several points, then vtb clean removes
# everything vtb made and nothing else (a namespace and a link this test made
# itself survive). Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# objects that are not vtb's, with names that look like vtb's
ip netns add vtbmine$$
on_exit "ip netns del vtbmine$$ 2>/dev/null"
ip link add vtbmine$$ type veth peer name vtbminp$$
on_exit "ip link del vtbmine$$ 2>/dev/null"
before=$(vtb_objects)

cat >"$m/crash.vtb" <<'M'
n = []
for i in range(300):
    n.append(topo.device('n' + str(i)))
for i in range(299):
    topo.connect([n[i], n[i + 1]])
for i in range(0, 280, 20):
    topo.connect([n[i], n[i + 5], n[i + 10], n[i + 15]])
M
midway=0
for delay in 0.005 0.02 0.05 0.1 0.2 0.3 0.5 0.8 1.2; do
	"$VTB" up "$m/crash.vtb" --name crash >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# a supervisor may have been started if up had finished: that is an
	# experiment that is up, not a crash; take it down the normal way
	if "$VTB" status crash 2>/dev/null | grep -q "supervisor running"; then
		expect "down after a completed up ($delay s)" "$VTB" down crash
	else
		left=$(vtb_objects | grep -cvxF -- "$before")
		[ "$left" -gt 0 ] && midway=$((midway + 1))
		expect "clean after kill -9 at $delay s ($left objects left by the crash)" "$VTB" clean
	fi
	after=$(vtb_objects)
	if [ "$before" = "$after" ]; then
		ok "nothing left after kill -9 at $delay s, ours survived"
	else
		not_ok "nothing left after kill -9 at $delay s, ours survived" "$(printf '%s\n' "$after" | grep -vxF -- "$before")"
	fi
done
# the kills must really have hit vtb up in the middle of building
if [ "$midway" -ge 3 ]; then ok "$midway kills left objects that clean removed"; else not_ok "kills landed mid-build only $midway times"; fi
expect "our own namespace survived" ip netns exec vtbmine$$ true
expect "our own link survived" ip link show vtbmine$$
expect_fail "clean with nothing to do" 0 "nothing to clean" "$VTB" clean
finish
