#!/bin/bash
# System tests of scripts/simhosts.sh (issue 17): three simulated hosts,
# each with its own network, mount and UTS namespace, /run and
# /var/lib/vtb, on an underlay of MTU 1550 with etcd in a namespace of its
# own; agents started and killed; and down leaves nothing. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
SIM=scripts/simhosts.sh
S=/var/lib/vtb-sim

if [ -e "$S" ]; then
	not_ok "simulated hosts are not up already" "$S exists: 'scripts/simhosts.sh down' first"
	finish
	exit 1
fi
before=$(vtb_objects)
had_etc_vtb=$([ -d /etc/vtb ] && echo yes)
m=$(mktemp -d /tmp/vtbsim.XXXXXX)
on_exit "rm -rf $m"
on_exit "$SIM down >/dev/null 2>&1"

expect "up 3" "$SIM" up 3
expect_fail "up again says it is up" 1 "already up \(3 hosts\)" "$SIM" up 2
out=$("$SIM" status)
if printf '%s\n' "$out" | grep -q "^h3 .*10.99.0.3/24  up" && printf '%s\n' "$out" | grep -q "^etcd .* runs"; then
	ok "status lists the hosts and etcd"
else not_ok "status lists the hosts and etcd" "$out"; fi

# each host: its own hostname, /run, /var/lib/vtb and ip netns
for h in h1 h2 h3; do
	out=$("$SIM" exec $h -- hostname 2>&1)
	[ "$out" = $h ] && ok "$h's hostname is $h" || not_ok "$h's hostname is $h" "$out"
done
expect "h1 makes a namespace of its own" "$SIM" exec h1 -- ip netns add vtbsimtest
out=$("$SIM" exec h1 -- ip netns list 2>&1)
[ "$out" = vtbsimtest ] && ok "h1's ip netns lists it" || not_ok "h1's ip netns lists it" "$out"
out=$("$SIM" exec h2 -- ip netns list 2>&1)
[ -z "$out" ] && ok "h2's ip netns lists nothing" || not_ok "h2's ip netns lists nothing" "$out"
if ip netns list | grep -q vtbsimtest; then not_ok "the machine's ip netns does not list it"
else ok "the machine's ip netns does not list it"; fi
expect "h1 removes it" "$SIM" exec h1 -- ip netns del vtbsimtest
expect "h1 writes its /var/lib/vtb" "$SIM" exec h1 -- sh -c 'echo h1 > /var/lib/vtb/simtest'
if [ ! -e /var/lib/vtb/simtest ] && [ -f "$S/h1/lib/simtest" ] &&
	"$SIM" exec h2 -- test ! -e /var/lib/vtb/simtest; then
	ok "h1's /var/lib/vtb is its own"
else not_ok "h1's /var/lib/vtb is its own"; fi

# the underlay: every pair pings, a 1550-byte packet crosses, a larger one does not
for p in "h1 2" "h2 3" "h3 1"; do
	set -- $p
	expect "$1 pings 10.99.0.$2 over the underlay" "$SIM" exec "$1" -- ping -c 1 -W 2 "10.99.0.$2"
done
expect "a 1550-byte packet crosses (ping -M "do" -s 1522)" \
	"$SIM" exec h1 -- ping -c 1 -W 2 -M "do" -s 1522 10.99.0.3
expect_fail "a 1551-byte packet does not (the MTU is 1550)" 1 "mtu ?= ?1550" \
	"$SIM" exec h1 -- ping -c 1 -W 2 -M "do" -s 1523 10.99.0.3
expect "the machine has no route to the underlay" sh -c '! ip route get 10.99.0.1 2>/dev/null | grep -q "dev vtbsim"'

# etcd from each host, with the client's own address in VTB_ETCD
for h in h1 h2 h3; do
	out=$("$SIM" exec $h -- sh -c 'curl -sS -m 5 -d "{}" "$VTB_ETCD/v3/maintenance/status"' 2>&1)
	if printf '%s' "$out" | grep -q '"version":"3\.'; then ok "etcd answers $h"
	else not_ok "etcd answers $h" "$out"; fi
done

# agents: start-agent runs "$VTB agent --foreground" on the host
cat >"$m/vtb" <<'EOF'
#!/bin/sh
[ "$1 $2" = "agent --foreground" ] || exit 2
echo "agent on $(hostname) etcd $VTB_ETCD"
exec sleep infinity
EOF
chmod +x "$m/vtb"
expect "start-agent h2" env VTB="$m/vtb" "$SIM" start-agent h2
if timeout 10 tail -n +1 -f "$S/h2/agent.log" | grep -q -m1 "agent on h2 etcd http://10.99.0.254:2379"; then
	ok "the agent runs on h2 with VTB_ETCD"
else not_ok "the agent runs on h2 with VTB_ETCD" "$(cat "$S/h2/agent.log")"; fi
expect_fail "start-agent h2 again says it runs" 1 "runs already" env VTB="$m/vtb" "$SIM" start-agent h2
read -r apid _ <"$S/h2/agent.pid"
expect "status shows h2's agent" sh -c "'$SIM' status | grep -q '^h2 .*agent pid $apid'"
expect "kill-agent h2" "$SIM" kill-agent h2
# gone: no such process, or a zombie not yet reaped by whoever adopted it
running() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
if running "$apid"; then not_ok "h2's agent is gone"; else ok "h2's agent is gone"; fi
expect_fail "kill-agent h2 again says none runs" 1 "no agent runs on h2" "$SIM" kill-agent h2
expect "start-agent h2 once more" env VTB="$m/vtb" "$SIM" start-agent h2
read -r apid _ <"$S/h2/agent.pid"
expect_fail "exec on a host that is not there" 1 "not up" "$SIM" exec h9 -- true
# something left running on a host: down ends it too
"$SIM" exec h3 -- sleep 1000 </dev/null >/dev/null 2>&1 &
lpid=$!
disown "$lpid"

# down: nothing is left, and down again is fine
expect "down" "$SIM" down
left=$({ ip netns list | grep vtbsim
	ip -o link show | grep vtbsim
	ps -eo pid=,args= | grep -E "vtbsim|vtb-sim" | grep -v grep
	running "$apid" && echo "agent $apid"
	running "$lpid" && echo "sleep $lpid"
	[ -e "$S" ] && echo "$S"
	[ -z "$had_etc_vtb" ] && [ -e /etc/vtb ] && echo /etc/vtb; } 2>&1)
[ -z "$left" ] && ok "down leaves no namespace, link, process or directory" ||
	not_ok "down leaves no namespace, link, process or directory" "$left"
expect "down again" "$SIM" down
after=$(vtb_objects)
[ "$before" = "$after" ] && ok "no vtb object left" || not_ok "no vtb object left" "$(diff <(echo "$before") <(echo "$after"))"
finish
