#!/bin/sh
# System tests of vtb run: tasks as barriers on real container nodes, with
# real commands (sh, date, ping, sleep). Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# How far apart ten commands of one task may start. The executor's own
# record (each child notes go, at real-time priority) is within a
# millisecond: RECORDED_MAX_MS leaves room for a loaded machine. What `date`
# in the command sees adds an exec of sh and one of date per command, twenty
# execs on two cores, each 1.4-1.7 ms on this host (docs/benchmarks.md,
# issue 11) and slower under ASan: 20-47 ms seen.
RECORDED_MAX_MS=10
SKEW_MAX_MS=100
# A task with timeout=s(1) must be over within this: the timeout, the
# second between SIGTERM and SIGKILL, and the bring-down of its commands.
TIMEOUT_DONE_S=4
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
w=$(mktemp -d /tmp/vtbrun.XXXXXX)   # what the commands write
on_exit "rm -rf $w"

# ten nodes on one LAN
{
	echo "n = []"
	echo "for i in range(10):"
	echo "    n.append(topo.device('n' + str(i)))"
	echo "topo.connect(n)"
} >"$m/ten.vtb"

# model NAME TASKS...: ten.vtb plus the given task lines
model() {
	f="$m/$1.vtb"; shift
	cp "$m/ten.vtb" "$f"
	for t in "$@"; do printf '%s\n' "$t" >>"$f"; done
	echo "$f"
}

# up NAME MODEL: bring it up and register its removal
up() {
	expect "up $1" "$VTB" up "$2" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}

# start skew: ten commands of one task note when they started (on
# standard output: a node cannot write the host's files, docs/nodes.md)
f=$(model skew "task('t', [run(n[i], 'date +%s%N') for i in range(10)])")
# the language may not have comprehensions: fall back to a loop
if ! "$VTB" compile "$f" >/dev/null 2>&1; then
	f=$(model skew "cmds = []" "for i in range(10):" \
		"    cmds.append(run(n[i], 'date +%s%N'))" "task('t', cmds)")
fi
up skew "$f"
expect "a task of ten commands runs" sh -c "'$VTB' run skew --json >'$w/skew.json'"
# field NAME [TASK]: the values of one JSON field of the results (of TASK)
field() { grep -F "\"task\":\"${2:-}" "$w/run.json" | sed -n "s/.*\"$1\":\"*\([0-9]*\).*/\1/p"; }
cp "$w/skew.json" "$w/run.json"
spread=$(field stdout | sort -n | awk 'NR==1{min=$1} {max=$1} END{printf "%d", (max-min)/1000000}')
n=$(field stdout | grep -c .)
if [ "$n" = 10 ] && [ "$spread" -lt "$SKEW_MAX_MS" ]; then ok "ten commands start together (spread $spread ms)"
else not_ok "ten commands start together" "outputs $n, spread $spread ms"; fi
# the recorded start times agree
rs=$(field start_ns | sort -n | awk 'NR==1{min=$1} {max=$1} END{printf "%d", (max-min)/1000000}')
if [ "$rs" -lt "$RECORDED_MAX_MS" ]; then ok "recorded start times within $rs ms"
else not_ok "recorded start skew" "$rs ms (at most $RECORDED_MAX_MS)"; fi
"$VTB" down skew >/dev/null

# ordering: task 2 on every node starts after every command of task 1 ended
f=$(model order "cmds = []" "checks = []" "for i in range(10):" \
	"    cmds.append(run(n[i], 'sleep 0.' + str(i) + '; date +%s%N'))" \
	"    checks.append(run(n[i], 'date +%s%N'))" \
	"task('write', cmds)" "task('check', checks)")
up order "$f"
expect "a task of two runs" sh -c "'$VTB' run order --json >'$w/run.json'"
last=$(field stdout write | sort -n | tail -1)
first=$(field stdout check | sort -n | head -1)
if [ -n "$last" ] && [ -n "$first" ] && [ "$first" -gt "$last" ]; then ok "a later task starts after every command of the earlier one"
else not_ok "a later task starts after every command of the earlier one" "last of write '$last', first of check '$first'"; fi

# timeout; expect; failure stops the run and names the task, node, command
f=$(model fail "task('slow', run(n[0], 'sleep 10'), run(n[1], 'true'), timeout=s(1))" \
	"task('after', run(n[2], 'true'))")
up fail "$f"
t0=$(date +%s)
"$VTB" run fail >"$w/fail.out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "task 'slow' failed: node 'n0' command 'sleep 10' did not end within" "$w/fail.out"
then ok "a command over the timeout fails its task"
else not_ok "a command over the timeout fails its task" "exit $rc: $(cat "$w/fail.out")"; fi
el=$(( $(date +%s) - t0 ))
if [ "$el" -le "$TIMEOUT_DONE_S" ]; then ok "the timeout stops it in time (${el} s)"; else not_ok "timeout stops it in time" "${el} s"; fi
if ! grep -q "task 'after' started" "$w/fail.out"; then ok "a failure stops the run: the later task did not run"
else not_ok "a failure stops the run"; fi
expect_fail "the failed run says what did not run" 1 "1 failed, 1 not run" "$VTB" run fail
expect_fail "--json gives the status timeout" 1 '"status":"timeout"' "$VTB" run fail --json
expect_fail "--keep-going runs the later task" 1 "task 'after' ended in .*: ok" "$VTB" run fail --keep-going
"$VTB" down fail >/dev/null

f=$(model exp "task('ping', run(n[0], 'ping -c 1 -W 2 10.0.0.2', expect='1 received'), timeout=s(10))" \
	"task('nomatch', run(n[1], 'echo hello; echo line2 >&2', expect='^goodbye'), timeout=s(10))")
up exp "$f"
expect_fail "expect not met fails the task" 1 \
	"task 'nomatch' failed: node 'n1' command 'echo hello; echo line2 >&2' exited 0 but its output does not match" \
	"$VTB" run exp
expect_fail "the failure shows the tail of the output" 1 "hello" "$VTB" run exp
expect_fail "--json: ping ok, expect status" 1 '"task":"ping".*"status":"ok"' "$VTB" run exp --json
expect_fail "--json: status expect" 1 '"status":"expect"' "$VTB" run exp --json
"$VTB" down exp >/dev/null

# background commands stay up for later tasks (seen from their own node: a
# node sees its own processes only) and are stopped at the end
marker="sleep 1000.$$"   # GNU sleep takes fractions: a unique command line
f=$(model bg "task('start', run(n[0], '$marker', background=true))" \
	"task('see', run(n[0], 'pgrep -f \"^$marker\"'))")
up bg "$f"
expect "a background command runs during later tasks" "$VTB" run bg
if ! pgrep -f "^$marker" >/dev/null; then ok "the background command is gone after the run"
else not_ok "the background command is gone after the run" "$(pgrep -af "^$marker")"; kill $(pgrep -f "^$marker"); fi
expect_fail "--json reports the stopped background command" 0 '"background":true.*"status":"ok"' \
	"$VTB" run bg --json

# repeat, and --show (runs 1 and 2 above, 3 to 5 now)
expect_fail "--repeat 3" 0 "3 runs of experiment 'bg': 3 passed, 0 failed" "$VTB" run bg --repeat 3
expect_fail "--show lists every run" 0 "^5 .* ok" "$VTB" run bg --show
runs=$("$VTB" run bg --show | grep -c ' ok ')
if [ "$runs" = 5 ]; then ok "--show: 5 runs kept"; else not_ok "--show: 5 runs kept" "$runs"; fi
expect_fail "--show --json gives the results" 0 '"run":5,"seq":1' "$VTB" run bg --show --json
"$VTB" down bg >/dev/null

# vtb run sleeps while its commands run: it once kept the status pipe at its
# end in its poll set and spun a whole core for the task's length
f=$(model nap "task('nap', run(n[0], 'sleep 2'))")
up nap "$f"
"$VTB" run nap >/dev/null &
runpid=$!
sleep 1.5
ticks=$(awk '{ print $14 + $15 }' "/proc/$runpid/stat" 2>/dev/null || echo gone)
wait $runpid
hz=$(getconf CLK_TCK)
# 1.5 s of a spinning loop is ~1.5 * hz ticks; sleeping costs a few
if [ "$ticks" != gone ] && [ "$ticks" -le $((hz / 5)) ]; then
	ok "vtb run sleeps while a task of 'sleep 2' runs ($ticks ticks of CPU in 1.5 s)"
else
	not_ok "vtb run sleeps while a task of 'sleep 2' runs" "$ticks ticks of CPU in 1.5 s (hz $hz)"
fi
"$VTB" down nap >/dev/null

# a command sees which experiment and node it runs in (a value vtb run had
# itself is replaced)
f=$(model envs "task('env', run(n[3], 'echo exp=\$VTB_EXPERIMENT node=\$VTB_NODE'))")
up envs "$f"
expect_fail "commands see VTB_EXPERIMENT and VTB_NODE" 0 "exp=envs node=n3" \
	env VTB_NODE=bogus "$VTB" run envs --json
"$VTB" down envs >/dev/null

# errors a user meets
f=$(model none)
up none "$f"
expect_fail "an experiment without tasks" 1 "has no tasks: add task" "$VTB" run none
expect_fail "an unknown experiment" 1 "no experiment named 'nope'" "$VTB" run nope
expect_fail "a bad --repeat" 1 "--repeat wants" "$VTB" run none --repeat 0
"$VTB" down none >/dev/null
finish
