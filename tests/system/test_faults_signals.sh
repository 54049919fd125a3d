#!/bin/sh
# Signals and kills in the middle of vtb up and vtb down (issue 12, findings
# 4 and 5). SIGINT, SIGTERM and SIGHUP while vtb up builds: it says so,
# removes what it made by itself and exits non-zero, leaving nothing (no vtb
# clean). kill -9 of vtb up once its supervisor runs, and of vtb down once it
# has begun: vtb clean takes the experiment over, supervisor included, and
# leaves nothing. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# an object that is not vtb's, with a name that looks like vtb's
ip netns add vtbsigmine$$
on_exit "ip netns del vtbsigmine$$ 2>/dev/null"
before=$(vtb_objects)

# The vtb processes of this state directory (vtb up or down, supervisors,
# which run as /proc/self/exe): the binary under test, with an environment
# naming the directory.
bin=$(readlink -f "$VTB")
our_procs() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$bin" ] || continue
		tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "VTB_STATE_DIR=$VTB_STATE_DIR" &&
			echo "${p#/proc/}"
	done
}

# nothing_left WHAT: no vtb object but ours from before, no vtb process of
# this state directory, and no experiment in vtb status.
nothing_left() {
	after=$(vtb_objects)
	if [ "$before" = "$after" ]; then
		ok "$1: no namespace or link left"
	else
		not_ok "$1: no namespace or link left" "$(printf '%s\n' "$after" | grep -vxF -- "$before" | head -5)"
	fi
	procs=$(our_procs)
	if [ -z "$procs" ]; then ok "$1: no vtb process left"; else not_ok "$1: no vtb process left" "$procs"; fi
	exps=$("$VTB" status | tail -n +2)
	if [ -z "$exps" ]; then ok "$1: no experiment left"; else not_ok "$1: no experiment left" "$exps"; fi
}

# wait_file GLOB SECONDS: wait until a file matches GLOB (a supervisor's
# socket appears once; a short poll is the only way a shell sees it).
wait_file() {
	i=0
	while [ $i -lt $(($2 * 200)) ]; do
		for f in $1; do [ -e "$f" ] && return 0; done
		sleep 0.005
		i=$((i + 1))
	done
	return 1
}

# wait_caught PID SIGNUM: wait until process PID catches signal SIGNUM
# (SigCgt in /proc/PID/status): from then on vtb up answers a signal; before
# (exec, the sanitizer's start) the kernel's default action ends it.
wait_caught() {
	i=0
	while [ $i -lt 2000 ]; do
		cgt=$(awk '/^SigCgt:/ {print $2}' /proc/$1/status 2>/dev/null)
		[ -z "$cgt" ] && return 1
		[ $(((0x$cgt >> ($2 - 1)) & 1)) = 1 ] && return 0
		sleep 0.005
		i=$((i + 1))
	done
	return 1
}

cat >"$m/big.vtb" <<'M'
n = []
for i in range(300):
    n.append(topo.device('n' + str(i)))
for i in range(299):
    topo.connect([n[i], n[i + 1]])
for i in range(0, 280, 20):
    topo.connect([n[i], n[i + 5], n[i + 10], n[i + 15]])
M
# 300 nodes on emulated links: the supervisor opens 598 ports after the
# network is built, so vtb up waits on it a while
cat >"$m/emu.vtb" <<'M'
n = []
for i in range(300):
    n.append(topo.device('n' + str(i)))
for i in range(299):
    topo.connect([n[i], n[i + 1]], latency == ms(1))
M

# 1. SIGINT, SIGTERM, SIGHUP at several points of vtb up: a message, a
# rollback by vtb up itself, nothing left without vtb clean (each delay
# counted from when vtb up catches signals). The points are shares of how
# long this vtb up takes here (10%, 30% and 60%, measured first): bring-up
# got fast enough (issue 11) that fixed delays of up to 0.6 s could land
# after a build of big.vtb had already returned.
"$VTB" up "$m/big.vtb" --name sig >"$m/out" 2>"$m/err" &
pid=$!
wait_caught $pid 2
t0=$(date +%s.%N)
if wait $pid; then ok "the timing run: vtb up of big.vtb"; else not_ok "the timing run: vtb up of big.vtb" "$(tail -5 "$m/err")"; fi
full=$(echo "$(date +%s.%N) $t0" | awk '{ print $1 - $2 }')
"$VTB" down sig >/dev/null 2>&1
nothing_left "the timing run (vtb up in $full s)"
delays=$(echo "$full" | awk '{ printf "%.3f %.3f %.3f", $1 * 0.1, $1 * 0.3, $1 * 0.6 }')
midway=0
for sig in INT:2 TERM:15 HUP:1; do
	num=${sig#*:}
	sig=${sig%:*}
	for delay in $delays; do
		"$VTB" up "$m/big.vtb" --name sig >"$m/out" 2>"$m/err" &
		pid=$!
		wait_caught $pid $num
		sleep $delay
		kill -$sig $pid 2>/dev/null
		wait $pid
		rc=$?
		what="SIG$sig at $delay s"
		if [ $rc -ne 0 ] && grep -q "interrupted (" "$m/err"; then
			ok "$what: exit $rc with a message"
		else
			not_ok "$what: exit $rc with a message" "$(cat "$m/out" "$m/err" | tail -5)"
		fi
		# landed while building: it had built some and removed them
		grep -q "removing what was created" "$m/err" &&
			grep -Eq "removed: [1-9][0-9]* namespace" "$m/err" && midway=$((midway + 1))
		nothing_left "$what"
		"$VTB" status sig >/dev/null 2>&1 && "$VTB" down sig >/dev/null 2>&1
	done
done
# most signals must really have hit vtb up while it was building
if [ "$midway" -ge 5 ]; then
	ok "$midway of 9 signals landed mid-build and were rolled back"
else
	not_ok "signals landed mid-build only $midway of 9 times"
fi

# 2. a second SIGINT during the rollback does not cut it short
"$VTB" up "$m/big.vtb" --name sig2 >"$m/out" 2>"$m/err" &
pid=$!
wait_caught $pid 2
sleep "$(echo "$full" | awk '{ printf "%.3f", $1 * 0.5 }')"
kill -INT $pid 2>/dev/null
sleep 0.05
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -ne 0 ] && grep -q "interrupted (" "$m/err"; then
	ok "two SIGINTs: exit $rc with a message"
else
	not_ok "two SIGINTs: exit $rc with a message" "$(tail -5 "$m/err")"
fi
nothing_left "two SIGINTs"

# 3. kill -9 of vtb up once its supervisor runs (before it is up): the
# experiment stays creating, its supervisor running; vtb clean takes it over
"$VTB" up "$m/emu.vtb" --name half >/dev/null 2>&1 &
pid=$!
# the supervisor exits by design when vtb up dies before journaling it:
# kill once it has been journaled (its log says it serves)
served() {
	_i=0
	while [ $_i -lt 600 ]; do
		grep -qs "journaled: serving" "$VTB_STATE_DIR"/*.sup.log && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}
if wait_file "$VTB_STATE_DIR/*.sock" 60 && served; then
	kill -9 $pid
	wait $pid 2>/dev/null
	st=$("$VTB" status | awk '$1 == "half" {print $3}')
	if [ "$st" = creating ] && [ -n "$(our_procs)" ]; then
		ok "kill -9 after the supervisor started: creating, supervisor running"
	else
		not_ok "kill -9 after the supervisor started: creating, supervisor running" \
			"state '$st', processes '$(our_procs)'"
	fi
else
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	not_ok "the supervisor's socket appeared"
fi
expect_fail "clean takes over a creating experiment whose vtb up is gone" 0 \
	"removed the remains of 'half'" "$VTB" clean
nothing_left "kill -9 of up, then clean"

# 4. kill -9 of vtb down at its first connect (asking the supervisor to
# stop): the experiment stays removing, its supervisor running
expect "up for down at first connect" "$VTB" up "$m/emu.vtb" --name gone
strace -f -o /dev/null -e trace=connect -e inject=connect:signal=KILL:when=1 \
	"$VTB" down gone >/dev/null 2>&1
st=$("$VTB" status | awk '$1 == "gone" {print $3}')
if [ "$st" = removing ] && [ -n "$(our_procs)" ]; then
	ok "down killed at its first connect: removing, supervisor running"
else
	not_ok "down killed at its first connect: removing, supervisor running" \
		"state '$st', processes '$(our_procs)'"
fi
expect_fail "clean finishes a removal whose vtb down is gone" 0 \
	"removed the remains of 'gone'" "$VTB" clean
nothing_left "kill -9 of down at connect, then clean"

# 5. kill -9 of vtb down a while into the teardown of 300 nodes
expect "up for down killed mid-way" "$VTB" up "$m/big.vtb" --name mid
# killed at its 100th unmount, among the 600 of the nodes' namespaces (a
# timer is too slow: the whole teardown takes a fraction of a second)
strace -f -o /dev/null -e trace=umount2 -e inject=umount2:signal=KILL:when=100 \
	"$VTB" down mid >/dev/null 2>&1
st=$("$VTB" status | awk '$1 == "mid" {print $3}')
if [ "$st" = removing ]; then
	ok "down killed mid-way: removing"
else
	not_ok "down killed mid-way: removing" "state '$st' (down ended before the kill?)"
fi
expect_fail "clean finishes a removal killed mid-way" 0 "removed the remains of 'mid'" "$VTB" clean
nothing_left "kill -9 of down mid-way, then clean"

# 6. a signal to vtb down does not leave it half done: it finishes, and says so
expect "up for down with SIGINT" "$VTB" up "$m/big.vtb" --name dint
"$VTB" down dint >"$m/out" 2>"$m/err" &
pid=$!
sleep 0.2
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 0 ] && grep -q "removed experiment 'dint'" "$m/out"; then
	ok "SIGINT to down: the removal finished"
else
	not_ok "SIGINT to down: the removal finished" "exit $rc: $(cat "$m/out" "$m/err" | tail -3)"
fi
nothing_left "SIGINT to down"

expect "our own namespace survived" ip netns exec vtbsigmine$$ true
finish
