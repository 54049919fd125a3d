#!/bin/sh
# udpbench_selftest.sh: check bench/udpbench across a veth between two network
# namespaces it makes (ubt-a 10.99.0.1 sends, ubt-b 10.99.0.2 receives) and
# always removes. Needs root. Prints PASS/FAIL per check; exits 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=build/udpbench
port=9000
pass=0 fail=0

make -s "$bin" || exit 1
[ "$(id -u)" = 0 ] || { echo "udpbench_selftest: needs root" >&2; exit 1; }
work=$(mktemp -d) || exit 1

# Deleting a namespace deletes the veth end in it, and so the whole pair.
ns_del() {
	ip netns del ubt-a 2>/dev/null
	ip netns del ubt-b 2>/dev/null
}
rpid=
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	ns_del
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ns_del # what a killed run left
if ! { ip netns add ubt-a && ip netns add ubt-b &&
	ip link add ubt-va netns ubt-a type veth peer name ubt-vb netns ubt-b &&
	ip -n ubt-a addr add 10.99.0.1/24 dev ubt-va && ip -n ubt-b addr add 10.99.0.2/24 dev ubt-vb &&
	ip -n ubt-a link set ubt-va up && ip -n ubt-b link set ubt-vb up &&
	ip -n ubt-a link set lo up && ip -n ubt-b link set lo up; }; then
	echo "udpbench_selftest: cannot make the namespaces" >&2
	exit 1
fi

# jget FILE KEY: the number (or null) after "KEY": in the JSON line in FILE
jget() { sed -n "s/.*\"$2\":\([-0-9.eE+a-z]*\).*/\1/p" "$1"; }

# run NAME RECV_ARGS -- SEND_ARGS: a receiver in ubt-b, then a sender in ubt-a;
# their JSON lines land in $work/NAME.recv and $work/NAME.send
run() {
	_name=$1 _recv=
	shift
	while [ "$1" != -- ]; do _recv="$_recv $1"; shift; done
	shift
	# shellcheck disable=SC2086
	ip netns exec ubt-b timeout 60 "$bin" recv --port $port $_recv >"$work/$_name.recv" &
	rpid=$!
	_i=0
	until ip netns exec ubt-b ss -Hlun "sport = :$port" | grep -q .; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && break
		sleep 0.05
	done
	ip netns exec ubt-a timeout 60 "$bin" send --to 10.99.0.2:$port "$@" >"$work/$_name.send"
	wait $rpid
	rpid=
	echo "  send: $(cat "$work/$_name.send")"
	echo "  recv: $(cat "$work/$_name.recv")"
}

# check NAME CONDITION (awk, over the variables given as -v NAME=VALUE)
check() {
	_name=$1 _cond=$2
	shift 2
	if awk "$@" "BEGIN { exit !($_cond) }" </dev/null; then
		echo "PASS: $_name"
		pass=$((pass + 1))
	else
		echo "FAIL: $_name ($*)"
		fail=$((fail + 1))
	fi
}

echo "(1) 100000 packets, unpaced"
run unpaced -- --count 100000
r=unpaced.recv s=unpaced.send
check "unpaced: received > 0 and lost + received == sent" 'rx > 0 && lost + rx == sent' \
	-v rx="$(jget "$work/$r" received)" -v lost="$(jget "$work/$r" lost)" -v sent="$(jget "$work/$s" sent)"

echo "(2) 10000 pps for 2 s"
run pps --warmup 10 -- --pps 10000 --duration 2
r=pps.recv
check "pps: measured pps within 1% of 10000" 'pps >= 9900 && pps <= 10100' -v pps="$(jget "$work/$r" pps)"
check "pps: median delay < 100 us" 'med != "" && med < 100' -v med="$(jget "$work/$r" median)"

echo "(3) 10 Mbit/s of 1000-byte payloads for 2 s"
run rate -- --rate 10000000 --size 1000 --duration 2
r=rate.recv
check "rate: bits_per_s within 1% of 1e7" 'b >= 9.9e6 && b <= 10.1e6' -v b="$(jget "$work/$r" bits_per_s)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
