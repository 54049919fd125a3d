#!/bin/sh
# System tests of a node's processes under faults (issue 11): with daemons
# running in the nodes, kill -9 of the supervisor then vtb clean, and vtb down
# while vtb run is running, leave no process, namespace or mount of the
# experiment, and vtb run says what happened. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# How long a killed process may take to be gone, and vtb run to notice.
GONE_S=10

cat >"$m/two.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], latency == ms(1))
task('long', run(a, 'sleep 60'), run(b, 'sleep 60'), timeout=s(120))
M
id_of() { "$VTB" status "$1" | sed -n "s/.*(id \([0-9a-f]*\)).*/\1/p"; }
# inos_of ID: the network namespace inodes of experiment ID (nodes, substrate)
inos_of() {
	for ns in /run/netns/vtb"$1"*; do
		[ -e "$ns" ] && stat -L -c %i "$ns"
	done
}
# procs_with INOS: pids of the processes in one of those namespaces (which
# outlive their names when something still holds them)
procs_with() {
	for p in /proc/[0-9]*; do
		i=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
		case " $1 " in *" $i "*) echo "${p#/proc/}" ;; esac
	done
}
# daemons EXP: a daemon per node, detached as daemons are
daemons() {
	for n in a b; do
		"$VTB" exec "$1" "$n" -- sh -c 'setsid sleep 1000 </dev/null >/dev/null 2>&1 &' || return 1
	done
}

# ---- kill -9 of the supervisor, daemons running, then vtb clean ----
expect "up sup" "$VTB" up "$m/two.vtb" --name sup
on_exit "$VTB down sup >/dev/null 2>&1"
id=$(id_of sup)
expect "daemons start in both nodes" daemons sup
inos=$(inos_of "$id" | tr '\n' ' ')
before=$(procs_with "$inos" | wc -l)
sup=$("$VTB" status sup --json | perl -MJSON::PP -0777 -ne 'print decode_json($_)->{supervisor}{pid}')
if [ -n "$sup" ] && kill -9 "$sup" && wait_gone "$sup" "$GONE_S"; then
	ok "the supervisor is killed (-9)"
else
	not_ok "the supervisor is killed (-9)" "pid '$sup'"
fi
expect "vtb clean after the supervisor's death" "$VTB" clean
left=$(procs_with "$inos")
if [ "$before" -ge 4 ] && [ -z "$left" ] && ! ls /run/netns | grep -q "^vtb$id"; then
	ok "no process or namespace of the experiment is left ($before processes before)"
else
	not_ok "nothing of the experiment is left after vtb clean" \
		"before: $before, left: $left, netns: $(ls /run/netns | grep "^vtb$id")"
fi
if ! grep -q "vtb$id" /proc/self/mountinfo; then
	ok "no mount of the experiment is left"
else
	not_ok "no mount of the experiment is left" "$(grep "vtb$id" /proc/self/mountinfo)"
fi

# ---- vtb down while vtb run runs ----
expect "up run" "$VTB" up "$m/two.vtb" --name run
on_exit "$VTB down run >/dev/null 2>&1"
id=$(id_of run)
inos=$(inos_of "$id" | tr '\n' ' ')
"$VTB" run run >"$m/run.out" 2>&1 &
runpid=$!
# the run's commands are started once both sleeps are in the nodes
i=0
while [ "$(procs_with "$inos" | xargs -r ps -o comm= -p 2>/dev/null | grep -c '^sleep$')" -lt 2 ] &&
	[ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect "vtb down during vtb run" "$VTB" down run
if wait_gone "$runpid" "$GONE_S"; then
	wait "$runpid"
	rc=$?
	if [ "$rc" != 0 ] && grep -q "taken down during the run" "$m/run.out"; then
		ok "vtb run ends and says the experiment was taken down (exit $rc)"
	else
		not_ok "vtb run says the experiment was taken down" "exit $rc: $(cat "$m/run.out")"
	fi
else
	not_ok "vtb run ends when the experiment is taken down" "$(cat "$m/run.out")"
	kill -9 "$runpid" 2>/dev/null
fi
left=$(procs_with "$inos")
if [ -z "$left" ] && ! ls /run/netns | grep -q "^vtb$id"; then
	ok "nothing of the experiment is left after vtb down during vtb run"
else
	not_ok "nothing of the experiment is left after vtb down during vtb run" "$left"
fi
finish
