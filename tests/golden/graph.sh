#!/bin/sh
# vtb graph on every examples/*.vtb (no root needed): the SVG is written
# and names every device and link; the DOT text parses back (Graphviz's gc)
# with a node per device and per LAN and an edge per point-to-point link
# and per LAN member, counted from the model's XIR; the XIR JSON draws the
# same graph; and the errors (no such file or experiment, an unknown
# extension, an unwritable -o path) exit 1 with a message naming them.
# usage: tests/golden/graph.sh PATH/TO/vtb
set -u
vtb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VTB_STATE_DIR="$tmp/state" # no experiment of this machine is looked at
# the sanitizer build: Graphviz's and the font libraries' own leaks are not
# vtb's (the file says which); full stacks, so that they are recognised
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan-graphviz.supp:fast_unwind_on_malloc=0:print_suppressions=0"
pass=0
fail=0

ok() { pass=$((pass + 1)); }
not_ok() { fail=$((fail + 1)); echo "FAIL: $1"; }

# The XIR JSON (vtb compile --json, indented by two) as lines "node NAME"
# and "link NAME ENDPOINTS".
xir_objects() {
	awk '/^  "nodes": \[/ { sec = "nodes"; next }
	     /^  "links": \[/ { sec = "links"; next }
	     /^  "[a-z]+":/ { sec = "" }
	     function flush() { if (link != "") print "link", link, nep; link = "" }
	     sec == "nodes" && /^      "name": / { gsub(/[",]/, "", $2); print "node", $2 }
	     sec == "links" && /^      "name": / { flush(); gsub(/[",]/, "", $2); link = $2; nep = 0 }
	     sec == "links" && /^          "node": / { nep++ }
	     END { flush() }' "$1"
}

for m in examples/*.vtb; do
	n=$(basename "$m" .vtb)
	if ! "$vtb" compile "$m" --json >"$tmp/$n.json" 2>"$tmp/err"; then
		not_ok "$m does not compile: $(cat "$tmp/err")"
		continue
	fi
	xir_objects "$tmp/$n.json" >"$tmp/$n.objects"
	if "$vtb" graph "$m" -o "$tmp/$n.svg" 2>"$tmp/err" && [ -s "$tmp/$n.svg" ]; then
		ok
	else
		not_ok "vtb graph $m -o $n.svg: $(cat "$tmp/err")"
		continue
	fi
	# every device and link is named in the picture (Graphviz writes '-'
	# as "&#45;" in SVG text)
	sed 's/&#45;/-/g' "$tmp/$n.svg" >"$tmp/$n.text"
	missing=$(awk '{ print $2 }' "$tmp/$n.objects" | while read -r name; do
		grep -q ">$name<" "$tmp/$n.text" || printf ' %s' "$name"
	done)
	if [ -z "$missing" ]; then ok; else not_ok "$m: the SVG does not name$missing"; fi
	# the DOT text parses back with the right numbers of nodes and edges
	want_nodes=$(awk '$1 == "node" || ($1 == "link" && $3 > 2)' "$tmp/$n.objects" | wc -l)
	want_edges=$(awk '$1 == "link" { e += $3 > 2 ? $3 : 1 } END { print e + 0 }' "$tmp/$n.objects")
	if "$vtb" graph "$m" >"$tmp/$n.dot" 2>"$tmp/err" &&
		got_nodes=$(gc -n "$tmp/$n.dot" | awk '{ print $1 }') &&
		got_edges=$(gc -e "$tmp/$n.dot" | awk '{ print $1 }') &&
		[ "$got_nodes" = "$want_nodes" ] && [ "$got_edges" = "$want_edges" ]; then
		ok
	else
		not_ok "$m: the DOT text has ${got_nodes:-?} nodes and ${got_edges:-?} edges, not $want_nodes and $want_edges $(cat "$tmp/err")"
	fi
	# the XIR JSON is a model too, and draws the same graph
	if "$vtb" graph "$tmp/$n.json" >"$tmp/$n.json.dot" 2>"$tmp/err" &&
		cmp -s "$tmp/$n.dot" "$tmp/$n.json.dot"; then
		ok
	else
		not_ok "$m: its XIR JSON draws another graph $(cat "$tmp/err")"
	fi
done

# Emulated links are dashed: demo.vtb's r2-r3, not its direct r1-r2.
# dashed EDGE FILE: whether the attributes of EDGE (on one or more lines) say so
dashed() {
	awk -v e="$1" 'index($0, e) == 2 { in_e = 1 } in_e && /style=dashed/ { f = 1 }
		in_e && /\]/ { in_e = 0 } END { exit !f }' "$2"
}
if dashed "r2 -- r3" "$tmp/demo.dot" && ! dashed "r1 -- r2" "$tmp/demo.dot"; then
	ok
else
	not_ok "demo.vtb: the emulated link r2-r3 is not dashed, or the direct r1-r2 is"
fi

# expect_fail NAME PATTERN CMD...: exit status 1, stderr matching PATTERN
expect_fail() {
	name=$1; pat=$2; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 1 ] && printf '%s' "$out" | grep -Eq -- "$pat"; then
		ok
	else
		not_ok "$name: exit $rc (want 1), output: $out"
	fi
}
expect_fail "a missing file" "no file 'nosuch\.vtb'|'nosuch\.vtb' is neither a model file nor an experiment" \
	"$vtb" graph nosuch.vtb
expect_fail "an unknown extension" "unknown extension '\.jpg' \(use \.svg, \.png, .*\.dot" \
	"$vtb" graph examples/demo.vtb -o "$tmp/x.jpg"
expect_fail "no extension" "no extension" "$vtb" graph examples/demo.vtb -o "$tmp/x"
expect_fail "an unwritable -o path" "cannot write $tmp/no/such/dir/x\.svg: No such file or directory" \
	"$vtb" graph examples/demo.vtb -o "$tmp/no/such/dir/x.svg"
expect_fail "a broken model" "error" "$vtb" graph tests/golden/errors/"$(ls tests/golden/errors | grep '\.vtb$' | head -1)"
expect_fail "no argument" "which model or experiment" "$vtb" graph

echo "graph: $pass passed, $fail failed"
[ "$fail" = 0 ]
