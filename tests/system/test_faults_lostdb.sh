#!/bin/sh
# test_faults_lostdb: a lost database never forgets running experiments
# (issue 12, finding 3). vtb.db removed or emptied while experiments are up:
# every command says so, and vtb clean removes exactly what they created,
# supervisor included, while an experiment the new database knows stays.
cd "$(dirname "$0")/../.."
. tests/system/lib.sh

m=$(mktemp -d /tmp/vtbtest-m.XXXXXX)
on_exit "rm -rf $m"
cat >"$m/lan.vtb" <<'M'
a = topo.device('a')
b = topo.device('b')
c = topo.device('c')
topo.connect([a, b, c])
topo.connect([a, b], latency == ms(1))
M

before=$(vtb_objects)
for how in removed emptied; do
	expect "up ($how)" "$VTB" up "$m/lan.vtb" --name lost
	on_exit "$VTB down lost >/dev/null 2>&1; $VTB clean >/dev/null 2>&1"
	id=$("$VTB" status lost --json | sed -n 's/.*"id": *"\([0-9a-f]*\)".*/\1/p' | head -n 1)
	spid=$("$VTB" status lost --json | awk -F'[:,]' '/"pid"/{gsub(/ /,"",$2); print $2; exit}')
	if [ $how = removed ]; then rm -f "$VTB_STATE_DIR"/vtb.db*; else : >"$VTB_STATE_DIR/vtb.db"; rm -f "$VTB_STATE_DIR"/vtb.db-*; fi
	expect_fail "status says the database lost $id ($how)" 0 "does not know experiment id $id" "$VTB" status
	# an experiment the new database knows is left alone by the clean
	expect "another experiment up ($how)" "$VTB" up "$m/lan.vtb" --name kept
	expect_fail "clean removes the lost one ($how)" 0 "lost-$id" "$VTB" clean
	# gone, or a zombie nobody reaps (PID 1 here does not): not running
	st=$(awk '{ print $3 }' "/proc/$spid/stat" 2>/dev/null || echo gone)
	if [ "$st" = gone ] || [ "$st" = Z ]; then ok "its supervisor is gone ($how)"
	else not_ok "its supervisor is gone ($how)" "pid $spid is in state $st"; fi
	left=$(vtb_objects | grep "vtb$id" || true)
	if [ -z "$left" ]; then ok "nothing of $id is left ($how)"; else not_ok "nothing of $id is left ($how)" "$left"; fi
	if ls "$VTB_STATE_DIR/$id".* >/dev/null 2>&1; then not_ok "its files are gone ($how)" "$(ls "$VTB_STATE_DIR")"
	else ok "its files are gone ($how)"; fi
	expect "the other experiment still answers ($how)" "$VTB" exec kept a -- ping -c 1 -W 2 10.0.1.2
	expect "down the other ($how)" "$VTB" down kept
done
after=$(vtb_objects)
if [ "$before" = "$after" ]; then ok "nothing left"; else not_ok "nothing left" "$after"; fi
finish
