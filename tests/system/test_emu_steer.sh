#!/bin/sh
# Steering of bypassed directions (docs/link-emulator.md, "Cores"): on a
# machine of two cores or more, a bypassed direction that carries a flood
# (50,000 frames a second or more) has its port's receive steered (RPS) to
# the core of the node it leads into, the nodes divided among the cores so
# that few links cross; `vtb status` says which core carries it; when the
# flood stops (or the direction gets an impairment) the steering goes, so a
# lone ping crosses no core. VTB_EMU_STEER=0 turns it off. Needs root and
# udpbench (the link benchmarks' sender, built beside vtb by make system).
. "$(dirname "$0")/lib.sh"
ub=${UDPBENCH:-$(dirname "$VTB")/udpbench}
[ -x "$ub" ] || ub=$(dirname "$VTB")/build/udpbench
[ -x "$ub" ] || { not_ok "udpbench is built (make build/udpbench)"; finish; exit; }
if [ "$(nproc)" -lt 2 ]; then
	not_ok "a machine of two cores or more (this one has $(nproc)): nothing to steer"
	finish
	exit
fi
m=$(mktemp -d /tmp/vtbsteer.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/st.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b], latency == 0, name='ab')
topo.connect([b, c], latency == 0, name='bc')
topo.connect([c, d], latency == 0, name='cd')
M
expect "up st" "$VTB" up "$m/st.vtb" --name st
on_exit "$VTB down st >/dev/null 2>&1"
expect "up st0 (VTB_EMU_STEER=0)" env VTB_EMU_STEER=0 "$VTB" up "$m/st.vtb" --name st0
on_exit "$VTB down st0 >/dev/null 2>&1"

# snap EXP: vtb status --json and every port's RPS mask, at one moment
# (the checks below read them: a flood does not outlast many vtb calls
# under the sanitizers)
snap() {
	"$VTB" status "$1" --json >"$m/snap.json"
	ip netns exec "vtb$(jq -r .id "$m/snap.json")" sh -c \
		'for p in /sys/class/net/*/queues/rx-0/rps_cpus; do echo "$p $(cat "$p")"; done' >"$m/rps.txt"
}
# dir LINK FROM FIELD: a field of the direction in the snapshot
dir() {
	jq -r '.links[] | select(.name == "'"$1"'") | .directions[]
		| select(.from == "'"$2"'") | .'"$3" "$m/snap.json"
}
# rps LINK FROM: the RPS mask of the direction's in port, in the snapshot
rps() {
	awk -v p="/sys/class/net/$(dir "$1" "$2" port.name)/queues/rx-0/rps_cpus" '$1 == p { print $2 }' \
		"$m/rps.txt" | tr -d ',' | sed 's/^0*//; s/^$/0/'
}
# mask CORE: the RPS mask of one core, as the kernel prints it (hex)
mask() { printf '%x' $((1 << $1)); }
# flood EXP: 6 s of 18-byte UDP from a to d, unpaced (sendmmsg), in the
# background (the receiver's pid in $fl, its report in $m/flood.EXP). Run
# in the nodes' network namespaces from the host (ip netns exec): a node
# has a /tmp of its own, where a checkout under /tmp cannot be seen.
flood() {
	_id=$("$VTB" status "$1" --json | jq -r .id)
	ip netns exec "vtb$_id-d" "$ub" recv --port 9000 --idle-ms 1000 >"$m/flood.$1" 2>&1 &
	fl=$!
	sleep 0.5
	ip netns exec "vtb$_id-a" "$ub" send --to 10.0.2.2:9000 --duration 6 >/dev/null 2>&1 &
}
check() { if "$@"; then ok "$name"; else not_ok "$name" "$detail"; fi; }

# 1. at rest: bypassed, not steered, every mask 0, a ping crosses no core
snap st
for l in "ab a" "bc b" "cd c"; do
	set -- $l
	name="rest: $1 from $2 bypassed"; detail=$(dir "$1" "$2" bypass); check [ "$detail" = true ]
	name="rest: $1 from $2 not steered (kernel_cpu null, RPS mask 0)"
	detail="$(dir "$1" "$2" kernel_cpu) $(rps "$1" "$2")"
	check [ "$detail" = "null 0" ]
done
"$VTB" exec st a -- ping -c 3 -i 0.05 -q 10.0.2.2 >/dev/null 2>&1 && ok "rest: a reaches d" ||
	not_ok "rest: a reaches d"

# 2. a flood from a to d: every direction it takes steered to the core of
# the node it leads into, the cores named by vtb status, two cores in all
flood st
sleep 2
snap st
cores=""
for l in "ab a" "bc b" "cd c"; do
	set -- $l
	k=$(dir "$1" "$2" kernel_cpu)
	name="flood: $1 from $2 steered (kernel_cpu $k)"; detail=$k
	check eval 'case $k in [0-9]*) true ;; *) false ;; esac'
	case $k in [0-9]*)
		name="flood: ... its port's RPS mask is core $k's"; detail="mask $(rps "$1" "$2")"
		check [ "$(rps "$1" "$2")" = "$(mask "$k")" ]
		cores="$cores $k" ;;
	esac
done
name="flood: the hops are spread over two cores ($cores)"; detail=$cores
check [ "$(echo $cores | tr ' ' '\n' | sort -u | wc -l)" -eq 2 ]
name="flood: the reverse directions (no traffic) are not steered"
detail="$(dir ab b kernel_cpu) $(dir cd d kernel_cpu)"; check [ "$detail" = "null null" ]
"$VTB" status st | grep -q 'bypass: carried by the kernel on core [0-9]' &&
	ok "flood: vtb status names the core" || not_ok "flood: vtb status names the core" "$("$VTB" status st)"
# an impairment takes bc back into the emulator: its steering goes at once
expect "flood: vtb link set bc latency=1ms" "$VTB" link set st bc latency=1ms
snap st
name="flood: bc from b, emulated again, is no longer steered (RPS mask 0)"
detail="$(dir bc b bypass) $(rps bc b)"; check [ "$detail" = "false 0" ]
wait "$fl"
pps=$(sed -n 's/.*"pps":\([0-9]*\).*/\1/p' "$m/flood.st")
name="flood: it was one (${pps:-no} frames a second received)"; detail=$(cat "$m/flood.st")
check [ "${pps:-0}" -ge 50000 ]
expect "vtb link set bc latency=0" "$VTB" link set st bc latency=0

# 3. after the flood: the steering goes (within a few looks of 0.1 s)
sleep 1
snap st
for l in "ab a" "cd c"; do
	set -- $l
	name="after: $1 from $2 no longer steered"; detail="$(dir "$1" "$2" kernel_cpu) $(rps "$1" "$2")"
	check [ "$detail" = "null 0" ]
done

# 4. VTB_EMU_STEER=0: the same flood stays on the sender's core
flood st0
sleep 2
snap st0
name="VTB_EMU_STEER=0: nothing steered during the flood"
detail="$(dir ab a kernel_cpu) $(rps ab a) $(dir cd c kernel_cpu) $(rps cd c)"
check [ "$detail" = "null 0 null 0" ]
wait "$fl"

finish
