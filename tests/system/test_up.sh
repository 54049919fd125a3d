#!/bin/sh
# System tests of vtb up / status / exec / down / clean on real namespaces,
# veths and LAN switches, with real ping. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
before=$(vtb_objects)

# a chain of five routers, a LAN at each end: multi-hop across LANs
cat >"$m/chain.vtb" <<'M'
r = []
for i in range(5):
    r.append(topo.device('r' + str(i)))
for i in range(4):
    topo.connect([r[i], r[i + 1]])
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b, r[0]])
lan = topo.connect([c, d, r[4]], name='far')
lan[d].spec(ip == '192.168.7.20/24')
M
expect "up a chain with two LANs" "$VTB" up "$m/chain.vtb"
on_exit "$VTB down chain >/dev/null 2>&1"
dip=192.168.7.20
expect "ping across 5 routers and 2 LANs (a -> d)" "$VTB" exec chain a -- ping -c 2 -W 2 -i 0.2 $dip
aip=$("$VTB" exec chain a -- ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
expect "ping back (d -> a at $aip)" "$VTB" exec chain d -- ping -c 1 -W 2 "$aip"
# this experiment's node c (other experiments on the machine may have one)
cid=$("$VTB" status | awk '$1 == "chain" { print $2 }')
expect "ip netns exec works on a node" ip netns exec "vtb$cid-c" ping -c 1 -W 2 $dip

# vtb exec: output and exit status pass through
out=$("$VTB" exec chain a -- sh -c 'echo hello-from-$(hostname); exit 7'); rc=$?
if [ "$rc" = 7 ] && [ "$out" = "hello-from-a" ]; then ok "exec passes output and exit status"; else not_ok "exec passes output and exit status" "rc=$rc out=$out"; fi
expect_fail "exec of a missing program is 127" 127 "cannot run" "$VTB" exec chain a -- no-such-program-vtb
expect_fail "exec on an unknown node" 1 "no node 'zz'" "$VTB" exec chain zz -- true

# status
expect_fail "status lists the experiment" 0 "chain" "$VTB" status
expect_fail "status of one experiment shows addresses" 0 "192.168.7.20/24" "$VTB" status chain

# errors a user meets
expect_fail "up of a name already up" 1 "already up" "$VTB" up "$m/chain.vtb"
expect_fail "down of an unknown name" 1 "no experiment named 'nope'" "$VTB" down nope
expect_fail "without root" 1 "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups "$VTB" status

# two experiments with the same addresses side by side
cat >"$m/pair.vtb" <<'M'
x = topo.device('x')
y = topo.device('y')
l = topo.connect([x, y])
l[x].spec(ip == '10.0.0.1/24')
l[y].spec(ip == '10.0.0.2/24')
M
expect "up pair one" "$VTB" up "$m/pair.vtb" --name one
on_exit "$VTB down one >/dev/null 2>&1"
expect "up pair two (same addresses)" "$VTB" up "$m/pair.vtb" --name two
on_exit "$VTB down two >/dev/null 2>&1"
expect "ping in one" "$VTB" exec one x -- ping -c 1 -W 2 10.0.0.2
expect "ping in two" "$VTB" exec two x -- ping -c 1 -W 2 10.0.0.2

# a node the allocation cannot fit: nothing is created
cat >"$m/big.vtb" <<'M'
a = topo.device('a', cores == 4096)
M
expect_fail "an experiment that does not fit fails before creating anything" 1 "device 'a': cores == 4096 does not fit" "$VTB" up "$m/big.vtb"

# down removes everything
expect "down one" "$VTB" down one
expect "down two" "$VTB" down two
expect "down chain" "$VTB" down chain
after=$(vtb_objects)
if [ "$before" = "$after" ]; then ok "down leaves no vtb namespaces or links"; else not_ok "down leaves no vtb namespaces or links" "$(printf '%s\n' "$after" | grep -vxF -- "$before")"; fi

# the group delete (older journals with root-namespace bridges) never
# touches a foreign device in the group: it is left alone
cat >"$m/lans.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b, c])
topo.connect([b, c, d])
M
expect "up two LANs" "$VTB" up "$m/lans.vtb"
on_exit "$VTB down lans >/dev/null 2>&1"
lid=$("$VTB" status lans --json | awk -F'"' '/"id"/{print $4; exit}')
group=$(( 0x76740000 | 0x$lid ))
n=$(ip -n "vtb$lid" -o link show group $group | wc -l)
# the substrate ends of six LAN ports, in the substrate (no bridge: the
# LANs are switched on their ports)
if [ "$n" = 6 ]; then ok "the experiment's ports are in its substrate"; else not_ok "the experiment's ports are in its substrate" "$n links in group $group"; fi
n=$(ip -o link show | grep -c ": vtb$lid" || true)
if [ "$n" = 0 ]; then ok "the host's namespace has none of them"; else not_ok "the host's namespace has none of them" "$n links"; fi
ip link add vtbforeign$$ type bridge && ip link set vtbforeign$$ group $group
on_exit "ip link del vtbforeign$$ 2>/dev/null"
expect "down with a foreign device in the host in the group" "$VTB" down lans
expect "the foreign device survived" ip link show vtbforeign$$
ip link del vtbforeign$$
expect "the experiment's substrate is gone" test ! -e "/run/netns/vtb$lid"

# an id whose kernel names exist already (another state directory's, or made
# by hand) is never used: with VTB_ID forcing it, vtb up refuses and says why
ip netns add vtbbee5-a
on_exit "ip netns del vtbbee5-a 2>/dev/null"
expect_fail "an id whose names the kernel holds is refused" 2 "vtbbee5-a exists.*not touched" \
	env VTB_ID=bee5 "$VTB" up "$m/pair.vtb" --name taken
expect "the other's namespace is untouched" ip netns exec vtbbee5-a true
expect_fail "and nothing was recorded" 1 "no experiment named 'taken'" "$VTB" down taken
ip netns del vtbbee5-a

# a dead supervisor: down still works from the journal
expect "up pair again" "$VTB" up "$m/pair.vtb" --name three
on_exit "$VTB down three >/dev/null 2>&1"
spid=$("$VTB" status three --json | awk -F'[:,]' '/"pid"/{gsub(/ /,"",$2); print $2; exit}')
kill -9 "$spid" 2>/dev/null
sleep 0.2
expect_fail "status says the supervisor is gone" 0 "gone" "$VTB" status three
expect_fail "status points at the supervisor's log" 0 "\.sup\.log" "$VTB" status three
if ls "$VTB_STATE_DIR"/*.sup.log >/dev/null 2>&1; then ok "the dead supervisor's log is kept until down"
else not_ok "the dead supervisor's log is kept until down" "$(ls "$VTB_STATE_DIR")"; fi
expect "down without a supervisor" "$VTB" down three
if ls "$VTB_STATE_DIR"/*.sup.log* >/dev/null 2>&1; then not_ok "down removes the supervisor's log" "$(ls "$VTB_STATE_DIR")"
else ok "down removes the supervisor's log"; fi
after=$(vtb_objects)
if [ "$before" = "$after" ]; then ok "nothing left after a dead supervisor's down"; else not_ok "nothing left after a dead supervisor's down" "$after"; fi

finish
