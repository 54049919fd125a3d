#!/bin/bash
# Soak of exact cleanup (issue 12; docs/benchmarks.md, "Soak"): ROUNDS
# rounds (default 200) in each of two state directories at once. A round
# brings up a random model (2-8 container nodes as a chain, a star or a LAN,
# some links emulated with random latency and loss), pings across it, changes
# an emulated link with `vtb link set`, and takes it down. One round in three
# is killed instead: `vtb up` or `vtb down` gets SIGKILL, SIGINT, SIGTERM or
# SIGHUP after a random delay (0-0.15 s into up, 0-0.03 s into down: their
# durations here), and `vtb clean` follows; a kill that came after the
# command had ended is marked `-late` in the action column. Before the
# first round, decoys that look like vtb's are made (a namespace, a root
# veth, a bridge and a state file of an id `f0f0`, which `vtb up` never draws
# because the kernel holds its names) and a process is left in the decoy
# namespace.
#
# At the end, and checked after every round of its directory: no experiment
# stuck (status lists none once a round is over), no leftover (namespaces,
# UTS binds, root links, vtb-init processes of either directory), every
# decoy intact. Writes bench/out/soak.tsv (one row per round) and prints a
# summary; exits 1 on any leftover, stuck experiment or touched decoy.
# Environment: VTB (default ./vtb), ROUNDS (default 200), SEED (default the
# time).
set -u
cd "$(dirname "$0")/.."
vtb=$(realpath "${VTB:-./vtb}")
rounds=${ROUNDS:-200}
seed=${SEED:-$(date +%s)}
out=bench/out
mkdir -p "$out"
tsv=$out/soak.tsv
work=$(mktemp -d /tmp/vtbsoak.XXXXXX)
decoy=f0f0

objects() {
	{ ls /run/netns 2>/dev/null | grep '^vtb' | grep -v "^vtb$decoy" | sed 's/^/netns /'
	  ls /run/vtb/uts 2>/dev/null | grep '^vtb' | sed 's/^/uts /'
	  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^vtb' |
		grep -v "^vtb$decoy" | sed 's/^/link /'
	  pgrep -x vtb-init | sed 's/^/vtb-init /'
	} | sort
}

decoys_make() {
	ip netns add vtb$decoy-x
	ip link add vtb${decoy}p0 type veth peer name vtb${decoy}p1
	ip link add vtb${decoy}b0 type bridge
	ip netns exec vtb$decoy-x sleep 100000 &
	echo $! >"$work/decoy.pid"
	for d in A B; do echo decoy >"$work/$d/$decoy.init.log"; done
}

# decoys_check: prints what was touched, nothing when all is intact
decoys_check() {
	[ -e /run/netns/vtb$decoy-x ] || echo "namespace vtb$decoy-x"
	ip link show vtb${decoy}p0 >/dev/null 2>&1 || echo "veth vtb${decoy}p0"
	ip link show vtb${decoy}b0 >/dev/null 2>&1 || echo "bridge vtb${decoy}b0"
	kill -0 "$(cat "$work/decoy.pid")" 2>/dev/null || echo "the process in vtb$decoy-x"
	for d in A B; do grep -qx decoy "$work/$d/$decoy.init.log" 2>/dev/null || echo "file $d/$decoy.init.log"; done
}

decoys_remove() {
	kill "$(cat "$work/decoy.pid" 2>/dev/null)" 2>/dev/null
	ip netns del vtb$decoy-x 2>/dev/null
	ip link del vtb${decoy}p0 2>/dev/null
	ip link del vtb${decoy}b0 2>/dev/null
}

# model FILE: a random model (bash's RANDOM, seeded per directory)
model() {
	local n=$((RANDOM % 7 + 2)) shape=$((RANDOM % 3)) i p
	{
		for ((i = 1; i <= n; i++)); do echo "n$i = topo.device('n$i')"; done
		case $shape in
		0) for ((i = 1; i < n; i++)); do
			p=""
			[ $((RANDOM % 2)) = 0 ] && p=", latency == ms($((RANDOM % 5 + 1))), loss == 0.0$((RANDOM % 3))"
			echo "topo.connect([n$i, n$((i + 1))]$p)"
		   done ;;
		1) for ((i = 2; i <= n; i++)); do
			p=""
			[ $((RANDOM % 2)) = 0 ] && p=", latency == ms($((RANDOM % 5 + 1)))"
			echo "topo.connect([n1, n$i]$p)"
		   done ;;
		2) p="n1"
		   for ((i = 2; i <= n; i++)); do p="$p, n$i"; done
		   echo "topo.connect([$p], latency == ms($((RANDOM % 3 + 1))))" ;;
		esac
	} >"$1"
	echo "$n $shape"
}

# one_dir D: ROUNDS rounds in state directory D; rows to $work/D.tsv
one_dir() {
	local d=$1 r n shape name t0 t1 act sig delay pid res stuck
	export VTB_STATE_DIR=$work/$d
	RANDOM=$((seed + ${#d} * 7919 + $(printf '%d' "'$d")))
	for ((r = 1; r <= rounds; r++)); do
		read -r n shape < <(model "$work/$d.vtb")
		name=s$d$r
		act=normal sig=- delay=-
		t0=$(date +%s%N)
		if [ $((RANDOM % 3)) = 0 ]; then
			sig=$(echo KILL INT TERM HUP | cut -d' ' -f$((RANDOM % 4 + 1)))
			# up takes a few hundred ms here, down tens: the delays
			# spread the kills over each
			if [ $((RANDOM % 2)) = 0 ]; then
				act=kill-up
				delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", r % 150 / 1000 }')
				"$vtb" up "$work/$d.vtb" --name "$name" >/dev/null 2>&1 &
				pid=$!
			else
				act=kill-down
				delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", r % 30 / 1000 }')
				"$vtb" up "$work/$d.vtb" --name "$name" >/dev/null 2>&1
				"$vtb" down "$name" >/dev/null 2>&1 &
				pid=$!
			fi
			sleep "$delay"
			# landed: the command was still running (not yet a zombie)
			if [ "$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)" = Z ] ||
			   ! kill -s "$sig" $pid 2>/dev/null; then
				act=$act-late
			fi
			wait $pid 2>/dev/null
			"$vtb" clean >/dev/null 2>&1
			# a kill that came too late left it up: that is no leftover
			"$vtb" down "$name" >/dev/null 2>&1
			res=ok
		else
			res=ok
			"$vtb" up "$work/$d.vtb" --name "$name" >/dev/null 2>&1 || res=up-failed
			if [ $res = ok ]; then
				# n1 and n2 share the first link (10.0.0.0/24) in every shape
				"$vtb" exec "$name" n1 -- ping -c 2 -i 0.2 -W 2 10.0.0.2 >/dev/null 2>&1 ||
					res=ping-failed
				# n1-n2, when it is an emulated point-to-point link, takes a
				# new latency at once
				if [ "$shape" != 2 ] && grep -m 1 'topo.connect' "$work/$d.vtb" | grep -q latency; then
					"$vtb" link set "$name" n1 n2 latency=2ms >/dev/null 2>&1 ||
						res=link-set-failed
				fi
				"$vtb" down "$name" >/dev/null 2>&1 || res=down-failed
			fi
		fi
		t1=$(date +%s%N)
		stuck=$("$vtb" status 2>/dev/null | awk 'NR > 1' | wc -l)
		printf '%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.3f\t%d\n' "$d" "$r" "$n" "$shape" "$act" \
			"$sig" "$delay" "$res" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" \
			"$stuck" >>"$work/$d.tsv"
	done
}

mkdir -p "$work/A" "$work/B"
chmod 700 "$work/A" "$work/B"
before=$(objects)
decoys_make
start=$(date +%s)
one_dir A &
pa=$!
one_dir B &
pb=$!
wait $pa $pb
secs=$(($(date +%s) - start))

for d in A B; do VTB_STATE_DIR=$work/$d "$vtb" clean >/dev/null 2>&1; done
# a node helper whose vtb up was killed ends its init by itself, a few
# milliseconds later: give the last round's that long (at most 5 s)
for _ in $(seq 50); do pgrep -x vtb-init >/dev/null || break; sleep 0.1; done
after=$(objects)
touched=$(decoys_check)
stuck=0
for d in A B; do
	s=$(VTB_STATE_DIR=$work/$d "$vtb" status 2>/dev/null | awk 'NR > 1' | wc -l)
	stuck=$((stuck + s))
done
decoys_remove
printf 'dir\tround\tnodes\tshape\taction\tsignal\tdelay_s\tresult\tsecs\tlisted_after\n' >"$tsv"
cat "$work/A.tsv" "$work/B.tsv" >>"$tsv"

total=$(awk -F'\t' 'NR > 1' "$tsv" | wc -l)
kills=$(awk -F'\t' 'NR > 1 && $5 != "normal"' "$tsv" | wc -l)
bad=$(awk -F'\t' 'NR > 1 && $8 != "ok"' "$tsv" | wc -l)
listed=$(awk -F'\t' 'NR > 1 && $10 != 0' "$tsv" | wc -l)
echo "soak: seed $seed, $total rounds in ${secs} s (2 state directories at once), $kills killed" \
     "($(awk -F'\t' 'NR > 1 && $5 == "kill-up"' "$tsv" | wc -l) during up," \
     "$(awk -F'\t' 'NR > 1 && $5 == "kill-down"' "$tsv" | wc -l) during down," \
     "$(awk -F'\t' 'NR > 1 && $5 ~ /-late$/' "$tsv" | wc -l) after the command had ended)"
echo "soak: rounds that failed a step: $bad; rounds after which an experiment of its directory was still listed: $listed"
rc=0
if [ "$before" != "$after" ]; then
	echo "soak: LEFT OVER:"; diff <(echo "$before") <(echo "$after") | sed 's/^/  /'; rc=1
else
	echo "soak: leftovers: none"
fi
if [ -n "$touched" ]; then echo "soak: DECOYS TOUCHED: $touched"; rc=1; else echo "soak: decoys: all intact"; fi
if [ $stuck != 0 ]; then echo "soak: STUCK experiments: $stuck"; rc=1; else echo "soak: stuck experiments: none"; fi
rm -rf "$work"
exit $rc
