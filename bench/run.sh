#!/bin/sh
# Run every benchmark (`make bench`). Results go to bench/out/ and the plots
# to docs/img/; docs/benchmarks.md describes the method and the figures.
# Needs root (the bring-up and task benchmarks build real experiments).
set -eu
cd "$(dirname "$0")/.."
bench/compile.sh
bench/up.sh       # Mininet, ip -batch, 1000 nodes
bench/tasks.sh    # the task barrier across 100 nodes
bench/link.sh     # the link emulator: pps, chain, delay, rate, isolation
bench/vm.sh       # VM boot to ready against bare QEMU; eight at once
