#!/bin/bash
# simhosts.sh: simulated hosts on this machine, for the cluster's tests and
# demos (docs/cluster.md). Each host hN is a network, mount and UTS
# namespace of its own, held by a holder process (sleep, named vtbsim-hN,
# pid and start time in /var/lib/vtb-sim/hN/holder.pid), with its own
# cgroup vtbsim-hN in every cgroup hierarchy (its commands run there, so the
# cgroups vtb makes for a host's nodes are that host's), its own /run
# (a tmpfs, so `ip netns` there lists that host's namespaces only), its own
# /var/lib/vtb and /etc/vtb (binds of /var/lib/vtb-sim/hN/{lib,etc}), the
# hostname hN, and an underlay address 10.99.0.N/24 on eth0, a veth whose
# other end is on the bridge vtbsimu0 of the namespace vtbsim-u (the
# underlay: MTU 1550, so that a VXLAN packet carrying a full 1500-byte
# frame crosses). etcd runs in the namespace vtbsim-etcd at
# 10.99.0.254:2379 (data /var/lib/vtb-sim/etcd, log /var/lib/vtb-sim/etcd.log).
# With ETCD_MEMBERS=3, etcd is three members instead, each in a namespace
# of its own (vtbsim-etcd1..3) at 10.99.0.241-243:2379 (peers on :2380),
# data /var/lib/vtb-sim/etcdK, log etcdK.log; the endpoints, comma-separated,
# are in /var/lib/vtb-sim/etcd.endpoints, and exec and start-agent pass
# them all. Nothing is routed to or from the machine's own namespace.
#
# usage: scripts/simhosts.sh up N              make h1..hN (N from 1 to 200) and etcd
#        scripts/simhosts.sh exec HOST -- CMD...  run CMD on HOST (VTB_ETCD set; the
#                                               host's own state: VTB_STATE_DIR unset)
#        scripts/simhosts.sh status             list the hosts, their agents and etcd
#        scripts/simhosts.sh start-agent HOST   start "$VTB agent --foreground" on HOST
#        scripts/simhosts.sh kill-agent HOST    kill HOST's agent with SIGKILL
#        scripts/simhosts.sh kill-etcd K        kill etcd member K (1-3) with SIGKILL
#        scripts/simhosts.sh start-etcd K...    start killed members again (their data kept)
#        scripts/simhosts.sh rps on|off         each host's underlay receive on its own
#                                               CPU, or on the sender's (underlay_rps)
#        scripts/simhosts.sh down               remove all of it (idempotent)
# VTB names the vtb binary (default: ./vtb of this tree). Needs root.
# VTBSIM_ETCD_TLS=DIR at `up`: etcd over https, client certificates
# required: DIR/ca.crt is the cluster's CA (vtb cluster ca --dir DIR),
# DIR/etcd.pem etcd's bundle (vtb cluster cert etcd --underlay 10.99.0.254
# --ca DIR -o DIR/etcd.pem), DIR/crl.der when there the CA's revocation
# list (etcd's --client-crl-file: vtb cluster revoke --ca DIR changes it);
# the later commands find https in $SIM/etcd.url.
# VTBSIM_RPS=1 at `up`: each host's underlay receive runs on the host's
# own CPU (see underlay_rps; the default, 0, leaves it on the sending CPU:
# the handoff costs more than it moves on a 2-CPU VM, docs/benchmarks.md);
# `scripts/simhosts.sh rps on|off` changes it on hosts that are up.
set -u

SIM=/var/lib/vtb-sim
UNDERLAY=vtbsim-u
BRIDGE=vtbsimu0
ETCD_NS=vtbsim-etcd
ETCD_ADDR=10.99.0.254
ETCD_TLS=${VTBSIM_ETCD_TLS:-}
ETCD_URL=http${ETCD_TLS:+s}://$ETCD_ADDR:2379
[ -z "$ETCD_TLS" ] && [ -s "$SIM/etcd.url" ] && ETCD_URL=$(cat "$SIM/etcd.url")
NET=10.99.0
# the underlay's MTU: a 1500-byte frame plus VXLAN's 50 bytes (outer IPv4
# 20, UDP 8, VXLAN 8, inner Ethernet 14)
MTU=1550
MAX_HOSTS=200
# ETCD_MEMBERS=3: three members (make_etcd_members), else one
MEMBERS=${ETCD_MEMBERS:-1}
MEMBER_NET=10.99.0.24
# etcd is ready within 1-2 s (a single member elects itself after one
# election timeout of 1 s); 30 s for a machine busy with other tests
ETCD_START_S=30
# etcd syncs its log on SIGTERM in well under a second; then SIGKILL
ETCD_STOP_S=10
# a holder writes "ready" once its mounts are made: a few milliseconds
HOLDER_READY_S=10
# a process killed with SIGKILL is gone at once unless stuck in the kernel
KILL_WAIT_S=10
# 1: each host's underlay receive runs on the host's own CPU (underlay_rps)
RPS=${VTBSIM_RPS:-0}
# the mount points the hosts' binds need, made by up (and removed by down)
# only when this machine has none
MOUNTPOINTS="/var/lib/vtb /etc/vtb"

here=$(cd "$(dirname "$0")/.." && pwd)
VTB=${VTB:-$here/vtb}

die() { echo "simhosts: $*" >&2; exit 1; }

# start_time PID: the process's start time (field 22 of /proc/PID/stat,
# after the command name in parentheses), empty when it does not exist or
# has ended (a zombie that its parent has not reaped yet)
start_time() { sed -n 's/^.*) //p' "/proc/$1/stat" 2>/dev/null | awk '$1 != "Z" { print $20 }'; }

# alive PIDFILE: true when the process of PIDFILE ("pid start") still runs
alive() {
	[ -f "$1" ] || return 1
	read -r _pid _start <"$1" || return 1
	[ -n "$_pid" ] && [ "$(start_time "$_pid")" = "$_start" ]
}

# record PIDFILE PID: write "pid start" for PID
record() { echo "$2 $(start_time "$2")" >"$1"; }

# wait_gone PID SECONDS: wait until PID has ended, on a pidfd (the kernel
# makes it readable when the process exits); 0 when it has (perl-base is in
# every Debian; 434 is pidfd_open)
wait_gone() {
	perl -e 'my ($pid, $secs) = @ARGV;
		my $fd = syscall(434, $pid + 0, 0);
		exit 0 if $fd < 0;
		my $r = ""; vec($r, $fd, 1) = 1;
		exit(select($r, undef, undef, $secs) > 0 ? 0 : 1)' "$1" "$2"
}

# stop PIDFILE SIGNAL SECONDS: send SIGNAL to the process of PIDFILE if it
# still runs, and wait up to SECONDS until it is gone (then SIGKILL)
stop() {
	alive "$1" || return 0
	read -r _p _s <"$1"
	kill -s "$2" "$_p" 2>/dev/null
	wait_gone "$_p" "$3" && return 0
	kill -s KILL "$_p" 2>/dev/null
	wait_gone "$_p" "$KILL_WAIT_S"
}

# host_num HOST: N of hN, when hN exists
host_num() {
	case $1 in h[1-9] | h[1-9][0-9] | h[1-9][0-9][0-9]) ;; *) die "no such host: $1 (hosts are h1, h2, ...)" ;; esac
	alive "$SIM/$1/holder.pid" || die "host $1 is not up (scripts/simhosts.sh status)"
	echo "${1#h}"
}

# etcd_url: the endpoints the hosts' commands are given (all members)
etcd_url() { cat "$SIM/etcd.endpoints" 2>/dev/null || echo "$ETCD_URL"; }

# wait_line FILE PATTERN SECONDS: wait until FILE has a line matching
# PATTERN (tail -f follows the file with inotify), at most SECONDS; from
# byte ETCD_FROM of FILE (default: its start)
wait_line() {
	exec 3< <(exec timeout "$3" tail -c +"${ETCD_FROM:-1}" -f "$1")
	_t=$!
	grep -q -m1 -- "$2" <&3
	_rc=$?
	kill "$_t" 2>/dev/null
	exec 3<&-
	return $_rc
}

# underlay_wire: the underlay's bridge as a switch, not a router: with
# br_netfilter loaded, a bridge runs iptables on every frame it forwards
# (bridge-nf-call-*, on by default in every namespace), which a real
# underlay's switch does not (a flood between two simulated hosts spent
# about a tenth of its time there; docs/benchmarks.md)
underlay_wire() {
	for f in iptables ip6tables arptables; do
		[ -e "/proc/sys/net/bridge/bridge-nf-call-$f" ] || continue
		ip netns exec "$UNDERLAY" sh -c "echo 0 >/proc/sys/net/bridge/bridge-nf-call-$f"
	done
}

# underlay_gro HOST-PID N: GRO on both ends of hN's underlay veth, as a
# NIC has it (veth's GRO batches what it receives in NAPI polls instead
# of one backlog packet at a time); best effort: needs ethtool
underlay_gro() {
	command -v ethtool >/dev/null || return 0
	nsenter -t "$1" --net ethtool -K eth0 gro on >/dev/null 2>&1
	ip netns exec "$UNDERLAY" ethtool -K "h$2" gro on >/dev/null 2>&1
	return 0
}

# host_cpu N: the CPU that plays hN's cores: N-1 modulo the online CPUs
# (at most 32, the width of one word of an rps_cpus mask)
host_cpu() {
	_n=$(getconf _NPROCESSORS_ONLN)
	[ "$_n" -le 32 ] || _n=32
	echo $((($1 - 1) % _n))
}

# underlay_rps HOST-PID N ON: with ON=1, RPS on hN's eth0 steers its
# receive processing (IP, UDP, the VXLAN decapsulation and the delivery
# into the node) to host_cpu N; ON=0 clears the mask. A veth delivers on
# the sending CPU, so without it the receiving host's half of each packet
# runs on the sender's CPU, as if one machine's cores did both hosts' work;
# between real machines it runs on the receiver's cores. No effect with
# one CPU. sysfs shows the network namespace of whoever mounts it: a
# private mount namespace mounts it in the host's.
underlay_rps() {
	_mask=0
	[ "$3" = 1 ] && [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] && _mask=$(printf %x $((1 << $(host_cpu "$2"))))
	nsenter -t "$1" --net -- unshare --mount -- sh -c \
		"mount -t sysfs sysfs /sys && echo $_mask >/sys/class/net/eth0/queues/rx-0/rps_cpus"
}

# make_host N: the holder of hN in new namespaces, its mounts, its underlay
make_host() {
	d=$SIM/h$1
	mkdir -p "$d/lib" "$d/etc" || return 1
	make_cgroups "h$1" || return 1
	mkfifo "$d/ready" || return 1
	# the holder makes its mounts (private: nothing leaks to the machine),
	# says ready through the fifo, and becomes a sleep named vtbsim-hN
	unshare --net --mount --uts --propagation private -- bash -c '
		set -e
		hostname "$1"
		mount -t tmpfs -o mode=0755 vtbsim-run /run
		mkdir -p /run/netns /run/vtb
		mount --bind "$2/lib" /var/lib/vtb
		mount --bind "$2/etc" /etc/vtb
		ip link set lo up
		echo ready >"$2/ready"
		exec -a "vtbsim-$1" sleep infinity' holder "h$1" "$d" \
		</dev/null >>"$d/holder.log" 2>&1 &
	pid=$!
	record "$d/holder.pid" "$pid"
	if ! timeout "$HOLDER_READY_S" cat "$d/ready" >/dev/null; then
		echo "simhosts: host h$1 did not start: $(cat "$d/holder.log")" >&2
		return 1
	fi
	rm -f "$d/ready"
	ip -n "$UNDERLAY" link add "h$1" mtu "$MTU" type veth peer name eth0 mtu "$MTU" netns "$pid" &&
	ip -n "$UNDERLAY" link set "h$1" master "$BRIDGE" up &&
	nsenter -t "$pid" --net ip addr add "$NET.$1/24" dev eth0 &&
	nsenter -t "$pid" --net ip link set eth0 up &&
	underlay_gro "$pid" "$1" &&
	underlay_rps "$pid" "$1" "$RPS"
}

# etcd_tls_args: etcd's options for https with client certificates from
# the cluster's CA (nothing without VTBSIM_ETCD_TLS), and the CA's
# revocation list when it has one (etcd reads it at each new connection)
etcd_tls_args() {
	[ -n "$ETCD_TLS" ] || return 0
	echo "--client-cert-auth --trusted-ca-file $ETCD_TLS/ca.crt" \
		"--cert-file $ETCD_TLS/etcd.pem --key-file $ETCD_TLS/etcd.pem"
	[ ! -e "$ETCD_TLS/crl.der" ] || echo "--client-crl-file $ETCD_TLS/crl.der"
}

# make_etcd: the namespace vtbsim-etcd on the underlay, and etcd in it
make_etcd() {
	ip netns add "$ETCD_NS" &&
	ip -n "$ETCD_NS" link set lo up &&
	ip -n "$UNDERLAY" link add etcd mtu "$MTU" type veth peer name eth0 mtu "$MTU" netns "$ETCD_NS" &&
	ip -n "$UNDERLAY" link set etcd master "$BRIDGE" up &&
	ip -n "$ETCD_NS" addr add "$ETCD_ADDR/24" dev eth0 &&
	ip -n "$ETCD_NS" link set eth0 up || return 1
	ip netns exec "$ETCD_NS" etcd --name vtbsim --data-dir "$SIM/etcd" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster vtbsim=http://127.0.0.1:2380 $(etcd_tls_args) </dev/null >>"$SIM/etcd.log" 2>&1 &
	record "$SIM/etcd.pid" $!
	if ! wait_line "$SIM/etcd.log" "ready to serve client requests" "$ETCD_START_S"; then
		echo "simhosts: etcd did not start within ${ETCD_START_S}s; its log:" >&2
		tail -n 20 "$SIM/etcd.log" >&2
		return 1
	fi
}

# member_url K [PORT]: member K's URL (client port 2379 unless PORT)
member_url() { echo "http://$MEMBER_NET$1:${2:-2379}"; }

# start_member K: run etcd member K of three in its namespace, in the
# background (its data, once made, is kept: a restart rejoins the cluster)
start_member() {
	peers=""
	for j in 1 2 3; do peers="$peers${peers:+,}m$j=$(member_url "$j" 2380)"; done
	ip netns exec "$ETCD_NS$1" etcd --name "m$1" --data-dir "$SIM/etcd$1" \
		--listen-client-urls "$(member_url "$1")" --advertise-client-urls "$(member_url "$1")" \
		--listen-peer-urls "$(member_url "$1" 2380)" --initial-advertise-peer-urls "$(member_url "$1" 2380)" \
		--initial-cluster "$peers" --initial-cluster-token vtbsim \
		</dev/null >>"$SIM/etcd$1.log" 2>&1 &
	record "$SIM/etcd$1.pid" $!
}

# wait_members K...: wait until each member K says it serves clients
# (after the log's size when it was started: $SIM/etcdK.from)
wait_members() {
	for k in "$@"; do
		from=$(cat "$SIM/etcd$k.from" 2>/dev/null || echo 0)
		if ! ETCD_FROM=$((from + 1)) wait_line "$SIM/etcd$k.log" "ready to serve client requests" "$ETCD_START_S"; then
			echo "simhosts: etcd member $k did not start within ${ETCD_START_S}s; its log:" >&2
			tail -n 20 "$SIM/etcd$k.log" >&2
			return 1
		fi
	done
}

# make_etcd_members: three etcd members, each in a namespace of its own on
# the underlay (a member that is killed takes only its own address away)
make_etcd_members() {
	for k in 1 2 3; do
		ip netns add "$ETCD_NS$k" &&
		ip -n "$ETCD_NS$k" link set lo up &&
		ip -n "$UNDERLAY" link add "etcd$k" mtu "$MTU" type veth peer name eth0 mtu "$MTU" netns "$ETCD_NS$k" &&
		ip -n "$UNDERLAY" link set "etcd$k" master "$BRIDGE" up &&
		ip -n "$ETCD_NS$k" addr add "$MEMBER_NET$k/24" dev eth0 &&
		ip -n "$ETCD_NS$k" link set eth0 up || return 1
		echo 0 >"$SIM/etcd$k.from"
		start_member "$k"
	done
	echo "$(member_url 1),$(member_url 2),$(member_url 3)" >"$SIM/etcd.endpoints"
	wait_members 1 2 3
}

cmd_up() {
	n=${1:-}
	case $n in '' | *[!0-9]*) die "usage: simhosts.sh up N" ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le "$MAX_HOSTS" ] || die "N must be from 1 to $MAX_HOSTS"
	[ "$(id -u)" = 0 ] || die "needs root (namespaces, links)"
	if [ -e "$SIM" ] || ip netns list | grep -q "^$UNDERLAY\b"; then
		die "already up ($(ls -d "$SIM"/h* 2>/dev/null | wc -l) hosts); 'scripts/simhosts.sh down' first"
	fi
	command -v etcd >/dev/null || die "etcd is not installed (scripts/deps.sh installs etcd-server)"
	mkdir -p "$SIM" || exit 1
	for m in $MOUNTPOINTS; do
		[ -d "$m" ] || { mkdir -p "$m" && echo "$m" >>"$SIM/mountpoints"; } || exit 1
	done
	trap 'echo "simhosts: up failed; removing what it made" >&2; cmd_down >/dev/null' EXIT
	ip netns add "$UNDERLAY" &&
	ip -n "$UNDERLAY" link add "$BRIDGE" mtu "$MTU" type bridge &&
	ip -n "$UNDERLAY" link set "$BRIDGE" up || exit 1
	underlay_wire
	if [ "$MEMBERS" = 3 ]; then make_etcd_members; else make_etcd; fi || exit 1
	echo "$ETCD_URL" >"$SIM/etcd.url"
	for i in $(seq 1 "$n"); do
		make_host "$i" || exit 1
	done
	trap - EXIT
	echo "simhosts: $n hosts up (h1..h$n, $NET.1-$NET.$n), etcd at $(etcd_url)"
}

# kill_netns_procs HOLDERPID: SIGKILL every process in the holder's network
# namespace but the holder (what exec and start-agent left running there)
kill_netns_procs() {
	ns=$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$1" ] && continue
		[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$ns" ] || continue
		kill -s KILL "$p" 2>/dev/null && wait_gone "$p" "$KILL_WAIT_S"
	done
}

cmd_down() {
	for d in "$SIM"/h*; do
		[ -d "$d" ] || continue
		stop "$d/agent.pid" KILL "$KILL_WAIT_S"
		if alive "$d/holder.pid"; then
			read -r hp _ <"$d/holder.pid"
			kill_netns_procs "$hp"
		fi
		stop "$d/holder.pid" KILL "$KILL_WAIT_S"
		remove_cgroups "$(basename "$d")"
	done
	stop "$SIM/etcd.pid" TERM "$ETCD_STOP_S"
	for k in 1 2 3; do stop "$SIM/etcd$k.pid" TERM "$ETCD_STOP_S"; done
	for ns in "$ETCD_NS" "$ETCD_NS"1 "$ETCD_NS"2 "$ETCD_NS"3 "$UNDERLAY"; do
		if ip netns list | grep -q "^$ns\b"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -s KILL
			ip netns del "$ns"
		fi
	done
	if [ -f "$SIM/mountpoints" ]; then
		while read -r m; do rmdir "$m" 2>/dev/null; done <"$SIM/mountpoints"
	fi
	rm -rf "$SIM"
	echo "simhosts: down"
}

cmd_status() {
	[ -d "$SIM" ] || { echo "simhosts: not up"; return 0; }
	if [ -f "$SIM/etcd.endpoints" ]; then
		for k in 1 2 3; do
			if alive "$SIM/etcd$k.pid"; then s="runs (pid $(cut -d' ' -f1 "$SIM/etcd$k.pid"))"; else s="not running"; fi
			echo "etcd$k  $(member_url "$k")  $s  log $SIM/etcd$k.log"
		done
	else
		if alive "$SIM/etcd.pid"; then s="runs (pid $(cut -d' ' -f1 "$SIM/etcd.pid"))"; else s="not running"; fi
		echo "etcd   $ETCD_URL  $s  log $SIM/etcd.log"
	fi
	for d in "$SIM"/h*; do
		[ -d "$d" ] || continue
		h=${d##*/}
		if alive "$d/holder.pid"; then s=up; else s=DOWN; fi
		if alive "$d/agent.pid"; then a="agent pid $(cut -d' ' -f1 "$d/agent.pid")"; else a="no agent"; fi
		echo "$h     $NET.${h#h}/24  $s  $a  log $d/agent.log"
	done
}

# cgroup_dirs HOST: the host's own cgroup in every cgroup hierarchy of the
# machine (v1 and v2): the processes of a host run in it, and vtb nests an
# experiment's cgroups under the cgroup of the vtb that makes them, so two
# hosts' parts of one experiment (same id, same cgroup name) do not meet
cgroup_dirs() {
	awk -v h="vtbsim-$1" '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 "/" h }' /proc/self/mountinfo
}

# make_cgroups HOST: its cgroups (a v1 cpuset one gets its parent's cpus and mems)
make_cgroups() {
	for c in $(cgroup_dirs "$1"); do
		mkdir -p "$c" || return 1
		if [ -f "$c/cpuset.cpus" ]; then
			cat "$(dirname "$c")/cpuset.cpus" >"$c/cpuset.cpus"
			cat "$(dirname "$c")/cpuset.mems" >"$c/cpuset.mems"
		fi
	done
}

# join_cgroups HOST PID: move PID into the host's cgroups
join_cgroups() {
	for c in $(cgroup_dirs "$1"); do
		[ -d "$c" ] && echo "$2" >"$c/cgroup.procs"
	done
}

# remove_cgroups HOST: SIGKILL every process left in the host's cgroups
# (what vtb left running on it: inits, supervisors, QEMU, which live in
# namespaces of their own, not in the holder's), wait for them, then
# remove the cgroups and what vtb left in them, deepest first
remove_cgroups() {
	for c in $(cgroup_dirs "$1"); do
		[ -d "$c" ] || continue
		for i in $(seq $((KILL_WAIT_S * 10))); do
			pids=$(find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null)
			[ -z "$pids" ] && break
			kill -s KILL $pids 2>/dev/null
			sleep 0.1
		done
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

cmd_exec() {
	[ $# -ge 3 ] && [ "$2" = -- ] || die "usage: simhosts.sh exec HOST -- CMD..."
	host_num "$1" >/dev/null || exit 1
	read -r pid _ <"$SIM/$1/holder.pid"
	join_cgroups "$1" $$
	shift 2
	exec nsenter -t "$pid" --net --mount --uts --wd="$PWD" -- env -u VTB_STATE_DIR -u VTB_CLUSTER_CONF VTB_ETCD="$(etcd_url)" "$@"
}

cmd_start_agent() {
	h=${1:-}
	[ -n "$h" ] || die "usage: simhosts.sh start-agent HOST"
	host_num "$h" >/dev/null || exit 1
	d=$SIM/$h
	alive "$d/agent.pid" && die "the agent of $h runs already (pid $(cut -d' ' -f1 "$d/agent.pid"))"
	read -r pid _ <"$d/holder.pid"
	(join_cgroups "$h" "$BASHPID"; exec nsenter -t "$pid" --net --mount --uts --wd="$PWD" -- env -u VTB_STATE_DIR -u VTB_CLUSTER_CONF VTB_ETCD="$(etcd_url)" \
		"$VTB" agent --foreground) </dev/null >>"$d/agent.log" 2>&1 &
	record "$d/agent.pid" $!
	echo "simhosts: agent of $h started (pid $!, log $d/agent.log)"
}

cmd_kill_agent() {
	h=${1:-}
	[ -n "$h" ] || die "usage: simhosts.sh kill-agent HOST"
	host_num "$h" >/dev/null || exit 1
	alive "$SIM/$h/agent.pid" || die "no agent runs on $h"
	stop "$SIM/$h/agent.pid" KILL "$KILL_WAIT_S"
	echo "simhosts: agent of $h killed"
}

# rps on|off: RPS on every host's underlay interface, or none
# (underlay_rps), on hosts that are up: for benchmarks that compare both
cmd_rps() {
	case ${1:-} in on) on=1 ;; off) on=0 ;; *) die "usage: simhosts.sh rps on|off" ;; esac
	for d in "$SIM"/h*; do
		[ -d "$d" ] && alive "$d/holder.pid" || continue
		read -r pid _ <"$d/holder.pid"
		underlay_rps "$pid" "${d##*/h}" "$on" || die "cannot set RPS on ${d##*/}'s eth0"
	done
	echo "simhosts: RPS $1"
}

# member K: check K names a member of a three-member etcd
member() {
	[ -f "$SIM/etcd.endpoints" ] || die "etcd runs as one member (ETCD_MEMBERS=3 simhosts.sh up N for three)"
	case $1 in 1 | 2 | 3) ;; *) die "no such etcd member: $1 (members are 1, 2, 3)" ;; esac
}

cmd_kill_etcd() {
	member "${1:-}"
	alive "$SIM/etcd$1.pid" || die "etcd member $1 does not run"
	stop "$SIM/etcd$1.pid" KILL "$KILL_WAIT_S"
	echo "simhosts: etcd member $1 killed"
}

# start-etcd K...: every member first (one alone waits for a quorum before
# it serves), then the wait for each
cmd_start_etcd() {
	[ $# -ge 1 ] || die "usage: simhosts.sh start-etcd K..."
	for k in "$@"; do
		member "$k"
		alive "$SIM/etcd$k.pid" && die "etcd member $k runs already"
		stat -c %s "$SIM/etcd$k.log" >"$SIM/etcd$k.from"
		start_member "$k"
	done
	wait_members "$@" || exit 1
	echo "simhosts: etcd member(s) $* started"
}

[ $# -ge 1 ] || die "usage: simhosts.sh up N | exec HOST -- CMD... | status | start-agent HOST | kill-agent HOST | kill-etcd K | start-etcd K... | rps on|off | down"
c=$1
shift
case $c in
up) cmd_up "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
exec) cmd_exec "$@" ;;
start-agent) cmd_start_agent "$@" ;;
kill-agent) cmd_kill_agent "$@" ;;
kill-etcd) cmd_kill_etcd "$@" ;;
start-etcd) cmd_start_etcd "$@" ;;
rps) cmd_rps "$@" ;;
*) die "unknown command '$c' (up, exec, status, start-agent, kill-agent, kill-etcd, start-etcd, rps, down)" ;;
esac
