# lib.sh: helpers for the system tests (sourced). Each test file runs with
# its own state directory and removes what it made itself on exit.
set -u
VTB=${VTB:-$(pwd)/vtb}
export VTB_STATE_DIR=$(mktemp -d /tmp/vtbtest.XXXXXX)
pass=0
fail=0
cleanup_cmds=""

on_exit() { cleanup_cmds="$1
$cleanup_cmds"; }
run_cleanup() {
	eval "$cleanup_cmds"
	# a suite that failed midway may have left an experiment up: take it
	# down while its state directory (its journal) is still there, or its
	# supervisor and nodes outlive the suite and every later suite sees them
	for e in $("$VTB" status 2>/dev/null | tail -n +2 | awk '{ print $1 }'); do
		"$VTB" down "$e" >/dev/null 2>&1 || true
	done
	"$VTB" clean >/dev/null 2>&1 || true
	rm -rf "$VTB_STATE_DIR"
}
trap run_cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
not_ok() { fail=$((fail + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /'; }

# expect NAME CMD...: the command must succeed
expect() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
# expect_fail NAME STATUS PATTERN CMD...: exit status STATUS, output matching PATTERN
expect_fail() {
	name=$1; want=$2; pat=$3; shift 3
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -Eq -- "$pat"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc (want $want), output: $out"
	fi
}

# The vtb objects of this machine: namespaces (and the nodes' UTS binds)
# and root links named vtb*, and experiments' cgroups (vtb<id> in a cgroup
# hierarchy, docs/limits.md).
vtb_objects() {
	{ ls /run/netns 2>/dev/null | grep '^vtb' | sed 's/^/netns /'
	  ls /run/vtb/uts 2>/dev/null | grep '^vtb' | sed 's/^/uts /'
	  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^vtb' | sed 's/^/link /'
	  find /sys/fs/cgroup -maxdepth 6 -type d -regex '.*/vtb[0-9a-f]+' 2>/dev/null | sed 's/^/cgroup /'
	} | sort
}

# What was there before this suite began: a suite answers for what it made
# (vtb_new_objects); what it found is named once by scripts/run-system.sh,
# so that one killed run does not fail every later suite.
vtb_objects_before=$(vtb_objects)
vtb_new_objects() {
	if [ -z "$vtb_objects_before" ]; then
		vtb_objects
	else
		vtb_objects | grep -vxF -e "$vtb_objects_before" || true
	fi
}

# wait_gone PID SECONDS: wait until process PID has ended (a zombie has),
# at most SECONDS; 0 when it has. An event wait, not a sleep loop: the
# kernel makes a pidfd readable when its process exits (perl-base is in
# every Debian; 434 is pidfd_open on every Linux architecture but alpha).
wait_gone() {
	perl -e 'my ($pid, $secs) = @ARGV;
		my $fd = syscall(434, $pid + 0, 0);
		exit 0 if $fd < 0; # no such process: gone already
		my $r = ""; vec($r, $fd, 1) = 1;
		exit(select($r, undef, undef, $secs) > 0 ? 0 : 1)' "$1" "$2"
}

# eventually SECONDS CMD...: CMD succeeds within SECONDS (tried once a second:
# a routing protocol's state has no event a shell can wait on)
eventually() {
	_secs=$1; shift
	_i=0
	while [ "$_i" -lt "$_secs" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}

finish() {
	echo "$(basename "$0"): $pass passed, $fail failed"
	[ "$fail" = 0 ]
}
