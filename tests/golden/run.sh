#!/bin/sh
# Golden tests: every examples/*.vtb compiles to tests/golden/examples/*.json
# (and that JSON, read back, prints the same again); every broken model in
# tests/golden/errors/*.vtb fails with exit status 1 and exactly the messages
# in its .err file, and every model in tests/golden/warnings/*.vtb compiles
# (exit status 0) with exactly the warnings in its .err file. UPDATE=1 rewrites the expected files.
# usage: tests/golden/run.sh PATH/TO/vtb
set -u
vtb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

check() { # name expected actual
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$3" "$2"
	fi
	if cmp -s "$2" "$3"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $1"
		diff -u "$2" "$3" | head -40
	fi
}

for m in examples/*.vtb; do
	n=$(basename "$m" .vtb)
	"$vtb" compile "$m" --json >"$tmp/$n.json" 2>"$tmp/$n.stderr"
	rc=$?
	if [ $rc != 0 ]; then
		fail=$((fail + 1))
		echo "FAIL: $m exited $rc"
		cat "$tmp/$n.stderr"
		continue
	fi
	check "$m" "tests/golden/examples/$n.json" "$tmp/$n.json"
	# the JSON form reads back and prints the same document
	"$vtb" compile "$tmp/$n.json" --json >"$tmp/$n.again.json" 2>"$tmp/$n.again.err" ||
		cat "$tmp/$n.again.err" >>"$tmp/$n.again.json"
	check "$m (JSON round trip)" "$tmp/$n.json" "$tmp/$n.again.json"
done

for m in tests/golden/errors/*.vtb; do
	n=${m%.vtb}
	"$vtb" compile "$m" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc != 1 ]; then
		fail=$((fail + 1))
		echo "FAIL: $m exited $rc, not 1"
		continue
	fi
	check "$m" "$n.err" "$tmp/err"
done

# models that compile with warnings (exit 0): exactly the messages in .err
for m in tests/golden/warnings/*.vtb; do
	n=${m%.vtb}
	"$vtb" compile "$m" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc != 0 ]; then
		fail=$((fail + 1))
		echo "FAIL: $m exited $rc, not 0"
		continue
	fi
	check "$m" "$n.err" "$tmp/err"
done

# every command and subcommand answers --help (and -h) with its usage, exit 0
for c in compile up status exec run results link "link set" "link down" "link up" capture node \
	"node set" "node stop" "node start" "node restart" graph image "image build" down clean; do
	for h in --help -h; do
		# shellcheck disable=SC2086
		out=$("$vtb" $c $h 2>&1)
		rc=$?
		if [ $rc = 0 ] && printf '%s' "$out" | grep -q '^usage: vtb '; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL: vtb $c $h exited $rc: $out"
		fi
	done
done

# vtb graph on every example (its own script: it prints its own count)
tests/golden/graph.sh "$vtb" || fail=$((fail + 1))

echo "golden: $pass passed, $fail failed"
[ "$fail" = 0 ]
