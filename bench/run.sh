#!/bin/sh
# Run every benchmark (`make bench`). Results go to bench/out/ and the plots
# to docs/img/; docs/benchmarks.md describes the method and the figures.
set -eu
cd "$(dirname "$0")/.."
bench/compile.sh
