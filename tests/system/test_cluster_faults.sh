#!/bin/bash
# System tests of a cluster's faults (issue 18) on three simulated hosts
# with a three-member etcd (scripts/simhosts.sh, ETCD_MEMBERS=3): a host
# whose agent is killed is lost, its experiments show degraded with what is
# gone, the other hosts' parts keep running (a ping between them goes on,
# and one over an emulated link to the lost host's node: agents are not in
# the data path);
# its agent back reconciles (keeps a part still wanted, removes one downed
# meanwhile, finishing what vtb down left); a host killed in the middle of
# vtb up makes it fail naming the host, and nothing is left anywhere once
# its agent is back; one etcd member killed changes nothing; all of etcd
# unreachable makes commands fail fast naming the endpoints, with nothing
# done, while experiments and agents ride it out; more links between hosts
# than one etcd transaction may hold. Needs root, etcd-server.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# the cluster target: a lost host is seen within 10 s (its lease is 6 s)
LOST_S=10
# a part of a few nodes is built or removed in well under a second;
# agents and etcd on a loaded machine: 60 s
UP_S=60
# a command with every etcd endpoint unreachable gives up after
# ETCD_CONNECT_TIMEOUT_MS (2 s) per endpoint: 6 s for three, and 4 s for a
# loaded machine and the sanitizer build
ETCD_FAIL_S=10
# the ping that must go on: every PING_I s for PING_N packets
PING_I=0.2
PING_N=150

m=$(mktemp -d /tmp/vtbfaults.XXXXXX)
on_exit "rm -rf $m"
ETCD_MEMBERS=3 sim_start 3
sim_cluster 3

cat >"$m/three.vtb" <<'M'
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h3')
ab = topo.connect([a, b], name='ab')
ab[a].spec(ip == '10.50.1.1/24')
ab[b].spec(ip == '10.50.1.2/24')
bc = topo.connect([b, c], latency == ms(2), name='bc')
bc[b].spec(ip == '10.50.2.1/24')
bc[c].spec(ip == '10.50.2.2/24')
lan = topo.connect([a, b, c], name='lan')
lan[a].spec(ip == '10.50.3.1/24')
lan[b].spec(ip == '10.50.3.2/24')
lan[c].spec(ip == '10.50.3.3/24')
M

# ping_start HOST NODE ADDR [NAME]: a ping of PING_N packets in the
# background, its output in $m/NAME (default ping); ping_kept_going
# [NAME]: it ended, and most of it came back ($got: how many)
ping_start() {
	on "$1" "$VTB" exec three "$2" -- ping -n -i "$PING_I" -c "$PING_N" -W 1 "$3" >"$m/${4:-ping}" 2>&1 &
	eval "pid_${4:-ping}=\$!"
}
ping_kept_going() {
	eval "wait \$pid_${1:-ping}"
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$m/${1:-ping}")
	[ -n "$got" ] && [ "$got" -ge $((PING_N * 95 / 100)) ]
}
state_of() { on h2 "$VTB" status three --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
degraded() { [ "$(state_of)" = degraded ]; }
up_again() { [ "$(state_of)" = up ]; }
lost() { on h1 "$VTB" cluster status | grep "^  $1 " | grep -q "lost: last heard"; }
used_memory() {
	on h1 "$VTB" cluster status --json |
		python3 -c "import json,sys; print([h['used_memory'] for h in json.load(sys.stdin) if h['name']=='$1'][0])"
}

# --- a host lost: degraded, the rest keeps running
out=$(on h1 "$VTB" up "$m/three.vtb" 2>&1)
if printf '%s\n' "$out" | grep -q "is up .* across 3 hosts"; then ok "three: up across three hosts"
else not_ok "three: up across three hosts" "$out"; fi
id=$(printf '%s\n' "$out" | sed -n 's/.*(id \([0-9a-f]*\)).*/\1/p')
ping_start h1 a 10.50.1.2
ping_start h2 b 10.50.2.2 emu
expect "h3's agent killed" "$SIM" kill-agent h3
t0=$(date +%s)
if eventually "$LOST_S" degraded; then ok "three is degraded within $LOST_S s of h3's agent killed ($(($(date +%s) - t0)) s)"
else not_ok "three is degraded within $LOST_S s" "$(on h2 "$VTB" status three 2>&1)"; fi
out=$(on h2 "$VTB" status three 2>&1)
if printf '%s\n' "$out" | grep -q "degraded across 3 hosts" && printf '%s\n' "$out" | grep -Eq "^  h3 +lost +last heard" &&
	printf '%s\n' "$out" | grep -q "gone with h3: 1 node (c); 2 links (bc, lan)"; then
	ok "status: degraded, h3 lost, node c and links bc, lan gone with it"
else not_ok "status: degraded, h3 lost, what is gone" "$out"; fi
out=$(on h1 "$VTB" status three --json 2>&1)
if printf '%s' "$out" | python3 -c 'import json,sys; v=json.load(sys.stdin); assert v["degraded"] and v["state"]=="degraded"; l=v["lost"]; assert [x["host"] for x in l]==["h3"] and l[0]["nodes"]==["c"] and sorted(l[0]["links"])==["bc","lan"]; assert [h["alive"] for h in v["hosts"]]==[True,True,False]'; then
	ok "status --json: degraded, lost h3 with its nodes and links"
else not_ok "status --json" "$out"; fi
if on h1 "$VTB" status | grep -q "^three .*degraded .*a host is lost"; then ok "status lists three degraded"
else not_ok "status lists three degraded" "$(on h1 "$VTB" status 2>&1)"; fi
if ping_kept_going; then ok "a ping between the living hosts' nodes kept going ($got of $PING_N)"
else not_ok "a ping between the living hosts' nodes kept going" "$(cat "$m/ping")"; fi
if ping_kept_going emu; then ok "a ping over the emulated link to h3 (2 ms each way) kept going ($got of $PING_N)"
else not_ok "a ping over the emulated link to h3 kept going" "$(cat "$m/emu")"; fi

# --- its agent back: the part is still wanted, it is kept and reported
ns_before=$(on h3 ip netns list | grep -- "-c\$")
expect "h3's agent started again" "$SIM" start-agent h3
if eventually "$LOST_S" up_again; then ok "three is up again once h3's agent is back"
else not_ok "three is up again once h3's agent is back" "$(on h2 "$VTB" status three 2>&1)"; fi
if [ -n "$ns_before" ] && [ "$(on h3 ip netns list | grep -- "-c\$")" = "$ns_before" ] &&
	! grep -q "reconciling" "$S/h3/lib/agent.log"; then
	ok "reconcile kept h3's part (still wanted)"
else not_ok "reconcile kept h3's part" "$(grep -F "[three]" "$S/h3/lib/agent.log")"; fi
expect "b (h2) pings c (h3) after the agent's return" on h2 "$VTB" exec three b -- ping -c 2 -W 2 10.50.2.2

# --- down while h3 is lost: the living hosts are cleaned, h3's part is
# recorded, its allocation kept; its agent back removes it
expect "h3's agent killed again" "$SIM" kill-agent h3
eventually "$LOST_S" lost h3
out=$(on h2 "$VTB" down three 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'three' (id $id) from 2 hosts.*1 host not reached" &&
	printf '%s\n' "$out" | grep -q "host 'h3' was not reached (lost.*/vtb/left/$id/h3"; then
	ok "down with h3 lost: two hosts cleaned, h3 said not reached"
else not_ok "down with h3 lost" "$out"; fi
if [ -z "$(host_objects h1)$(host_objects h2)" ] && [ -n "$(host_objects h3)" ]; then
	ok "h1 and h2 hold nothing, h3 still holds its part"
else not_ok "h1 and h2 hold nothing, h3 its part" "$(sim_show)"; fi
if [ "$(etcd_keys /vtb/left/)" = "/vtb/left/$id/h3" ] && [ "$(used_memory h3)" -gt 0 ] && [ "$(used_memory h1)" = 0 ]; then
	ok "etcd records what was not reached; h3's allocation is kept, h1's given back"
else not_ok "etcd records what was not reached" "$(sim_show; on h1 "$VTB" cluster status)"; fi
if on h1 "$VTB" status | grep -q "^three .*left .*its part on h3 was not reached"; then ok "status lists the part left on h3"
else not_ok "status lists the part left on h3" "$(on h1 "$VTB" status 2>&1)"; fi
expect "h3's agent started again" "$SIM" start-agent h3
if eventually "$UP_S" nothing_anywhere && eventually 5 sh -c "[ -z \"\$('$SIM' exec h1 -- etcdctl --endpoints $ETCD get --prefix /vtb/ --keys-only | grep '^/vtb/\(left\|want\|ids\|vni\|exps\|owner\)')\" ]" &&
	[ "$(used_memory h3)" = 0 ]; then
	ok "h3's agent back: its part removed (reconciled), its allocation and every key given back"
else not_ok "h3's agent back: everything given back" "$(sim_show; grep -F "[three]" "$S/h3/lib/agent.log")"; fi

# --- a host killed in the middle of vtb up: after its want is written,
# before it reports (its agent stopped, then killed)
eventually "$SIM_ALIVE_S" sim_alive h1 3
read -r apid _ <"$S/h3/agent.pid"
kill -STOP "$apid"
on h1 "$VTB" up "$m/three.vtb" >"$m/up" 2>&1 &
up_pid=$!
for i in $(seq 200); do [ -n "$(etcd_keys /vtb/want/h3/)" ] && break; sleep 0.05; done
expect "h3's agent killed once its want is written" "$SIM" kill-agent h3
if wait_gone "$up_pid" "$UP_S" && ! wait "$up_pid" && grep -q "host 'h3' is lost" "$m/up"; then
	ok "vtb up fails naming the lost host h3"
else not_ok "vtb up fails naming the lost host h3" "$(cat "$m/up")"; fi
if [ -z "$(host_objects h1)$(host_objects h2)" ]; then ok "the living hosts hold nothing of it"
else not_ok "the living hosts hold nothing of it" "$(sim_show)"; fi
expect "h3's agent started again" "$SIM" start-agent h3
if eventually "$UP_S" nothing_anywhere && [ -z "$(etcd_keys /vtb/left/)$(etcd_keys /vtb/want/)$(etcd_keys /vtb/ids/)" ]; then
	ok "once h3's agent is back nothing is left anywhere, nor in etcd"
else not_ok "nothing left after the killed vtb up" "$(sim_show)"; fi

# --- one etcd member killed: the cluster keeps working
eventually "$SIM_ALIVE_S" sim_alive h1 3
expect "etcd member 1 killed" "$SIM" kill-etcd 1
# the two left elect a leader within etcd's election timeout (1 s); a
# request meanwhile is refused with etcd's words ("leader changed")
others=$(echo "$ETCD" | cut -d, -f2-)
if eventually 10 on h1 etcdctl --endpoints "$others" endpoint health; then ok "members 2 and 3 are healthy without 1"
else not_ok "members 2 and 3 are healthy without 1" "$(on h1 etcdctl --endpoints "$others" endpoint health 2>&1)"; fi
out=$(on h2 "$VTB" up "$m/three.vtb" 2>&1)
if printf '%s\n' "$out" | grep -q "is up .* across 3 hosts"; then ok "member 1 dead: up across three hosts"
else not_ok "member 1 dead: up" "$out"; fi
expect "member 1 dead: a (h1) pings c (h3) over the LAN" on h1 "$VTB" exec three a -- ping -c 2 -W 2 10.50.3.3
if on h3 "$VTB" status three | grep -q "up across 3 hosts"; then ok "member 1 dead: status"
else not_ok "member 1 dead: status" "$(on h3 "$VTB" status three 2>&1)"; fi
if sleep 3 && sim_alive h2 3; then ok "member 1 dead: the agents keep their hosts alive"
else not_ok "member 1 dead: the agents keep their hosts alive" "$(on h2 "$VTB" cluster status 2>&1)"; fi
expect "member 1 started again" "$SIM" start-etcd 1

# --- all of etcd unreachable (every member cut from the underlay): fail
# fast, nothing done; the experiment and the agents ride it out
ping_start h2 b 10.50.2.2
for k in 1 2 3; do ip -n vtbsim-u link set "etcd$k" down; done
on_exit "for k in 1 2 3; do ip -n vtbsim-u link set etcd\$k up 2>/dev/null; done"
t0=$(date +%s.%N)
out=$(on h1 "$VTB" status three 2>&1)
rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if [ "$rc" != 0 ] && awk -v s="$secs" -v b="$ETCD_FAIL_S" 'BEGIN { exit !(s < b) }' &&
	printf '%s\n' "$out" | grep -q "cannot reach etcd at http://10.99.0.241:2379.*http://10.99.0.242:2379.*http://10.99.0.243:2379"; then
	ok "etcd unreachable: status fails in $secs s (< $ETCD_FAIL_S), naming the three endpoints"
else not_ok "etcd unreachable: status fails fast naming the endpoints" "exit $rc after $secs s: $out"; fi
objs=$(host_objects h1)
t0=$(date +%s.%N)
out=$(on h1 "$VTB" up "$m/three.vtb" --name other 2>&1)
rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if [ "$rc" != 0 ] && awk -v s="$secs" -v b="$ETCD_FAIL_S" 'BEGIN { exit !(s < b) }' &&
	printf '%s\n' "$out" | grep -q "cannot reach etcd" && [ "$(host_objects h1)" = "$objs" ]; then
	ok "etcd unreachable: up fails in $secs s, nothing made"
else not_ok "etcd unreachable: up fails fast, nothing made" "exit $rc after $secs s: $out"; fi
out=$(on h3 "$VTB" down three 2>&1)
rc=$?
if [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -q "cannot reach etcd" && [ -n "$(host_objects h3)" ]; then
	ok "etcd unreachable: down fails, the experiment is left running"
else not_ok "etcd unreachable: down fails, nothing removed" "exit $rc: $out"; fi
if ping_kept_going; then ok "etcd unreachable: a ping inside the experiment went on ($got of $PING_N)"
else not_ok "etcd unreachable: a ping inside the experiment went on" "$(cat "$m/ping")"; fi
for k in 1 2 3; do ip -n vtbsim-u link set "etcd$k" up; done
if eventually 30 sim_alive h1 3; then ok "etcd back: the agents ride it out (three hosts alive)"
else not_ok "etcd back: three hosts alive" "$(on h1 "$VTB" cluster status 2>&1)"; fi
if grep -q "cannot renew" "$S/h1/lib/agent.log" && eventually 10 grep -q "renewed again\|registering again" "$S/h1/lib/agent.log"; then
	ok "the agent's log says it could not renew, then that it did"
else not_ok "the agent's log" "$(tail -n 5 "$S/h1/lib/agent.log")"; fi
if eventually 10 up_again; then ok "etcd back: three is up"
else not_ok "etcd back: three is up" "$(on h2 "$VTB" status three 2>&1)"; fi
out=$(on h1 "$VTB" down three 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'three' .* from 3 hosts" && eventually 10 nothing_anywhere; then
	ok "etcd back: down, nothing left anywhere"
else not_ok "etcd back: down, nothing left" "$out $(sim_show)"; fi

# --- more links between hosts than one etcd transaction may hold (etcd's
# --max-txn-ops, 128): the VNIs are taken in several
cat >"$m/wide.vtb" <<'M'
topo.spec(islands == true)
a = []
b = []
for i in range(130):
    a.append(topo.device('a' + str(i), host == 'h1'))
    b.append(topo.device('b' + str(i), host == 'h2'))
    topo.connect([a[i], b[i]])
M
out=$(on h3 "$VTB" up "$m/wide.vtb" 2>&1)
if printf '%s\n' "$out" | grep -q "is up .*(130 between hosts)" && [ "$(etcd_keys /vtb/vni/ | wc -l)" = 130 ]; then
	ok "130 links between two hosts: 130 VNIs taken (more than one transaction holds)"
else not_ok "130 links between two hosts" "$out"; fi
out=$(on h3 "$VTB" down wide 2>&1)
if eventually 10 nothing_anywhere && [ -z "$(etcd_keys /vtb/vni/)" ]; then ok "wide: down, every VNI given back"
else not_ok "wide: down, every VNI given back" "$out $(sim_show)"; fi

sim_finish
