#!/bin/sh
# vtb capture: each link kind's frames counted against the sender's own
# count (ping -c 20: 20 echo requests in the pcap), --all, -c, a filter,
# live on standard output, and the errors that name what is wrong.
. "$(dirname "$0")/lib.sh"
m=$(mktemp -d /tmp/vtbcap.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/kinds.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b], name='direct')
topo.connect([b, c], latency == ms(2), name='emu')
topo.connect([a, c, d], name='lan')
topo.connect([b, c, d], latency == ms(1), name='elan')
M
expect "up kinds" "$VTB" up "$m/kinds.vtb"
on_exit "$VTB down kinds >/dev/null 2>&1"
N=20

# cap NAME ARGS...: start vtb capture kinds ARGS in the background and wait
# for its first line on stderr, which says every interface is open (a read
# on a fifo: an event wait); its pid in cap_pid, the rest of its stderr in
# $m/NAME.err
cap() {
	f=$m/$1.fifo; shift
	mkfifo "$f"
	"$VTB" capture kinds "$@" 2>"$f" &
	cap_pid=$!
	await_ready "$f" "${f%.fifo}.err"
}
# await_ready FIFO ERR: read FIFO up to the "capturing at" line (lines
# before it, and all after it, into ERR)
await_ready() {
	exec 3<"$1"
	while read -r line <&3; do
		printf '%s\n' "$line" >>"$2"
		case $line in capturing*) break ;; esac
	done
	cat <&3 >>"$2" &
	exec 3<&-
}
# stop PCAP: SIGINT the capture and wait for it to write its end
stop() { kill -INT "$cap_pid"; wait "$cap_pid"; }
count() { tcpdump -n -r "$1" 2>/dev/null | grep -c "$2"; }
# pings FROM TO: N echoes, the number the sender sent
pings() { "$VTB" exec kinds "$1" -- ping -c $N -i 0.02 -q "$2" | awk '/transmitted/{print $1}'; }

for kind in "direct 10.0.0.1 b" "emu 10.0.1.2 b" "lan 10.0.2.3 a" "elan 10.0.3.3 b"; do
	set -- $kind
	cap "$1" "$1" -w "$m/$1.pcap"
	sent=$(pings "$3" "$2")
	stop
	got=$(count "$m/$1.pcap" "> $2: ICMP echo request")
	rep=$(count "$m/$1.pcap" "$2 > .*: ICMP echo reply")
	if [ "$sent" = $N ] && [ "$got" = "$sent" ] && [ "$rep" = "$sent" ]; then
		ok "$1: $sent echo requests sent, $got requests and $rep replies in the pcap"
	else not_ok "$1: $sent sent, $got requests and $rep replies captured"; fi
done

# an emulated link: by default what leaves the emulator, at the receivers;
# with --ingress what enters it from the sender
cap in emu --from b --ingress -w "$m/in.pcap"
pings b 10.0.1.2 >/dev/null
stop
got=$(count "$m/in.pcap" "ICMP echo request"); rep=$(count "$m/in.pcap" "ICMP echo reply")
if [ "$got" = $N ] && [ "$rep" = 0 ]; then ok "emu --from b --ingress: b's $N requests only"
else not_ok "emu --from b --ingress: $got requests, $rep replies"; fi
cap out elan --from b -w "$m/out.pcap"
pings b 10.0.3.3 >/dev/null
stop
got=$(count "$m/out.pcap" "10.0.3.1 > 10.0.3.3: ICMP echo request"); rep=$(count "$m/out.pcap" "ICMP echo reply")
if [ "$got" = $N ] && [ "$rep" = 0 ]; then ok "elan --from b: what the emulator delivered of b's"
else not_ok "elan --from b: $got requests, $rep replies"; fi

# -c and a filter: exactly 5 frames, all echo replies
cap c emu -c 5 --from c -w "$m/c.pcap" -- icmp and 'icmp[icmptype] == icmp-echoreply'
pings b 10.0.1.2 >/dev/null
wait "$cap_pid"; rc=$?
if [ $rc = 0 ] && [ "$(tcpdump -n -r "$m/c.pcap" 2>/dev/null | wc -l)" = 5 ] &&
	[ "$(count "$m/c.pcap" "echo reply")" = 5 ]; then ok "-c 5 with a filter: 5 echo replies, then it ends"
else not_ok "-c 5 with a filter" "exit $rc, $(tcpdump -n -r "$m/c.pcap" 2>&1)"; fi

# live on standard output into tcpdump
mkfifo "$m/live.fifo"
{ "$VTB" capture kinds direct -c 6 -- icmp 2>"$m/live.fifo" | tcpdump -n -r - >"$m/live.txt" 2>/dev/null; } &
live=$!
await_ready "$m/live.fifo" "$m/live.err"
pings a 10.0.0.2 >/dev/null
wait "$live"
if [ "$(grep -c ICMP "$m/live.txt")" = 6 ]; then ok "live: 6 frames through a pipe into tcpdump -r -"
else not_ok "live into tcpdump" "$(cat "$m/live.txt")"; fi

# --all: one file a link, each with its link's frames
cap all --all -w "$m/all"
pings a 10.0.0.2 >/dev/null; pings b 10.0.1.2 >/dev/null
stop
if [ "$(count "$m/all/direct.pcap" "echo request")" = $N ] &&
	[ "$(count "$m/all/emu.pcap" "echo request")" = $N ] &&
	[ "$(count "$m/all/lan.pcap" "echo request")" = 0 ] && [ -f "$m/all/elan.pcap" ]; then
	ok "--all: direct.pcap and emu.pcap have their link's $N requests, lan.pcap none"
else not_ok "--all" "$(ls -l "$m/all")"; fi

expect_fail "unknown link named" 1 "experiment 'kinds' has no link 'nope'" \
	"$VTB" capture kinds nope -w "$m/x.pcap"
expect_fail "unknown node named" 1 "experiment 'kinds' has no node 'zz'" \
	"$VTB" capture kinds emu --from zz -w "$m/x.pcap"
expect_fail "a node not on the link named" 1 "node 'a' is not on link 'emu'" \
	"$VTB" capture kinds emu --from a -w "$m/x.pcap"
expect_fail "nodes without a link named" 1 "no link between 'a' and 'zz'" \
	"$VTB" capture kinds a zz -w "$m/x.pcap"
expect_fail "a bad filter named" 1 "filter 'bogus words'" \
	"$VTB" capture kinds emu -w "$m/x.pcap" -- bogus words
expect_fail "an unknown experiment" 1 "no experiment named 'nosuch'" "$VTB" capture nosuch emu
expect "down kinds" "$VTB" down kinds

# links to and from a VM: a direct one (a shortbridge: the VM's tap and the
# container's port) and an emulated one (taken as frames enter the
# emulator: it writes to the tap past the kernel's capture point)
cat >"$m/vm.vtb" <<'M'
vm = topo.device('vm', virt == true)
c1 = topo.device('c1')
c2 = topo.device('c2')
topo.connect([vm, c1], name='short')
topo.connect([vm, c2], latency == ms(2), name='vemu')
M
expect "up vmcap" "$VTB" up "$m/vm.vtb" --name vmcap
on_exit "$VTB down vmcap >/dev/null 2>&1"
for kind in "short c1 10.0.0.1" "vemu c2 10.0.1.1"; do
	set -- $kind
	f=$m/vm-$1
	mkfifo "$f.fifo"
	"$VTB" capture vmcap "$1" -w "$f.pcap" 2>"$f.fifo" &
	cap_pid=$!
	await_ready "$f.fifo" "$f.err"
	sent=$("$VTB" exec vmcap "$2" -- ping -c $N -i 0.05 -q "$3" | awk '/transmitted/{print $1}')
	stop
	got=$(count "$f.pcap" "> $3: ICMP echo request"); rep=$(count "$f.pcap" "$3 > .*: ICMP echo reply")
	if [ "$sent" = $N ] && [ "$got" = $N ] && [ "$rep" = $N ]; then
		ok "VM link $1: $N requests sent, $got requests and $rep replies in the pcap"
	else not_ok "VM link $1: $sent sent, $got requests and $rep replies captured" "$(cat "$f.err")"; fi
done
if grep -q "leads to a VM" "$m/vm-vemu.err"; then ok "vemu: a note says it captures the emulator's ingress"
else not_ok "vemu: the note" "$(cat "$m/vm-vemu.err")"; fi
expect "down vmcap" "$VTB" down vmcap
finish
