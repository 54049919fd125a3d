#!/bin/sh
# System tests of issue 12 finding 7, concurrency: twenty `vtb down` at
# once all succeed and leave nothing (the link dump their teardowns share
# is interrupted by the others' deletions and must be read again); a
# client that connects to a supervisor and sends nothing delays no other
# client; a status document larger than any one socket message arrives
# whole, with the emulated links' counters. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"
before=$(vtb_objects)
# experiments at once, and rounds of them
NEXP=${NEXP:-20}
ROUNDS=${ROUNDS:-3}
# nodes of the large status, on LANs of at most LAN_MAX (a bridge takes
# 1024 ports); with 60-character names its document is about 0.5 MB,
# more than twice what one SOCK_SEQPACKET message can carry
NBIG=${NBIG:-1000}
LAN_MAX=200
# how much a silent client may delay `vtb status` (the issue's bound)
DELAY_MAX_MS=200

exp_id() { "$VTB" status "$1" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
ms_now() { date +%s%3N; }

# 1. twenty `vtb down` at once, of LANs of three (teardown by group dump)
cat >"$m/lan3.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
topo.connect([a, b, c])
M
round=1
while [ $round -le "$ROUNDS" ]; do
	i=1; upfail=0
	while [ $i -le "$NEXP" ]; do
		"$VTB" up "$m/lan3.vtb" --name "c$i" >/dev/null 2>"$m/up.err" || { upfail=1; cat "$m/up.err"; }
		on_exit "$VTB down c$i >/dev/null 2>&1"
		i=$((i + 1))
	done
	expect "round $round: $NEXP LANs of three up" test $upfail = 0
	i=1
	while [ $i -le "$NEXP" ]; do
		( "$VTB" down "c$i" >"$m/down$i.out" 2>&1; echo $? >"$m/down$i.rc" ) &
		i=$((i + 1))
	done
	wait
	bad=""
	i=1
	while [ $i -le "$NEXP" ]; do
		[ "$(cat "$m/down$i.rc")" = 0 ] || bad="$bad
c$i: exit $(cat "$m/down$i.rc"): $(cat "$m/down$i.out")"
		i=$((i + 1))
	done
	if [ -z "$bad" ]; then ok "round $round: $NEXP vtb down at once all succeed"; else not_ok "round $round: $NEXP vtb down at once all succeed" "$bad"; fi
	left=$("$VTB" status | grep -c '^ *c[0-9]' || true)
	expect "round $round: no experiment left ($left listed)" test "$left" = 0
	after=$(vtb_objects)
	if [ "$after" = "$before" ]; then ok "round $round: no namespace or link left"; else
		not_ok "round $round: no namespace or link left" "$(printf '%s\n' "$after" | grep -vxF -- "$before" | head)"; fi
	round=$((round + 1))
done

# 2. a client that connects and sends nothing delays no other client
cat >"$m/emu.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], latency == ms(1))
M
expect "up an emulated link" "$VTB" up "$m/emu.vtb" --name quiet
on_exit "$VTB down quiet >/dev/null 2>&1"
sock="$VTB_STATE_DIR/$(exp_id quiet).sock"
t0=$(ms_now); "$VTB" status quiet >/dev/null; t1=$(ms_now)
base=$((t1 - t0))
# the silent client: connected, says nothing for 3 s
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
print("connected", flush=True)
time.sleep(3)' "$sock" >"$m/silent.out" 2>&1 &
silent=$!
on_exit "kill $silent 2>/dev/null"
python3 -c 'import os, sys, time
t = time.time() + 5
while time.time() < t and "connected" not in open(sys.argv[1]).read(): time.sleep(0.01)' "$m/silent.out"
t0=$(ms_now); out=$("$VTB" status quiet --json 2>&1); t1=$(ms_now)
took=$((t1 - t0))
if [ $took -le $((base + DELAY_MAX_MS)) ] && printf '%s' "$out" | grep -q '"counters"'; then
	ok "status with a silent client connected: $took ms (alone: $base ms), from the supervisor"
else
	not_ok "status with a silent client connected" "took $took ms (alone $base ms); output: $(printf '%s' "$out" | head -c 300)"
fi
wait_gone $silent 10
expect "the supervisor still answers after the silent client" sh -c "'$VTB' status quiet --json | grep -q '\"counters\"'"
expect "the supervisor logged the silent client" grep -q "sent no request" "$VTB_STATE_DIR/$(exp_id quiet).sup.log"
expect "down quiet" "$VTB" down quiet

# 3. a status of NBIG nodes with long names: larger than one message
long=n_a_node_with_a_long_name_to_make_the_status_big_xxxxxxxx
python3 - "$NBIG" "$LAN_MAX" "$long" >"$m/big.vtb" <<'P'
import sys
n, lan, long = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print("a = topo.device('a')")
print("b = topo.device('b')")
print("topo.connect([a, b], latency == ms(1))")
for k in range(0, n, lan):
    names = ", ".join("topo.device('%s%d')" % (long, i) for i in range(k, min(n, k + lan)))
    print("topo.connect([a, %s])" % names)
P
expect "up $NBIG nodes with long names" "$VTB" up "$m/big.vtb" --name big
on_exit "$VTB down big >/dev/null 2>&1"
"$VTB" status big --json >"$m/big.json" 2>"$m/big.err"
size=$(wc -c <"$m/big.json")
if python3 - "$m/big.json" "$NBIG" <<'P'
import json, sys
st = json.load(open(sys.argv[1]))
emu = [l for l in st["links"] if l.get("emulated")]
assert len(st["nodes"]) == int(sys.argv[2]) + 2, len(st["nodes"])
assert emu and all("counters" in d for d in emu[0]["directions"]), "no counters"
P
then ok "status --json of $NBIG nodes ($size bytes) is the supervisor's, with counters"
else not_ok "status --json of $NBIG nodes is the supervisor's, with counters" "$size bytes; $(cat "$m/big.err")"; fi
expect "down big" "$VTB" down big
after=$(vtb_objects)
expect "nothing left at the end" test "$after" = "$before"
finish
