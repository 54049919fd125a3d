#!/bin/sh
# Run each cmocka test binary; print a closing "N passed, N failed" line.
pass=0; fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t" >&2; fi
done
echo "unit suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
