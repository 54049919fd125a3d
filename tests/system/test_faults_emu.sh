#!/bin/sh
# System tests of the link emulator when a port goes away (issue 12, finding
# 8): a node deletes its interface on an emulated link, or the root-side
# port is set down (and up again). The emulator must stop that port's
# directions cleanly, say so in `vtb status`, keep the other links working
# and sleep: before the fix its thread spun at 50-88% of a core. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# What the supervisor may spend while nothing is sent: 5% of a core over
# CPU_WINDOW_S seconds (an idle emulator sleeps in epoll; the spin was
# 8000 wake-ups a second).
CPU_WINDOW_S=2
CPU_MAX_PCT=5
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# three nodes in a row, both links emulated
cat >"$m/row.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
topo.connect([a, b], latency == ms(1))
topo.connect([b, c], latency == ms(1))
M

# up NAME: bring the row up and register its removal
up() {
	expect "up $1" "$VTB" up "$m/row.vtb" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}
id_of() { "$VTB" status "$1" --json | jq -r .id; }
# addr EXP NODE LINK: NODE's IPv4 address on LINK, without the prefix length
addr() {
	"$VTB" status "$1" --json | jq -r --arg n "$2" --arg l "$3" \
		'.nodes[] | select(.name == $n) | .interfaces[] | select(.link == $l) | .ipv4' |
		sed 's|/.*||'
}
# received EXP FROM TO: how many of three echoes came back
received() {
	"$VTB" exec "$1" "$2" -- ping -n -q -c 3 -i 0.2 -W 1 "$3" 2>&1 |
		awk '/packets transmitted/ { print $4 + 0 }'
}
# cpu_ticks PID: user + system time of PID so far, in clock ticks (fields
# 14 and 15 of /proc/PID/stat, counted after the command name)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# cpu_idle NAME WHAT: the supervisor of NAME stays under CPU_MAX_PCT of a core
cpu_idle() {
	pid=$("$VTB" status "$1" --json | jq -r .supervisor.pid)
	t0=$(cpu_ticks "$pid")
	sleep "$CPU_WINDOW_S" # the measurement window itself
	t1=$(cpu_ticks "$pid")
	pct=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$CPU_WINDOW_S" \
		'BEGIN { printf "%.1f", d * 100 / hz / s }')
	if awk -v p="$pct" -v max="$CPU_MAX_PCT" 'BEGIN { exit !(p < max) }'; then
		ok "$2: the supervisor sleeps ($pct% of a core over ${CPU_WINDOW_S}s)"
	else
		not_ok "$2: the supervisor sleeps" "$pct% of a core over ${CPU_WINDOW_S}s (at most $CPU_MAX_PCT%)"
	fi
}
# status_says NAME LINK TEXT: the lines of `vtb status NAME` about LINK hold TEXT
status_says() {
	blk=$("$VTB" status "$1" | awk -v l="$2" '/^  [^ ]/ { on = ($1 == l) } on { print }')
	if printf '%s\n' "$blk" | grep -qF "$3"; then
		ok "status says \"$3\" on link $2"
	else
		not_ok "status says \"$3\" on link $2" "$blk"
	fi
}
# root_port NAME NODE: the substrate end of NODE's eth0 (by its peer's ifindex)
root_port() {
	peer=$(ip -n "vtb$(id_of "$1")-$2" -o link show eth0 | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p')
	ip -n "vtb$(id_of "$1")" -o link show | awk -F': ' -v i="$peer" '$1 == i { sub(/@.*/, "", $2); print $2 }'
}
# leaves_nothing NAME ID: vtb down NAME, then no object of ID is left
leaves_nothing() {
	expect "down $1" "$VTB" down "$1"
	left=$(vtb_objects | grep "vtb$2" || true)
	expect "down $1 leaves nothing" test -z "$left"
}

# 1. a node deletes its interface on the emulated link a-b
up gone
id=$(id_of gone)
c_ip=$(addr gone c b-c)
a_ip=$(addr gone a a-b)
expect "b pings c before" test "$(received gone b "$c_ip")" = 3
port=$(root_port gone a)
expect "a's eth0 has a root port" test -n "$port"
expect "a deletes its eth0" "$VTB" exec gone a -- ip link del eth0
cpu_idle gone "eth0 deleted in a"
status_says gone a-b "port $port is gone"
expect "status --json: the port of a -> b is gone" sh -c \
	"'$VTB' status gone --json | jq -e '.links[] | select(.name == \"a-b\") | .directions[] | select(.from == \"a\") | .port.state == \"gone\"' >/dev/null"
expect "b pings c through the other emulated link" test "$(received gone b "$c_ip")" = 3
expect "b's echoes to a are dropped and counted" test "$(received gone b "$a_ip")" = 0
drops=$("$VTB" status gone --json | jq '.links[] | select(.name == "a-b") | .directions[] |
	select(.from == "b") | .counters.drops.port')
expect "b -> a counts its drops ($drops) by cause port" test "${drops:-0}" -ge 3
leaves_nothing gone "$id"

# 2. the root port of a's eth0 is set down, then up again
up down
id=$(id_of down)
c_ip=$(addr down c b-c)
a_ip=$(addr down a a-b)
b_ip=$(addr down b a-b)
expect "a pings b before" test "$(received down a "$b_ip")" = 3
port=$(root_port down a)
expect "port $port set down" ip -n "vtb$id" link set "$port" down
cpu_idle down "port set down"
status_says down a-b "port $port is down"
expect "b pings c through the other emulated link" test "$(received down b "$c_ip")" = 3
expect "b's echoes to a are lost while the port is down" test "$(received down b "$a_ip")" = 0
expect "port $port set up again" ip -n "vtb$id" link set "$port" up
expect "b pings a once the port is up" test "$(received down b "$a_ip")" = 3
expect "a pings b once the port is up" test "$(received down a "$b_ip")" = 3
expect "status says up again" sh -c \
	"'$VTB' status down --json | jq -e '[.links[] | select(.name == \"a-b\") | .directions[] | .port.state] == [\"up\", \"up\"]' >/dev/null"
cpu_idle down "port up again"
leaves_nothing down "$id"

finish
