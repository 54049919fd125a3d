#!/bin/bash
# System tests of a cluster's membership (issue 17) on three simulated
# hosts (scripts/simhosts.sh): vtb cluster init, join, status, leave and
# vtb agent; a host whose agent is killed is seen lost within the target's
# 10 s, and alive again once its agent is back. Needs root and etcd-server.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
# the cluster target: a lost host is seen within 10 s (its lease is 6 s)
LOST_S=10

sim_start 3
expect_fail "status before any cluster says so" 1 "in no cluster .*vtb cluster init or join" \
	on h1 "$VTB" cluster status
expect_fail "join before init: no cluster there" 1 "no cluster at $ETCD" \
	on h2 "$VTB" cluster join --etcd "$ETCD"
expect_fail "an etcd that does not answer is named" 2 "10.99.0.253" \
	on h1 "$VTB" cluster init --etcd http://10.99.0.253:2379
expect "h1: cluster init" on h1 "$VTB" cluster init --etcd "$ETCD"
expect_fail "a second init is refused" 1 "a cluster exists at $ETCD already" \
	on h2 "$VTB" cluster init --etcd "$ETCD"
expect "h2: cluster join" on h2 "$VTB" cluster join --etcd "$ETCD"
expect "h3: cluster join" on h3 "$VTB" cluster join --etcd "$ETCD"
expect_fail "a host name in use with another underlay is refused" 1 "named 'h2' is a member already" \
	on h3 "$VTB" cluster join --etcd "$ETCD" --host h2
out=$(on h2 cat /etc/vtb/cluster.conf)
if printf '%s\n' "$out" | grep -qx "host = h2" && printf '%s\n' "$out" | grep -qx "underlay = 10.99.0.2" &&
	printf '%s\n' "$out" | grep -qx "etcd = $ETCD"; then
	ok "join wrote /etc/vtb/cluster.conf (name and underlay by default: hostname, route to etcd)"
else not_ok "join wrote /etc/vtb/cluster.conf" "$out"; fi
[ ! -e /etc/vtb/cluster.conf ] && ok "the machine's own /etc/vtb holds no cluster.conf" ||
	not_ok "the machine's own /etc/vtb holds no cluster.conf"

for h in h1 h2 h3; do expect "$h: agent started" "$SIM" start-agent $h; done
# three_alive HOST: HOST's status counts three hosts alive (asked anew on each try)
three_alive() { sim_alive "$1" 3; }
if eventually 10 three_alive h3; then ok "status on h3: three hosts alive"
else not_ok "status on h3: three hosts alive" "$(on h3 "$VTB" cluster status 2>&1)"; fi
out=$(on h1 "$VTB" cluster status --json)
if printf '%s' "$out" | python3 -c 'import json,sys; v=json.load(sys.stdin); assert [h["name"] for h in v]==["h1","h2","h3"]; assert all(h["alive"] and h["cores"]>=1000 and h["memory"]>0 for h in v); assert v[1]["underlay"]=="10.99.0.2"'; then
	ok "status --json: names, underlays, cores, memory, alive"
else not_ok "status --json" "$out"; fi
expect_fail "a second agent on a host is refused" 1 "one runs already" on h2 "$VTB" agent --foreground

expect "h3's agent killed (SIGKILL)" "$SIM" kill-agent h3
t0=$(date +%s)
lost() { on h1 "$VTB" cluster status | grep "^  h3 " | grep -q "lost: last heard"; }
if eventually "$LOST_S" lost; then ok "h3 is seen lost within $LOST_S s ($(($(date +%s) - t0)) s)"
else not_ok "h3 is seen lost within $LOST_S s" "$(on h1 "$VTB" cluster status 2>&1)"; fi
# started under a lock: the agent keeps none of its starter's descriptors
lk=$(mktemp /tmp/vtbagentlock.XXXXXX)
on_exit "rm -f $lk"
expect "h3's agent started again (under a lock)" flock "$lk" "$SIM" start-agent h3
if eventually 10 three_alive h1; then ok "h3 is alive again"
else not_ok "h3 is alive again" "$(on h1 "$VTB" cluster status 2>&1)"; fi
# alive: the agent is past its start, where it closes what it inherited
if flock -n "$lk" true; then ok "the lock taken around starting the agent is free once it runs"
else not_ok "the lock taken around starting the agent is free once it runs" \
	"$(for f in /proc/[0-9]*/fd/*; do [ "$(readlink "$f")" = "$lk" ] && echo "$f"; done 2>/dev/null)"; fi

expect "h3 leaves" on h3 "$VTB" cluster leave
if eventually 10 sh -c "! '$SIM' status | grep -q '^h3 .*agent pid'"; then ok "h3's agent ends once h3 left"
else not_ok "h3's agent ends once h3 left" "$("$SIM" status)"; fi
out=$(on h1 "$VTB" cluster status)
if ! printf '%s\n' "$out" | grep -q "^  h3 " && printf '%s\n' "$out" | grep -q "2 hosts, 2 alive"; then
	ok "status no longer lists h3"
else not_ok "status no longer lists h3" "$out"; fi
expect_fail "h3 is in no cluster now" 1 "in no cluster" on h3 "$VTB" cluster status
log=$(cat $S/h1/lib/agent.log 2>/dev/null)
if printf '%s\n' "$log" | grep -q "agent of host 'h1' (underlay 10.99.0.1) up at $ETCD"; then
	ok "the agent keeps a log in the host's state directory"
else not_ok "the agent keeps a log" "$log"; fi

sim_finish
