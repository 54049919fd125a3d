#!/bin/sh
# Replay every seed corpus (fuzz/corpus/TARGET/) and every saved crash
# (fuzz/crashes/TARGET/, and fuzz/crashes/*.vtb for compile) through the
# replay builds in DIR (made by `make fuzz-replay`). Exits 1 when one fails.
# usage: fuzz/replay.sh DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
status=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	case $bin in *.d | *.o) continue ;; esac
	t=${bin##*/fuzz_}
	set --
	[ -d "$here/corpus/$t" ] && set -- "$@" "$here/corpus/$t"
	[ -d "$here/crashes/$t" ] && set -- "$@" "$here/crashes/$t"
	if [ "$t" = compile ]; then
		for f in "$here"/crashes/*.vtb; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
	fi
	[ $# -gt 0 ] || continue
	if ! "$bin" "$@"; then
		echo "fuzz-replay: $t FAILED" >&2
		status=1
	fi
done
exit $status
