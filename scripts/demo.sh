#!/bin/sh
# The demo: compile the examples, then bring a real experiment up, ping
# across it, show its status, and take it down again.
set -eu
cd "$(dirname "$0")/.."
VTB=./vtb
for m in examples/*.vtb; do
	printf '==> vtb compile %s: ' "$m"
	$VTB compile "$m" | head -1
done
echo
if [ "$(id -u)" != 0 ]; then
	echo "the rest of the demo builds real namespaces and links: run make demo as root" >&2
	exit 1
fi
# a demo left over from an interrupted run goes first
$VTB down demo >/dev/null 2>&1 || true
echo "==> vtb up examples/demo.vtb"
$VTB up examples/demo.vtb
trap '$VTB down demo' EXIT
echo
echo "==> vtb status demo"
$VTB status demo
echo
echo "==> vtb exec demo pc1 -- ping -c 5 192.168.50.10   (pc1 -> r1 -> r2 (a VM) -> r3 -> srv1, about 20 ms;"
echo "    the first echo also waits for neighbour discovery on every hop, one in an emulated VM)"
$VTB exec demo pc1 -- ping -c 5 -i 0.2 192.168.50.10
echo
echo "==> vtb exec demo r2 -- uname -a   (the VM, over its serial console)"
$VTB exec demo r2 -- uname -a
echo
echo "==> vtb link set demo r2 r3 latency=50ms   (at once, no restart)"
$VTB link set demo r2 r3 latency=50ms
$VTB exec demo pc1 -- ping -c 2 -i 0.2 192.168.50.10
echo
echo "==> vtb exec demo srv1 -- ip route"
$VTB exec demo srv1 -- ip route
echo
echo "==> vtb run demo   (the model's tasks, in lock-step)"
$VTB run demo
echo
echo "==> vtb down demo"
trap - EXIT
$VTB down demo
