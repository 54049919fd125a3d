#!/bin/sh
# System tests of vtb run --sweep and --repeat and of vtb results: a 3x2
# sweep of an emulated link's latency and loss, 3 runs each, whose stored
# parameters and measured round trips are checked (18 runs, the RTT grows
# with the latency), its CSV and JSON, a plot, and --repeat restoring a
# link vtb link set changed. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

cat >"$m/sw.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
topo.connect([a, b], latency == ms(1))
task('ping', run(a, 'ping -n -c 5 -i 0.2 10.0.0.2', measure=['rtt', 'time=([0-9.]+) ms']),
     timeout=s(20))
M
expect "up sw" "$VTB" up "$m/sw.vtb" --name sw
on_exit "$VTB down sw >/dev/null 2>&1"

# 1. the words are checked against the model before any run
expect_fail "--sweep: an unknown link is named" 1 "no emulated link 'a-x'" \
	"$VTB" run sw --sweep 'a-x.latency=1ms'
expect_fail "--sweep: an unknown parameter is named" 1 "unknown property 'speed'" \
	"$VTB" run sw --sweep 'a-b.speed=1ms'
expect_fail "--sweep: a value out of range is named" 1 "loss=2: out of range" \
	"$VTB" run sw --sweep 'a-b.loss=0,2'
expect_fail "--sweep: bad syntax" 1 "is not LINK.PARAM=V1,V2" "$VTB" run sw --sweep 'a-b.latency'
expect "no run was made by a refused sweep" test "$("$VTB" run sw --show | grep -c '^[0-9]')" = 0

# 2. 3 latencies x 2 losses, 3 runs each
"$VTB" run sw --sweep 'a-b.latency=1ms,5ms,10ms' --sweep 'a-b.loss=0,0.5%' --repeat 3 \
	>"$m/run.out" 2>&1
expect "the sweep ran 18 runs" grep -q "^18 runs of experiment 'sw'" "$m/run.out"
expect "a progress line says the runs and time left" \
	grep -Eq '^run [0-9]+ \(17/18\): .* 1 left, about [0-9]+ s' "$m/run.out"
"$VTB" results sw --csv >"$m/res.csv"
expect "CSV header: the run, its command, the parameters, the measurement" \
	test "$(head -1 "$m/res.csv")" = "run,task,node,command,status,exit,a-b.latency,a-b.loss,rtt"
expect "CSV: 18 rows, one per run and command" test "$(tail -n +2 "$m/res.csv" | wc -l)" = 18
# each combination three times, in order: the last axis changes fastest
combos=$(tail -n +2 "$m/res.csv" | awk -F, '{ print $7 "/" $8 }' | uniq -c | awk '{ print $1 "x" $2 }' |
	tr '\n' ' ')
expect "CSV: every combination 3 times ($combos)" \
	test "$combos" = "3x1ms/0 3x1ms/0.5% 3x5ms/0 3x5ms/0.5% 3x10ms/0 3x10ms/0.5% "
expect "CSV: runs 1 to 18" test "$(tail -n +2 "$m/res.csv" | cut -d, -f1 | tr '\n' ' ')" = \
	"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
# the round trip is twice the latency (each direction gets it)
rtt() { awk -F, -v l="$1" '$7 == l && $9 != "" { s += $9; n++ } END { print (n ? s / n : -1) }' \
	"$m/res.csv"; }
r1=$(rtt 1ms) r5=$(rtt 5ms) r10=$(rtt 10ms)
expect "1 ms runs measure an RTT of 2 to 8 ms ($r1)" awk -v v="$r1" 'BEGIN { exit !(v >= 2 && v < 8) }'
expect "5 ms runs measure 10 to 16 ms ($r5)" awk -v v="$r5" 'BEGIN { exit !(v >= 10 && v < 16) }'
expect "10 ms runs measure more than 20 ms ($r10)" awk -v v="$r10" 'BEGIN { exit !(v >= 20 && v < 26) }'
expect "JSON: 18 lines with params and measures" test "$("$VTB" results sw --json |
	grep -c '"params":{"a-b.latency":"[0-9]*ms","a-b.loss":"[0-9.%]*"},"measures":{"rtt":[0-9.]*}')" = 18
expect "the table shows the runs" test "$("$VTB" results sw | grep -c '^[0-9]')" = 18

# 3. a plot: rtt against latency, a line per loss, error bars
expect "results --plot draws a file" "$VTB" results sw --plot a-b.latency rtt -o "$m/rtt.png"
expect "the plot is a PNG" sh -c "file '$m/rtt.png' | grep -q 'PNG image data'"
expect_fail "--plot: an unknown column is named" 1 "no parameter or measurement 'nope'" \
	"$VTB" results sw --plot nope rtt -o "$m/x.png"

# 4. --repeat starts every run from the model's link parameters: a link
# vtb link set changed is restored (each direction's latency 1 ms again)
lat() { "$VTB" status sw --json | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(str(x["params"]["latency_ns"]) for l in d["links"] for x in l.get("directions", [])))'; }
expect "link set a-b latency=50ms" "$VTB" link set sw a b latency=50ms
expect "the link has 50 ms each way" test "$(lat)" = "50000000 50000000"
expect "run --repeat 2" "$VTB" run sw --repeat 2
expect "--repeat restored the model's 1 ms each way ($(lat))" test "$(lat)" = "1000000 1000000"
last=$("$VTB" results sw --csv | tail -2 | awk -F, '{ print ($9 < 8) }' | tr -d '\n')
expect "both runs measured the model's RTT, not 100 ms" test "$last" = 11

expect "run --json gives each line the run's parameters" sh -c \
	"'$VTB' run sw --sweep 'a-b.latency=2ms' --json 2>/dev/null | grep -q '\"run\":21,\"params\":{\"a-b.latency\":\"2ms\"}'"

expect "down sw" "$VTB" down sw
left=$(vtb_new_objects)
expect "no vtb namespace or link left" test -z "$left"
finish
