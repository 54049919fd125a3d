#!/bin/sh
# test_faults_ident: teardown removes an object only when it is the one the
# experiment made (issue 12: removal proven by what the kernel answered at
# creation, the namespaces' inodes and the log's, recorded in the journal).
# A node's namespace bind and the inits' log are replaced, while the
# experiment is up, by same-named objects someone else made: vtb down says
# so, leaves them and the process in that namespace alone, and removes the
# rest.
cd "$(dirname "$0")/../.."
. tests/system/lib.sh

m=$(mktemp -d /tmp/vtbtest-m.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/two.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
topo.connect([a, b], latency == ms(1))
topo.connect([b, c])
M

before=$(vtb_objects)
expect "up" "$VTB" up "$m/two.vtb" --name ident
on_exit "$VTB down ident >/dev/null 2>&1; $VTB clean >/dev/null 2>&1"
id=$("$VTB" status ident --json | sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' | head -n 1)
ns=vtb$id-a
# someone else's namespace, with a process in it, bound under node a's name
unshare --net sleep 600 &
decoy=$!
on_exit "kill $decoy 2>/dev/null; umount /run/netns/$ns 2>/dev/null; rm -f /run/netns/$ns"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(readlink /proc/$decoy/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
umount /run/netns/$ns
mount --bind /proc/$decoy/ns/net /run/netns/$ns
# and a file of someone else's where the inits' log was
log=$VTB_STATE_DIR/$id.init.log
rm -f "$log"
echo "not vtb's" >"$log"

# two objects under its names are someone else's: the bind and the log
expect_fail "down says what it left alone" 0 "2 objects under its names not made by it, left alone" \
	"$VTB" down ident
if kill -0 $decoy 2>/dev/null; then ok "the process in the other namespace lives"
else not_ok "the process in the other namespace lives" "pid $decoy is gone"; fi
ino=$(stat -L -c %i /proc/$decoy/ns/net)
if [ "$(stat -c %i /run/netns/$ns 2>/dev/null)" = "$ino" ]; then ok "the other namespace stays bound"
else not_ok "the other namespace stays bound" "$(ls -li /run/netns/ | grep "$ns")"; fi
expect "the other file is left as it was" grep -qx "not vtb's" "$log"
if [ -e /run/vtb/uts/$ns ]; then not_ok "node a's own UTS bind is removed" "$(ls -l /run/vtb/uts/$ns)"
else ok "node a's own UTS bind is removed"; fi
expect_fail "the experiment is gone" 1 "no experiment named" "$VTB" status ident
kill $decoy 2>/dev/null
umount /run/netns/$ns && rm -f /run/netns/$ns
after=$(vtb_objects)
if [ "$before" = "$after" ]; then ok "nothing left"; else not_ok "nothing left" "$after"; fi
finish
