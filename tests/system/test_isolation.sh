#!/bin/sh
# System tests of node isolation (docs/nodes.md): what a container node
# sees, may and may not do, tried from inside with vtb exec; that vtb down,
# a killed vtb run and kill -9 of vtb up + vtb clean leave no process,
# namespace or mount of the experiment. Needs root, iproute2, tcpdump.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# How long a killed vtb run's command may outlive it: the kernel sends the
# entering child its parent-death signal at once; the rest is the kill.
ORPHAN_GONE_S=2
# How long vtb run gets to start its command before the test looks.
RUN_START_S=10
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# private directories' host sides, under /tmp (where each node's own tmpfs
# is made): an empty one owned by 4321:4321 mode 0750 with a file the node
# must not see, and a seed with a file of host root's
mkdir -p "$m/own" "$m/etcx/sub"
echo host >"$m/own/hostonly"
chown 4321:4321 "$m/own" && chmod 0750 "$m/own"
echo conf >"$m/etcx/conf"
echo deep >"$m/etcx/sub/deep"
# a-b point to point, c on a LAN with a and b (a and b forward, c has one
# interface), p privileged; a long task on a
cat >"$m/iso.vtb" <<EOF
a = topo.device('a', private == ['$m/own', '$m/etcx=$m/etcx', '/srv', '/run/vtbprobe/deep'])
b = topo.device('b', private == ['$m/etcx=$m/etcx'])
c = topo.device('c')
p = topo.device('p', privileged == true)
topo.connect([a, b], name='ab')
topo.connect([a, b, c])
topo.connect([a, p])
task('long', run(a, 'sleep 1234'), timeout=s(100))
EOF

expect "up" "$VTB" up "$m/iso.vtb" --name iso
on_exit "$VTB down iso >/dev/null 2>&1"
id=$("$VTB" status iso --json | sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' | head -1)
ns() { echo "vtb$id-$1"; }
x() { node=$1; shift; "$VTB" exec iso "$node" -- sh -c "$*"; }
# refuse NAME PATTERN CMD...: the command must fail, for the reason PATTERN
# (the kernel's or the tool's words: a command that fails for another
# reason, vtb exec itself say, proves nothing)
refuse() {
	name=$1; pat=$2; shift 2
	if out=$("$@" 2>&1); then not_ok "$name" "it succeeded: $out"
	elif printf '%s' "$out" | grep -Eq -- "$pat"; then ok "$name"
	else not_ok "$name" "it failed, but not with /$pat/: $out"; fi
}

# its own view
mac_host=$(ip -n "$(ns a)" -o link show eth0 | sed 's|.*link/ether \([^ ]*\).*|\1|')
mac_node=$(x a cat /sys/class/net/eth0/address)
if [ -n "$mac_host" ] && [ "$mac_node" = "$mac_host" ]; then ok "/sys shows the node's own MAC"
else not_ok "/sys shows the node's own MAC" "node '$mac_node', host '$mac_host'"; fi
want=$(ip -n "$(ns a)" -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')
got=$(x a ls /sys/class/net | sort | tr '\n' ' ')
if [ -n "$want" ] && [ "$got" = "$want" ]; then ok "/sys/class/net lists only the node's interfaces ($got)"
else not_ok "/sys/class/net lists only the node's interfaces" "got '$got', want '$want'"; fi
procs=$(x a 'ls /proc | grep -c "^[0-9]"')
init=$(x a 'cat /proc/1/comm')
if [ "$procs" -le 4 ] && [ "$init" = vtb-init ]; then ok "/proc shows the node's processes only ($procs)"
else not_ok "/proc shows the node's processes only" "$procs processes, pid 1 '$init'"; fi
expect "ps -e works and sees pid 1" sh -c "$VTB exec iso a -- ps -e | grep -q ' 1 .*vtb-init'"
for d in /tmp /run; do
	n=$(x c "ls -A $d | wc -l")
	if [ "$n" = 0 ]; then ok "$d is empty"; else not_ok "$d is empty" "$n entries"; fi
done
x a 'echo secret > /tmp/isolation-probe' || not_ok "write a's /tmp"
if x a 'test -f /tmp/isolation-probe' && ! x b 'test -e /tmp/isolation-probe' &&
	[ ! -e /tmp/isolation-probe ]; then ok "a file in a's /tmp is in neither b's nor the host's"
else not_ok "a file in a's /tmp is in neither b's nor the host's"; fi

# what a node may do
expect "sysctl -w net.ipv4.ip_forward=1" "$VTB" exec iso a -- sysctl -w net.ipv4.ip_forward=1
expect "ip addr add" "$VTB" exec iso a -- ip addr add 10.77.0.1/24 dev eth0
expect "ip route add" "$VTB" exec iso a -- ip route add 10.78.0.0/24 via 10.77.0.2
expect "tc qdisc add" "$VTB" exec iso a -- tc qdisc add dev eth0 root tbf rate 10mbit burst 32kbit latency 400ms
expect "tcpdump on its own interface" x a \
	'timeout 10 tcpdump -ni eth0 -c 1 >/dev/null 2>&1 & sleep 1; ping -c 2 -W 1 10.77.0.2 >/dev/null; wait $!'

# what it may not
for f in /usr/bin/x /etc/x /sys/kernel/mm/ksm/run; do
	refuse "cannot write $f" "Read-only file system" x a "echo 1 > $f"
done
refuse "cannot write the state directory" "Read-only file system|nonexistent|No such file" \
	x a "echo 1 > $VTB_STATE_DIR/x"
refuse "cannot write kernel.domainname" "permission denied" \
	"$VTB" exec iso a -- sysctl -w kernel.domainname=x
refuse "cannot mount" "permission denied|not permitted" "$VTB" exec iso a -- mount -t tmpfs x /mnt
# pid 1 is the node's own init: a veth "into pid 1's namespace" stays in the node
x a "ip link add vtbesc0 type veth peer name vtbesc1 netns 1" >/dev/null 2>&1
if ip link show vtbesc1 >/dev/null 2>&1; then
	not_ok "a veth sent to pid 1's namespace does not reach the host's"; ip link del vtbesc1
else ok "a veth sent to pid 1's namespace does not reach the host's"; fi
refuse "cannot add a veth into another node's namespace" 'Invalid "netns" value|No such file' \
	"$VTB" exec iso a -- ip link add v0 type veth peer name v1 netns "$(ns b)"
refuse "cannot nsenter another node" "No such file" \
	"$VTB" exec iso a -- nsenter --net=/run/netns/"$(ns b)" true
refuse "cannot nsenter its init" "Permission denied|not permitted" \
	"$VTB" exec iso a -- nsenter -t 1 -n -m true
hostpid=$$
refuse "cannot signal host process $hostpid" "No such process" "$VTB" exec iso a -- kill -9 "$hostpid"
# vtb itself, brought into the node (a node does not see the host's /tmp,
# where a test's vtb may live): it finds no state to act on
"$VTB" exec iso a -- sh -c 'cat >/tmp/vtb && chmod +x /tmp/vtb' <"$VTB"
refuse "vtb link set from inside fails" "state" "$VTB" exec iso a -- /tmp/vtb link set iso ab loss=0
expect "privileged: writes /etc" "$VTB" exec iso p -- sh -c 'touch /etc/.vtbprobe && rm /etc/.vtbprobe'
expect "privileged: own /sys" sh -c "[ \"\$($VTB exec iso p -- ls /sys/class/net | sort | tr '\n' ' ')\" = 'eth0 lo ' ]"
expect "privileged: own /proc" sh -c "[ \"\$($VTB exec iso p -- cat /proc/1/comm)\" = vtb-init ]"
expect "vtb status says privileged" sh -c "$VTB status iso | grep -E '^  p .*privileged'"

# forwarding: a new namespace would copy the host's IPv4 values (1 here)
fwd() { x "$1" 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/default/forwarding' | tr '\n' ' '; }
if [ "$(fwd c)" = "0 0 " ]; then ok "a single-interface node does not forward (host: $(cat /proc/sys/net/ipv4/ip_forward))"
else not_ok "a single-interface node does not forward" "c: $(fwd c)"; fi
if [ "$(fwd b)" = "1 1 " ]; then ok "a router forwards"; else not_ok "a router forwards" "b: $(fwd b)"; fi

# the init: `vtb-init ID` in ps (an experiment's inits share one address
# space, whose command line that is), found by its network namespace, and
# small
cns=$(stat -L -c %i "/run/netns/vtb$id-c")
ipid=""
for p in $(pgrep -x -f "vtb-init $id"); do
	[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$cns" ] && ipid=$p
done
rss=$(ps -o rss= -p "${ipid:-0}" | tr -d ' ')
if [ -n "$ipid" ] && [ "$(ps -o args= -p "$ipid")" = "vtb-init $id" ]; then ok "ps shows c's init as 'vtb-init $id' (RSS ${rss} KiB, shared)"
else not_ok "ps shows c's init as 'vtb-init $id'" "pid '$ipid': $(pgrep -a vtb-init | head -3)"; fi

# private directories
got=$(x a "stat -c '%u %g %a' $m/own; ls -A $m/own | wc -l")
if [ "$(echo $got)" = "4321 4321 750 0" ]; then ok "an empty private directory has the host's owner and mode"
else not_ok "an empty private directory has the host's owner and mode" "$got"; fi
expect "node root edits its seeded copy" x a "echo a >$m/etcx/conf && echo a2 >$m/etcx/sub/deep && mkdir $m/etcx/new"
if [ "$(x b "cat $m/etcx/conf $m/etcx/sub/deep" | tr '\n' ' ')" = "conf deep " ]; then ok "two nodes' copies are independent"
else not_ok "two nodes' copies are independent" "b: $(x b "cat $m/etcx/conf")"; fi
if [ "$(cat "$m/etcx/conf" "$m/etcx/sub/deep" | tr '\n' ' ')" = "conf deep " ] && [ ! -e "$m/etcx/new" ] &&
	[ -f "$m/own/hostonly" ]; then ok "the host's directories are unchanged"
else not_ok "the host's directories are unchanged" "$(ls -la "$m/etcx")"; fi
expect "a private directory outside the tmpfs (/srv) is writable" x a "touch /srv/x && test -f /srv/x"
expect "one under /run the host lacks is made in the node" x a "touch /run/vtbprobe/deep/x"
if [ ! -e /srv/x ] && [ ! -e /run/vtbprobe ]; then ok "nothing made on the host"
else not_ok "nothing made on the host" "$(ls -ld /srv/x /run/vtbprobe 2>&1)"; fi
echo "q = topo.device('q', private == ['/var/lib/vtb-no-such-dir'])" >"$m/miss.vtb"
out=$("$VTB" up "$m/miss.vtb" --name miss 2>&1) && "$VTB" down miss >/dev/null 2>&1
case "$out" in
*"device 'q'"*"private directory /var/lib/vtb-no-such-dir does not exist on the host"*)
	if [ ! -e /var/lib/vtb-no-such-dir ]; then ok "a private directory missing on the host is an error"
	else not_ok "a private directory missing on the host is an error" "it was made"; rmdir /var/lib/vtb-no-such-dir; fi;;
*) not_ok "a private directory missing on the host is an error" "$out";;
esac

# daemons go with vtb down
for n in a b; do
	x "$n" 'setsid sleep 1000 </dev/null >/dev/null 2>&1 & sleep 1000 </dev/null >/dev/null 2>&1 &'
done
inodes=$(for n in a b c; do stat -L -c %i "/run/netns/$(ns "$n")"; done | sort | tr '\n' ' ')
in_ns() { for p in /proc/[0-9]*; do
	i=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
	case " $inodes" in *" $i "*) echo "${p#/proc/}";; esac
done; }
before=$(in_ns | wc -l)

# kill -9 of vtb run ends its command
"$VTB" run iso >"$m/run.out" 2>&1 &
runpid=$!
sleeper=""
for i in $(seq $((RUN_START_S * 10))); do
	sleeper=$(pgrep -x -f 'sleep 1234' | head -1)
	[ -n "$sleeper" ] && break
	sleep 0.1
done
kill -9 "$runpid"
if [ -n "$sleeper" ] && wait_gone "$sleeper" "$ORPHAN_GONE_S"; then ok "kill -9 of vtb run ends its command"
else not_ok "kill -9 of vtb run ends its command" "sleep pid '$sleeper'"; fi

# vtb down during vtb run
"$VTB" run iso >"$m/run2.out" 2>&1 &
runpid=$!
for i in $(seq $((RUN_START_S * 10))); do pgrep -x -f 'sleep 1234' >/dev/null && break; sleep 0.1; done
expect "down during a run" "$VTB" down iso
wait "$runpid"
if grep -q "taken down during the run" "$m/run2.out"; then ok "vtb run says the experiment was taken down"
else not_ok "vtb run says the experiment was taken down" "$(cat "$m/run2.out")"; fi
left=$(in_ns)
if [ "$before" -ge 4 ] && [ -z "$left" ]; then ok "no process of the nodes left after vtb down ($before before)"
else not_ok "no process of the nodes left after vtb down" "before $before, left: $left"; fi
if [ -z "$(vtb_objects | grep "vtb$id")" ] && ! grep -q "vtb$id" /proc/self/mountinfo &&
	[ -z "$(in_ns)" ]; then ok "nothing of the experiment left after vtb down"
else not_ok "nothing of the experiment left after vtb down" "$(vtb_objects; grep "vtb$id" /proc/self/mountinfo)"; fi

# kill -9 of vtb up midway, then vtb clean
# the inits that run (a zombie has ended: the host's pid 1 reaps it when it will)
live_inits() { ps -eo pid=,stat=,comm= | awk '$3 == "vtb-init" && $2 !~ /^Z/ { print $1 }' | sort; }
inits_before=$(live_inits)
{
	echo "n = []"
	echo "for i in range(200):"
	echo "    n.append(topo.device('n' + str(i)))"
	echo "topo.connect(n)"
} >"$m/big.vtb"
"$VTB" up "$m/big.vtb" --name big >/dev/null 2>&1 &
uppid=$!
for i in $(seq 100); do [ "$(live_inits | grep -cvxF "${inits_before:-none}")" -ge 20 ] && break; sleep 0.05; done
kill -9 "$uppid"
wait "$uppid" 2>/dev/null
bigid=$("$VTB" status big --json 2>/dev/null | sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' | head -1)
expect "clean after kill -9 of vtb up" "$VTB" clean
new_inits=$(live_inits | grep -vxF "${inits_before:-none}")
if [ -n "$bigid" ] && [ -z "$new_inits" ] && [ -z "$(ls /run/netns | grep "^vtb$bigid-")" ]; then
	ok "no init or namespace left after kill -9 of vtb up and vtb clean"
else not_ok "no init or namespace left after kill -9 of vtb up and vtb clean" \
	"id '$bigid', inits: $new_inits; $(ls /run/netns | grep "^vtb$bigid-")"; fi
finish
