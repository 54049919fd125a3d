# lib.sh: what the benchmark scripts share (sourced).

now() { date +%s%N; }

# ms START END: seconds between two `now` stamps, 3 decimals.
ms() { echo "$1 $2" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'; }

# stats FILE: "median min max" of the numbers in FILE, one a line.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "NaN NaN NaN"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}

# netns_busy: whether a kernel worker is running the network namespace
# workqueue now (its name then ends in "+netns"): cleanup_net, which
# unregisters the devices of the namespaces that went and frees them, as
# one batch, after the command that let them go has returned (a bridge
# costs an rcu_barrier there, under RTNL: br_multicast_dev_del).
netns_busy() {
	grep -qs -- '+netns' /proc/[0-9]*/comm 2>/dev/null
}

# kernel_done [SINCE]: wait (at most 30 s) until no kernel worker has run
# the netns workqueue for 0.1 s; prints the time (`now`) of the last sample
# that saw it running, or SINCE (default: now) when none did. A command's
# time plus this tail is what it costs the machine, not only its caller:
# a vtb up started inside the tail waits for RTNL.
kernel_done() {
	_kd_last=${1:-$(now)} _kd_i=0
	while [ $_kd_i -lt 3000 ]; do
		if netns_busy; then
			_kd_last=$(now)
		elif [ $(($(now) - _kd_last)) -ge 100000000 ]; then
			break
		fi
		_kd_i=$((_kd_i + 1))
		sleep 0.005
	done
	echo "$_kd_last"
}

# settle: wait (at most 20 s) until the kernel has freed the network
# namespaces of the last run: the count of net_namespace objects in
# /proc/slabinfo is back down to what it was at the end of the previous
# settle (SETTLE_BASE), for at most SETTLE_BASE_S, and has not moved for
# 0.5 s. Prints the time (`now`) of its last move: when the kernel was done.
# A stable count alone is not enough: the kernel frees a teardown's
# namespaces in one batch, at its end, and for linear,100 (100 bridges,
# 300 veths) that end came about 2 s after vtb down, the count unmoved
# until then; a vtb up in those 2 s waited for it (2.0 s instead of 0.3 s,
# with its usual CPU time). Other users of the machine may keep the count
# above the base: after SETTLE_BASE_S, stability alone. In a subshell
# ($(settle)) the base is not kept for the next call.
SETTLE_BASE_S=5
SETTLE_BASE=""
settle() {
	kernel_done >/dev/null
	_last=$(now)
	if [ ! -r /proc/slabinfo ]; then
		sleep 2
		now
		return
	fi
	_prev=-1 _same=0 _i=0
	while [ $_i -lt 200 ]; do
		_cur=$(awk '$1 == "net_namespace" { print $2 }' /proc/slabinfo)
		if [ "$_cur" = "$_prev" ]; then
			_same=$((_same + 1))
			[ $_same -ge 5 ] && { [ -z "$SETTLE_BASE" ] || [ "$_cur" -le "$SETTLE_BASE" ] ||
				[ $_i -ge $((SETTLE_BASE_S * 10)) ]; } && break
		else
			_same=0
			_last=$(now)
		fi
		_prev=$_cur _i=$((_i + 1))
		sleep 0.1
	done
	SETTLE_BASE=$_cur
	echo "$_last"
}

# vtb_up MODEL NAME: bring it up with $vtb, record and print its id (in
# $work/ids, for the cleanup on exit)
vtb_up() {
	"$vtb" up "$1" --name "$2" >"$work/up.out" 2>"$work/up.err" || {
		echo "bench: vtb up $1 failed:" >&2
		head -n 5 "$work/up.err" >&2
		exit 1
	}
	_id=$(sed -n 's/.* is up (id \([0-9a-f]*\)).*/\1/p' "$work/up.out")
	echo "$_id" >>"$work/ids"
	echo "$_id"
}

# down_all BIN...: vtb down every experiment each binary lists in
# VTB_STATE_DIR (a bench's cleanup on exit; failures are ignored)
down_all() {
	for _b in "$@"; do
		for _n in $("$_b" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
			"$_b" down "$_n" >/dev/null 2>&1 || true
		done
	done
}

# vtb_down NAME
vtb_down() {
	"$vtb" down "$1" >"$work/down.out" 2>&1 || {
		echo "bench: vtb down $1 failed:" >&2
		head -n 5 "$work/down.out" >&2
		exit 1
	}
}
