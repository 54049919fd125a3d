#!/bin/sh
# System tests of vtb graph on a running experiment: the picture has the
# realized addresses and, after a ping across an emulated link, that
# link's counters in each direction; a LAN member's direction has its own.
# Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
# the sanitizer build: Graphviz's and the font libraries' own leaks are not
# vtb's (the file says which); full stacks, so that they are recognised
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan-graphviz.supp:fast_unwind_on_malloc=0:print_suppressions=0"
m=$(mktemp -d /tmp/vtbmodels.XXXXXX)
on_exit "rm -rf $m"

# SVG text as written: Graphviz writes '-' as "&#45;" and '>' as "&gt;"
svg_text() { sed 's/&#45;/-/g; s/&gt;/>/g; s/&lt;/</g' "$1"; }

cat >"$m/g.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
d = topo.device('d')
topo.connect([a, b], latency == ms(2))
topo.connect([b, c, d], latency == ms(1), name='lan')
M
expect "up gr" "$VTB" up "$m/g.vtb" --name gr
on_exit "$VTB down gr >/dev/null 2>&1"
expect "ping a -> b across the emulated link" "$VTB" exec gr a -- ping -n -q -c 3 -W 2 10.0.0.2

expect "graph gr -o g.svg" "$VTB" graph gr -o "$m/g.svg"
svg_text "$m/g.svg" >"$m/g.txt"
# "a -> b: packets in N out N, drops 0": at least the 3 echo requests
for dir in "a -> b" "b -> a"; do
	n=$(sed -n "s/.*>$dir: packets in \([0-9]*\) out \([0-9]*\), drops \([0-9]*\).*/\1 \2 \3/p" \
		"$m/g.txt" | head -1)
	set -- $n
	if [ $# = 3 ] && [ "$1" -ge 3 ] && [ "$2" -ge 3 ] && [ "$3" = 0 ]; then
		ok "the picture has $dir's counters: in $1 out $2, drops $3"
	else
		not_ok "the picture has $dir's counters after a ping" "found '$n' in $(grep -c . "$m/g.txt") lines"
	fi
done
expect "the picture has each LAN member's direction" sh -c \
	"grep -q '>b -> lan: packets in' '$m/g.txt' && grep -q '>c -> lan: packets in' '$m/g.txt' &&
	 grep -q '>d -> lan: packets in' '$m/g.txt'"
expect "the picture has the endpoints' addresses" sh -c \
	"grep -q '>10.0.0.1/30<\|>10.0.0.1/24<' '$m/g.txt' && grep -q '>10.0.0.2/30<\|>10.0.0.2/24<' '$m/g.txt'"

# the DOT text: 4 devices and the LAN; a-b and three LAN members
"$VTB" graph gr >"$m/g.dot" 2>"$m/err"
expect "the DOT text parses back with 5 nodes and 4 edges" sh -c \
	"gc -n '$m/g.dot' | grep -q '^ *5 ' && gc -e '$m/g.dot' | grep -q '^ *4 '"
expect "graph gr -o g.png" sh -c "'$VTB' graph gr -o '$m/g.png' && [ -s '$m/g.png' ]"

expect_fail "an unknown experiment" 1 "'nosuch' is neither a model file nor an experiment" \
	"$VTB" graph nosuch
expect_fail "an unwritable -o path" 1 "cannot write $m/none/g.svg" \
	"$VTB" graph gr -o "$m/none/g.svg"
expect "down gr" "$VTB" down gr
expect_fail "a removed experiment" 1 "'gr' is neither a model file nor an experiment" \
	"$VTB" graph gr
finish
