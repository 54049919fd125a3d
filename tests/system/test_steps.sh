#!/bin/sh
# Task steps and files, as one model file each experiment: a bird2 OSPF ring
# whose configuration is file()s, daemons started by a task, a wait_until
# for convergence, a link cut by link_down at +2 s inside a task that pings
# across it (the failover measured from the step's recorded time and ping's
# timestamps), restored by link_up, run twice with --repeat 2 (both runs
# alike); and smaller cases: link_set at an offset changes a ping's RTT
# mid-run, node_stop/node_start, a wait_until that times out fails with its
# message, a file with placeholders read back with vtb exec. Needs root,
# bird2 and jq.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbsteps.XXXXXX)
on_exit "rm -rf $m"

up() {
	expect "up $1" "$VTB" up "$2" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}

# ---- small cases: link_set, node_stop/start, wait_until, file ----
cat >"$m/small.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
l = topo.connect([a, b], latency == ms(5))
topo.connect([b, c], name='bc')
file(c, '/tmp/conf/c.txt', 'I am {{node}} at {{ip.eth0}} ({{cidr.eth0}}); {x} {{ node }}\n')
task('files', run(c, 'cat /tmp/conf/c.txt'))
task('rtt', run(a, 'ping -n -i 0.2 -c 20 10.0.0.2'), link_set(l, latency == ms(50), at=s(2)))
task('crash', run(a, 'ping -n -i 0.2 -c 25 -W 1 10.0.1.2'), node_stop(c, at=s(1)),
     node_start('c', at=s(3)), timeout=s(20))
task('wait', wait_until(a, 'ping -c 1 -W 1 10.0.1.2', timeout=s(10), every=ms(100)))
task('wfail', wait_until(a, 'echo not yet; false', timeout=s(1), every=ms(200)))
M
up small "$m/small.vtb"
"$VTB" run small --json >"$m/small.json" 2>"$m/small.err"
rc=$?
if [ "$rc" = 1 ]; then ok "small: vtb run fails (exit 1) because of wfail"
else not_ok "small: vtb run exit status $rc (want 1)" "$(cat "$m/small.err")"; fi
# field TASK CMD-PREFIX KEY: a result's field
field() { jq -r --arg t "$1" --arg c "$2" --arg k "$3" \
	'select(.task == $t and (.command | startswith($c))) | .[$k]' "$m/small.json"; }

# the file: written before the tasks, placeholders replaced, node root's
if [ "$(field files cat stdout)" = "I am c at 10.0.1.2 (10.0.1.2/24); {x} {{ node }}" ]; then
	ok "file: written with {{node}}, {{ip.eth0}} and {{cidr.eth0}} replaced, other braces kept"
else not_ok "file: text" "$(field files cat stdout)"; fi
out=$("$VTB" exec small c -- stat -c '%u %a' /tmp/conf/c.txt 2>&1)
if [ "$out" = "0 644" ]; then ok "file: vtb exec reads it back, node root's, mode 644"
else not_ok "file: owner and mode" "$out"; fi
if [ "$(jq -r 'select(.task == "(files)") | .command' "$m/small.json")" = "file(c, '/tmp/conf/c.txt')" ]; then
	ok "file: recorded as a step of the task (files)"
else not_ok "file: recorded" "$(grep files "$m/small.json")"; fi

# link_set at +2 s: the first pings' RTT about 10 ms, the last ones' about 100
rtts=$(field rtt ping stdout | sed -n 's/.*time=\([0-9.]*\) ms/\1/p')
first=$(printf '%s\n' "$rtts" | sed -n 2p); last=$(printf '%s\n' "$rtts" | tail -n 1)
if awk -v f="$first" -v l="$last" 'BEGIN { exit !(f < 30 && l > 90) }'; then
	ok "link_set at=s(2): RTT $first ms before, $last ms after"
else not_ok "link_set at=s(2) changes the RTT mid-run" "$rtts"; fi
at=$(field rtt link_set start_ns); t0=$(field rtt ping start_ns)
if awk -v a="$at" -v t="$t0" 'BEGIN { d = (a - t) / 1e9; exit !(d > 1.9 && d < 2.5) }'; then
	ok "link_set: recorded as done $(awk -v a="$at" -v t="$t0" 'BEGIN { printf "%.3f", (a - t) / 1e9 }') s after the task's start"
else not_ok "link_set: its recorded time" "step $at, task $t0"; fi

# node_stop at 1 s, node_start at 3 s: c's echoes are lost or held (its
# processes frozen) until it starts again, then answered as before
crash=$(field crash ping stdout)
longest=$(printf '%s' "$crash" | sed -n 's/.*time=\([0-9]*\).* ms/\1/p' | sort -n | tail -n 1)
if printf '%s' "$crash" | grep -Eq ' [1-9][0-9]* received' &&
	{ ! printf '%s' "$crash" | grep -q ' 0% packet loss' ||
	  [ "${longest:-0}" -gt 1000 ]; } &&
	[ "$(field crash node_stop stdout | sed 's/.*: //')" = "device 'c' stopped" ] &&
	[ "$(field crash node_start stdout | sed 's/.*: //')" = "device 'c' started" ]; then
	ok "node_stop/node_start: c stopped and started during the ping ($(printf '%s' "$crash" | grep -o '[0-9]*% packet loss'), longest RTT $longest ms)"
else not_ok "node_stop/node_start" "$crash
$(field crash node_ stdout)"; fi
if [ "$(field wait wait_until status)" = ok ]; then ok "wait_until: ok once c answers"
else not_ok "wait_until" "$(field wait wait_until stderr)"; fi

# the wait_until that times out: failed, with the command and its last output
msg=$(field wfail wait_until stderr)
if [ "$(field wfail wait_until status)" = failed ] &&
	printf '%s' "$msg" | grep -q "wait_until: 'echo not yet; false' did not succeed within 1.000 s" &&
	printf '%s' "$msg" | grep -q "^not yet$" &&
	grep -q "task 'wfail' failed: node 'a' step 'wait_until(a, 'echo not yet; false')' exited 1" "$m/small.err"; then
	ok "wait_until: fails at its timeout naming the command and its last output"
else not_ok "wait_until timeout" "$msg
$(cat "$m/small.err")"; fi

# --repeat: a link cut and a node stopped by hand are put back before each run
"$VTB" link down small bc >/dev/null
"$VTB" node stop small c >/dev/null
out=$("$VTB" run small --repeat 2 --keep-going 2>&1)
if printf '%s' "$out" | grep -q "before each: stopped nodes started, cut links restored" &&
	printf '%s' "$out" | grep -q "2 runs of experiment 'small': 0 passed, 2 failed; 2 nodes or links put back" &&
	! printf '%s' "$out" | grep -q "task 'crash' failed"; then
	ok "--repeat: says what it restores; the stopped node and the cut link are put back"
else not_ok "--repeat restores" "$out"; fi
expect "down small" "$VTB" down small

# ---- bird2 OSPF ring, one model: files, daemons, convergence, a cut ----
cat >"$m/ring.vtb" <<'M'
topo.spec(routing == false)
r = []
for i in range(4):
    r.append(topo.device('b' + str(i + 1)))
for i in range(4):
    l = topo.connect([r[i], r[(i + 1) % 4]], latency == ms(1), name='l' + str(i + 1))
    l[r[i]].spec(ip == '10.2.' + str(i) + '.1/24')
    l[r[(i + 1) % 4]].spec(ip == '10.2.' + str(i) + '.2/24')
conf = 'router id {{ip.eth0}};\n' + \
       'protocol device { }\n' + \
       'protocol direct { ipv4; interface "eth*"; }\n' + \
       'protocol kernel { ipv4 { export all; }; }\n' + \
       'protocol ospf v2 {\n' + \
       '  ipv4 { import all; export none; };\n' + \
       '  area 0 { interface "eth*" { type ptp; hello 1; dead 4; }; };\n' + \
       '}\n'
for d in r:
    file(d, '/tmp/bird.conf', conf)
daemons = []
for d in r:
    daemons.append(run(d, 'exec bird -f -c /tmp/bird.conf -s /tmp/bird.ctl', background=true))
task('daemons', daemons)
# b1 reaches b2's address on l2 (10.2.1.1) straight over l1 once converged
task('converge', wait_until(r[0], 'ip route get 10.2.1.1 | grep -q "via 10.2.0.2"', timeout=s(40)))
task('failover', run(r[0], 'ping -n -D -i 0.05 -W 1 -c 160 10.2.1.1'),
     link_down('l1', at=s(2)), timeout=s(20))
task('moved', wait_until(r[0], 'ip route get 10.2.1.1 | grep -q "via 10.2.3.1"', timeout=s(20)))
task('restore', link_up('l1'))
task('back', wait_until(r[0], 'ip route get 10.2.1.1 | grep -q "via 10.2.0.2"', timeout=s(60)))
M
up ring "$m/ring.vtb"
"$VTB" run ring --repeat 2 --json >"$m/ring.json" 2>"$m/ring.err"
rc=$?
if [ "$rc" = 0 ] && grep -q "2 runs of experiment 'ring': 2 passed, 0 failed" "$m/ring.err"; then
	ok "ring: two runs of the one-file OSPF experiment pass"
else not_ok "ring: vtb run --repeat 2 (exit $rc)" "$(cat "$m/ring.err")"; fi
# failover RUN: seconds from the recorded cut to ping's first echo after it
failover() {
	cut=$(jq -r --argjson r "$1" 'select(.run == $r and .task == "failover" and (.command | startswith("link_down"))) | .start_ns' "$m/ring.json")
	jq -r --argjson r "$1" 'select(.run == $r and .task == "failover" and (.command | startswith("ping"))) | .stdout' "$m/ring.json" |
		sed -n 's/^\[\([0-9.]*\)\] .*time=.*/\1/p' |
		awk -v cut="$cut" 'BEGIN { c = cut / 1e9 } $1 > c { printf "%.3f\n", $1 - c; found = 1; exit } END { if (!found) print "none" }'
}
f1=$(failover 1); f2=$(failover 2)
lost() { jq -r --argjson r "$1" 'select(.run == $r and .task == "failover" and (.command | startswith("ping"))) | .stdout' "$m/ring.json" | grep -o '[0-9.]*% packet loss'; }
cuts=$(jq -r 'select(.task == "failover" and (.command | startswith("link_down"))) | .stdout' "$m/ring.json" | grep -c "link 'l1' cut")
if [ "$cuts" = 2 ] && awk -v a="$f1" -v b="$f2" 'BEGIN { exit !(a + 0 > 0 && a < 10 && b + 0 > 0 && b < 10) }'; then
	ok "ring: failover after the cut at +2 s: run 1 $f1 s ($(lost 1)), run 2 $f2 s ($(lost 2))"
else not_ok "ring: failover measured from the recorded cut" "cuts: $cuts; run 1: $f1, run 2: $f2"; fi
# both runs alike: the same tasks with the same statuses
jq -r 'select(.run == 1) | [.task, .command, .status] | @tsv' "$m/ring.json" >"$m/r1"
jq -r 'select(.run == 2) | [.task, .command, .status] | @tsv' "$m/ring.json" >"$m/r2"
if cmp -s "$m/r1" "$m/r2" && [ "$(wc -l <"$m/r1")" -ge 10 ]; then
	ok "ring: both runs alike ($(wc -l <"$m/r1") steps and commands, same statuses)"
else not_ok "ring: both runs alike" "$(diff "$m/r1" "$m/r2")"; fi
if ! "$VTB" status ring | grep -q DOWN; then ok "ring: l1 is up after the runs"
else not_ok "ring: l1 after the runs" "$("$VTB" status ring)"; fi
expect "down ring" "$VTB" down ring
finish
