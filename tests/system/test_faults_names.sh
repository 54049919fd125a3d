#!/bin/sh
# System tests of issue 12 finding 6: names from XIR JSON pass the model
# language's rule (a bad one is refused at compile time, exit 1, the message
# naming the file and the object, nothing recorded, nothing made); what vtb
# prints from user input is escaped; realization refuses an experiment the
# host's memory cannot hold before anything is created. Needs root.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
m=$(mktemp -d /tmp/vtbnames.XXXXXX)
on_exit "rm -rf $m"
esc=$(printf '\033')

before=$(vtb_objects)

# nothing_left WHAT: status lists nothing, clean has nothing to do, no object was made
nothing_left() {
	st=$("$VTB" status 2>&1)
	if [ "$(printf '%s\n' "$st" | wc -l)" = 1 ]; then ok "$1: status lists nothing"; else
		not_ok "$1: status lists nothing" "$st"; fi
	expect_fail "$1: clean has nothing to do" 0 '^nothing to clean' "$VTB" clean
	if [ "$(vtb_objects)" = "$before" ]; then ok "$1: no object made"; else
		not_ok "$1: no object made" "$(vtb_objects)"; fi
}

# doc KIND NAME: a JSON document (NAME is JSON string text) whose device
# (KIND node), link or task has that name
doc() {
	case $1 in
	node) n=$2; l=null; t='"t"' ;;
	link) n='"a"'; l=$2; t='"t"' ;;
	task) n='"a"'; l=null; t=$2 ;;
	esac
	cat <<EOD
{"version": 1, "name": "bad", "nodes": [{"name": $n}, {"name": "b"}],
 "links": [{"name": $l, "endpoints": [{"node": $n}, {"node": "b"}]}],
 "tasks": [{"name": $t, "commands": [{"node": $n, "cmd": "true"}]}]}
EOD
}

# bad KIND JSON_NAME SHOWN WHY: vtb up refuses it, naming the object and the file
bad() {
	i=$((i + 1))
	doc "$1" "$2" >"$m/j$i.json"
	case $1 in node) what=device ;; *) what=$1 ;; esac
	label="$what '$(printf '%s' "$3" | tr '\\' '^')'" # echo would read the backslashes
	out=$("$VTB" up "$m/j$i.json" 2>&1); rc=$?
	want="$m/j$i.json: error: $what '$3' is not a valid name: $4"
	if [ $rc = 1 ] && printf '%s\n' "$out" | grep -Fq -- "$want"; then
		ok "up refuses $label"
	else
		not_ok "up refuses $label" "exit $rc (want 1), want \"$want\" in: $out"
	fi
	case $out in *"$esc"*) not_ok "$label: printed escaped" "$out" ;; esac
	nothing_left "$label"
}

i=0
bad node '"../../../tmp/x"' '../../../tmp/x' "it starts with '.'"
bad node '"a/b"' 'a/b' "'/' is not allowed"
bad node "\"\$(touch $m/pwned)\"" "\$(touch $m/pwned)" "'\$' is not allowed"
bad node '".."' '..' "it starts with '.'"
bad node '"."' '.' "it starts with '.'"
bad node '"a b"' 'a b' 'a space is not allowed'
bad node '""' '' 'it is empty'
bad node '"nl\nx"' 'nl\nx' "'\\n' is not allowed"
bad link '"l\u001b[31mred"' 'l\x1b[31mred' "'\\x1b' is not allowed"
bad link '"a b"' 'a b' 'a space is not allowed'
bad task '"t\u001b]0;title\u0007"' 't\x1b]0;title\x07' "'\\x1b' is not allowed"
bad task '"nl\nx"' 'nl\nx' "'\\n' is not allowed"
if [ -e "$m/pwned" ]; then not_ok "no command ran from a name"; else ok "no command ran from a name"; fi

# escaping: a model path and a command with escape sequences, shown escaped
printf '%s\n' "a = topo.device('a')" "b = topo.device('b')" "topo.connect([a, b])" \
	"task('t', run(a, 'false # ' + str(1)))" >"$m/x${esc}[31m.vtb"
out=$("$VTB" up "$m/x${esc}[31m.vtb" --name esc 2>&1)
if [ $? = 0 ]; then
	on_exit "$VTB down esc >/dev/null 2>&1"
	ok "up of a model whose path has ESC"
	out=$("$VTB" status 2>&1)
	case $out in
	*"$esc"*) not_ok "status escapes the model path" "$out" ;;
	*'x\x1b[31m.vtb'*) ok "status escapes the model path" ;;
	*) not_ok "status escapes the model path" "$out" ;;
	esac
	expect "down esc" "$VTB" down esc
else
	not_ok "up of a model whose path has ESC" "$out"
fi
cat >"$m/cmd.json" <<'EOD'
{"version": 1, "name": "cmd", "nodes": [{"name": "a"}, {"name": "b"}],
 "links": [{"endpoints": [{"node": "a"}, {"node": "b"}]}],
 "tasks": [{"name": "t", "commands": [{"node": "a", "cmd": "echo '\u001b[2J'; false"}]}]}
EOD
expect "up cmd.json" "$VTB" up "$m/cmd.json"
on_exit "$VTB down cmd >/dev/null 2>&1"
out=$("$VTB" run cmd 2>&1)
case $out in
*"task 't' failed: node 'a' command 'echo '\x1b[2J'; false' exited 1"*) ok "run escapes the command" ;;
*) not_ok "run escapes the command" "$out" ;;
esac
expect "down cmd" "$VTB" down cmd

# memory: 100,000 containers do not fit in this host's memory
avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ "$avail" -gt $((100000 * 448 + 512 * 1024)) ]; then
	echo "skip - this host has ${avail} kB available: 100000 containers fit"
else
	awk 'BEGIN { n = 100000
		printf "{\"version\": 1, \"name\": \"big\", \"nodes\": ["
		for (i = 0; i < n; i++) printf "%s{\"name\": \"n%d\"}", i ? "," : "", i
		printf "], \"links\": ["
		for (i = 0; i + 1 < n; i++) printf "%s{\"endpoints\": [{\"node\": \"n%d\"}, {\"node\": \"n%d\"}]}", i ? "," : "", i, i + 1
		print "]}" }' >"$m/big.json"
	expect_fail "up of 100000 nodes refused by realization" 1 \
		'big.json: error: 100000 containers need about 42\.7 GiB of kernel memory; this host has [0-9.]+ GiB available' \
		"$VTB" up "$m/big.json"
	nothing_left "100000 nodes"
fi

finish
