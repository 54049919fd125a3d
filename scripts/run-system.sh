#!/bin/sh
# Run the system tests: cmocka binaries given as arguments, then every
# tests/system/test_*.sh. They need root; VTB names the vtb binary to test.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "system tests need root (real namespaces and links): run make check as root" >&2
	exit 1
fi
pass=0; fail=0
for t in "$@" tests/system/test_*.sh; do
	[ -e "$t" ] || continue
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t" >&2; fi
done
echo "system suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
