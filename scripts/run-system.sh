#!/bin/sh
# Run the system tests: cmocka binaries given as arguments, then every
# tests/system/test_*.sh. They need root; VTB names the vtb binary to test.
# A suite fails when it fails, and also when it skipped a test: as root,
# with CI able to reach Debian's packages, a skip means that something a
# test needs is missing, and a suite that skips proves nothing.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "system tests need root (real namespaces and links): run make check as root" >&2
	exit 1
fi
# vtb namespaces this run did not make (an earlier run killed half-way, an
# experiment somebody left up): named once here; each suite checks only
# what it made itself (tests/system/lib.sh: vtb_new_objects).
found=$(ls /run/netns 2>/dev/null | grep '^vtb' | tr '\n' ' ')
if [ -n "$found" ]; then
	echo "system tests: vtb namespaces present before the tests (not theirs, left alone): $found" >&2
fi
log=$(mktemp /tmp/vtb-system-log.XXXXXX)
trap 'rm -f "$log" "$log.rc"' EXIT
pass=0; fail=0
for t in "$@" tests/system/test_*.sh; do
	[ -e "$t" ] || continue
	: >"$log"
	case $t in
	*.sh)	# lib.sh has no way to skip; straight to the terminal, so that
		# nothing a suite leaves running can hold a pipe open
		"$t"; rc=$? ;;
	*)	# a cmocka binary: to the terminal as it comes, and to the log
		{ "$t" 2>&1; echo $? >"$log.rc"; } | tee "$log"
		rc=$(cat "$log.rc") ;;
	esac
	if grep -q '^\[  SKIPPED \]' "$log"; then
		echo "FAILED: $t skipped tests (see the SKIPPED lines above)" >&2
		fail=$((fail + 1))
	elif [ "$rc" = 0 ]; then
		pass=$((pass + 1))
	else
		echo "FAILED: $t (exit status $rc)" >&2
		fail=$((fail + 1))
	fi
done
echo "system suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
