#!/bin/sh
# The demo: compile every example and show what each would build. (Later
# stages bring a real experiment up, ping across it and take it down.)
set -eu
cd "$(dirname "$0")/.."
for m in examples/*.vtb; do
	echo "==> vtb compile $m"
	./vtb compile "$m"
	echo
done
echo "==> a model with mistakes, to show the checks:"
echo "    vtb compile tests/golden/errors/contradiction.vtb"
./vtb compile tests/golden/errors/contradiction.vtb || echo "(exit status $? — a user error, as expected)"
