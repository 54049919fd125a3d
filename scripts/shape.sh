#!/bin/sh
# shape.sh: the size rules of vtb's C (docs: ../shared STYLE, issue 10):
# no source file over MAX_FILE_LINES lines, no function over MAX_FUNC_LINES.
# Checks the given files, or every .c and .h file of the production folders.
# Prints each file and function over its limit and exits 1 when there is
# one, 0 when there is none (2 on a usage error). POSIX sh and awk only.
#
# A function is what the house style makes of one: a line that starts at
# column 0 with a letter or '_' and ends with ')' (the signature's last
# line), followed by a line that is exactly '{', up to the next line that is
# exactly '}'. Its length is the count from the signature line to the '}'.
#
# usage: scripts/shape.sh [FILE...]
set -eu

# A file a reader can hold in their head, a function that fits on a screen
# or two (wireguard-tools' 132-line kernel_set_device is the example to
# avoid).
MAX_FILE_LINES=800
MAX_FUNC_LINES=100
DIRS="lib xir model compile realize materialize state exec cli emu vm cluster"

if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.."
	# shellcheck disable=SC2086
	set -- $(find $DIRS -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
fi
for f in "$@"; do
	if [ ! -f "$f" ]; then
		echo "shape.sh: no such file: $f" >&2
		exit 2
	fi
done

awk -v max_file="$MAX_FILE_LINES" -v max_func="$MAX_FUNC_LINES" '
function file_done() {
	if (file != "" && lines > max_file) {
		printf "%s: %d lines (a file may have %d)\n", file, lines, max_file
		bad++
	}
}
FNR == 1 {
	file_done()
	file = FILENAME; start = 0; sig_line = 0; sig = ""
}
{
	lines = FNR
	sub(/\r$/, "")
	if (start == 0 && $0 == "{" && sig_line == FNR - 1) {
		start = sig_line
	} else if (start != 0 && $0 == "}") {
		if (FNR - start > max_func) {
			printf "%s:%d: function of %d lines (a function may have %d): %s\n",
			       file, start, FNR - start, max_func, sig
			bad++
		}
		start = 0
	}
	if (start == 0 && $0 ~ /^[A-Za-z_].*\)[ \t]*$/) {
		sig_line = FNR
		sig = $0
	}
}
END {
	file_done()
	if (bad) {
		printf "shape.sh: %d over the limits (files %d lines, functions %d lines)\n",
		       bad, max_file, max_func
		exit 1
	}
}
' "$@"
