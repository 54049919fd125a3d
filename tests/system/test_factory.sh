#!/bin/sh
# System tests of the node factory (docs/nodes.md, "Lifetime"): vtb up
# spawns one vtb-init -F that starts each node's helper, which becomes the
# node's init. The factory never outlives vtb up, whether vtb up ends or is
# killed; a helper vtb up never answered ends its node by itself; an init
# holds no descriptor but its standard ones and the log; the inits share one
# address space. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# How long the factory may outlive vtb up: it reads EOF on its socket as
# soon as the kernel has closed vtb up's descriptors.
FACTORY_GONE_S=5
# How long a helper that vtb up never answered may take to end its node:
# it finishes making the node, then reads EOF on its ack pipe.
HELPER_GONE_S=10
# How long vtb up of 150 nodes may take (a few seconds with the
# sanitizers; its factory hanging would hang it).
UP_TIMEOUT_S=120
# How long vtb up gets to start its factory.
FACTORY_START_S=30
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
before=$(vtb_objects)

# a ring of N container nodes named fx<N>n<i>
ring() {
	echo "n = []"
	echo "for i in range($1):"
	echo "    n.append(topo.device('fx$1n' + str(i)))"
	echo "topo.connect(n)"
}
ring 150 >"$m/ring150.vtb"
ring 300 >"$m/ring300.vtb"

# factory_of PID: the factory, the vtb-init child of vtb up PID (or of
# PID's child: vtb up under timeout), once it runs
factory_of() {
	_i=0
	while [ $_i -lt $((FACTORY_START_S * 20)) ]; do
		_f=$(for _c in "$1" $(pgrep -P "$1"); do pgrep -P "$_c" -x vtb-init; done | head -1)
		[ -n "$_f" ] && { echo "$_f"; return 0; }
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
# exp_id NAME: experiment NAME's id
exp_id() { "$VTB" status 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
# inits NAME: the pids of the running (not zombie) inits of experiment
# NAME's nodes (`vtb-init ID`: they share their factory's command line)
inits() {
	_id=$(exp_id "$1")
	[ -n "$_id" ] || return 0
	for _p in $(pgrep -f "^vtb-init $_id\$"); do
		[ "$_p" = "$fac" ] && continue
		ps -o stat= -p "$_p" 2>/dev/null | grep -qv '^Z' && echo "$_p"
	done
}

# 1. vtb up that ends: its factory is gone, each init holds fds 0-3 only
# (a factory that outlived its socket would hold vtb up in its wait)
timeout $UP_TIMEOUT_S "$VTB" up "$m/ring150.vtb" --name fx150 >/dev/null 2>"$m/up1.err" &
uppid=$!
fac=$(factory_of $uppid)
wait $uppid
rc=$?
on_exit "$VTB down fx150 >/dev/null 2>&1"
if [ $rc -eq 0 ] && [ -n "$fac" ]; then ok "vtb up of 150 nodes (factory $fac)"
else not_ok "vtb up of 150 nodes" "rc $rc, factory '$fac': $(cat "$m/up1.err")"; fi
if [ -n "$fac" ] && wait_gone "$fac" $FACTORY_GONE_S; then ok "the factory ends with vtb up"
else not_ok "the factory ends with vtb up" "$(ps -o pid,ppid,args -p "$fac")"; fi
n=$(inits fx150 | wc -l)
bad=""
for p in $(inits fx150); do
	fds=$(ls /proc/"$p"/fd 2>/dev/null | sort -n | tr '\n' ' ')
	[ "$fds" = "0 1 2 3 " ] || bad="$bad $p: $fds;"
done
if [ "$n" -eq 150 ] && [ -z "$bad" ]; then ok "150 inits, each with fds 0-3 only"
else not_ok "150 inits, each with fds 0-3 only" "$n inits;$bad"; fi
# the helpers are clones sharing the factory's address space, not forks
# (materialize/init/noderun_helper.c): one memory map for all 150 inits
maps=$(for p in $(inits fx150); do md5sum </proc/"$p"/maps; done | sort -u | wc -l)
if [ "$maps" -eq 1 ]; then ok "the 150 inits share one address space"
else not_ok "the 150 inits share one address space" "$maps different memory maps"; fi
p=$(inits fx150 | head -1)
if [ -n "$p" ] && [ "$(ps -o ppid= -p "$p" | tr -d ' ')" != "$fac" ] &&
	[ "$(awk '/^NSpid/ { print $3 }' /proc/"$p"/status)" = 1 ]; then
	ok "an init is pid 1 of its namespace, not the factory's child"
else not_ok "an init is pid 1 of its namespace, not the factory's child" \
	"$(grep -E '^(PPid|NSpid)' /proc/"$p"/status 2>/dev/null)"; fi
expect "down" "$VTB" down fx150

# 2. kill -9 of vtb up while nodes are being made: the factory ends, every
# init left is one vtb up bound (teardown finds it), the rest end by
# themselves; vtb clean then leaves nothing
"$VTB" up "$m/ring300.vtb" --name fx300 >/dev/null 2>&1 &
uppid=$!
on_exit "$VTB down fx300 >/dev/null 2>&1"
fac=$(factory_of $uppid)
# the helpers and inits are the factory's children while it runs
for i in $(seq 400); do [ "$(pgrep -c -P "$fac")" -ge 40 ] && break; sleep 0.02; done
kill -9 $uppid
wait $uppid 2>/dev/null
rc=$?
if [ $rc -eq 137 ]; then ok "vtb up killed while making nodes"
else not_ok "vtb up killed while making nodes" "it exited with $rc first"; fi
if [ -n "$fac" ] && wait_gone "$fac" $FACTORY_GONE_S; then ok "the factory ends with a killed vtb up"
else not_ok "the factory ends with a killed vtb up" "factory '$fac': $(ps -o pid,ppid,args -p "$fac")"; fi
# unbound: an init whose namespace vtb up never bound (its helper's ack
# never came), which no teardown would find
unbound() {
	_bound=$(stat -L -c %i /run/netns/vtb"$(exp_id fx300)"-* 2>/dev/null)
	for _p in $(inits fx300); do
		_ns=$(stat -L -c %i /proc/"$_p"/ns/net 2>/dev/null) || continue
		printf '%s\n' "$_bound" | grep -qx "$_ns" || echo "$_p"
	done
	return 0
}
left=""
for i in $(seq $((HELPER_GONE_S * 10))); do
	left=$(unbound)
	[ -z "$left" ] && break
	sleep 0.1
done
n=$(inits fx300 | wc -l)
if [ -z "$left" ] && [ "$n" -gt 0 ]; then ok "after kill -9, each of the $n inits left is bound"
else not_ok "after kill -9, each init left is bound" "$n inits, unbound: $left"; fi
expect "clean after kill -9 of vtb up" "$VTB" clean
n=$(inits fx300 | wc -l)
if [ "$n" -eq 0 ] && [ "$(vtb_objects)" = "$before" ]; then ok "nothing left after vtb clean"
else not_ok "nothing left after vtb clean" "$n inits; $(vtb_objects)"; fi
finish
