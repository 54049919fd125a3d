#!/bin/bash
# System test of certificate revocation (issue 18) on three simulated
# hosts whose etcd wants client certificates and reads the CA's
# revocation list: vtb cluster revoke h3 on h1 (the CA's host here) makes
# etcd refuse h3's new connections and every agent refuse h3 in the relay
# (h3 connecting, and h1 connecting to h3), while h1 and h2 keep working
# with each other; a new certificate for h3 (vtb cluster cert, then join
# --bundle) brings it back. Needs root, etcd-server, openssl.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/simlib.sh
ETCD=https://10.99.0.254:2379
# the relay's port (cluster/relay.h: RELAY_PORT)
PORT=7937

m=$(mktemp -d /tmp/vtbrevoke.XXXXXX)
on_exit "rm -rf $m"
chmod 755 "$m"
expect "vtb cluster ca" "$VTB" cluster ca --dir "$m/ca"
if [ -s "$m/ca/crl.der" ] && openssl crl -inform DER -in "$m/ca/crl.der" -noout -text | grep -q "No Revoked Certificates"; then
	ok "the CA comes with an empty revocation list"
else not_ok "the CA comes with an empty revocation list" "$(ls -l "$m/ca")"; fi
expect "etcd's certificate" "$VTB" cluster cert etcd --underlay 10.99.0.254 --ca "$m/ca" -o "$m/ca/etcd.pem"
for i in 1 2 3; do
	expect "h$i's certificate" "$VTB" cluster cert h$i --underlay 10.99.0.$i --ca "$m/ca" -o "$m/h$i.pem"
done
export VTBSIM_ETCD_TLS="$m/ca"
sim_start 3
unset VTBSIM_ETCD_TLS
expect "h1: cluster init with its bundle" on h1 "$VTB" cluster init --etcd "$ETCD" --bundle "$m/h1.pem"
for h in h2 h3; do
	expect "$h: cluster join with its bundle" on $h "$VTB" cluster join --etcd "$ETCD" --bundle "$m/$h.pem"
done
for h in h1 h2 h3; do expect "$h: agent" "$SIM" start-agent $h; done
if eventually "$SIM_ALIVE_S" sim_alive h1 3; then ok "3 hosts alive"
else not_ok "3 hosts alive" "$(on h1 "$VTB" cluster status 2>&1)"; fi

cat >"$m/r.vtb" <<'M'
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h3')
topo.connect([a, b], name='ab')
topo.connect([b, c], name='bc')
M
expect "up r across h1, h2, h3" on h1 "$VTB" up "$m/r.vtb"
expect "before: h1 runs a command on h3's node" on h1 "$VTB" exec r c -- true
expect "before: h3 runs a command on h1's node" on h3 "$VTB" exec r a -- true

# revoke h3 (h1 holds the CA here: the list is published in etcd)
out=$(on h1 "$VTB" cluster revoke h3 --ca "$m/ca" 2>&1)
if printf '%s' "$out" | grep -q "'h3': 1 certificate revoked; revocation list number 2" &&
	printf '%s' "$out" | grep -q "published in etcd"; then ok "h1: cluster revoke h3 ($(printf '%s' "$out" | head -1))"
else not_ok "h1: cluster revoke h3" "$out"; fi
out=$(on h1 "$VTB" cluster revoke h3 --ca "$m/ca" 2>&1)
if printf '%s' "$out" | grep -q "0 certificates revoked (all were already); revocation list number 2"; then ok "revoking h3 again changes nothing"
else not_ok "revoking h3 again changes nothing" "$out"; fi
expect_fail "revoking a name the CA never issued to is refused" 1 "no certificate issued to 'h9'" \
	on h1 "$VTB" cluster revoke h9 --ca "$m/ca"

# etcd refuses h3's new connections
expect_fail "etcd refuses h3 (a new connection)" 2 "it refuses this host's certificate, which its revocation list names" \
	on h3 "$VTB" cluster status
expect_fail "etcd refuses h3's old bundle at join" 2 "which its revocation list names" \
	on h3 "$VTB" cluster join --etcd "$ETCD" --bundle "$m/h3.pem"
if grep -q "revoked" "$S/etcd.log"; then ok "etcd's log says why it refused h3"
else not_ok "etcd's log says why it refused h3" "$(tail -5 "$S/etcd.log")"; fi

# the relay: an agent refuses h3; h1 refuses h3's agent
out=$(on h3 sh -c "printf '' | timeout 10 openssl s_client -quiet -cert /etc/vtb/host.crt -key /etc/vtb/host.key -CAfile /etc/vtb/ca.crt -connect 10.99.0.1:$PORT 2>&1")
if printf '%s' "$out" | grep -qi "alert certificate revoked"; then ok "h1's agent refuses h3's certificate in the handshake"
else not_ok "h1's agent refuses h3's certificate in the handshake" "$out"; fi
if eventually 5 on h1 grep -q "the peer's certificate is revoked" /var/lib/vtb/agent.log; then ok "h1's agent log says why"
else not_ok "h1's agent log says why" "$(on h1 tail -5 /var/lib/vtb/agent.log)"; fi
expect_fail "h1 refuses h3's agent: exec on h3's node" 2 "exec on host 'h3': the peer's certificate is revoked" \
	on h1 "$VTB" exec r c -- true
expect_fail "h2 refuses h3's agent: link down of b-c" 2 "host 'h3': the peer's certificate is revoked" \
	on h2 "$VTB" link down r bc
if on h2 cmp -s /etc/vtb/crl.der "$m/ca/crl.der"; then ok "h2's copy of the list is the CA's"
else not_ok "h2's copy of the list is the CA's" "$(on h2 ls -l /etc/vtb)"; fi

# h1 and h2 still work with each other
out=$(on h1 "$VTB" exec r b -- echo from-b 2>&1)
if [ "$out" = from-b ]; then ok "h1 -> h2 still works"
else not_ok "h1 -> h2 still works" "$out"; fi
out=$(on h2 "$VTB" exec r a -- echo from-a 2>&1)
if [ "$out" = from-a ]; then ok "h2 -> h1 still works"
else not_ok "h2 -> h1 still works" "$out"; fi
# h3's agent keeps the connection to etcd it had before the revocation
# (etcd checks the list at each new connection only): said, not checked
out=$(on h1 "$VTB" cluster status 2>&1)
ok "h1: cluster status works (h3's agent: $(printf '%s\n' "$out" | grep ' h3 ' | sed 's/.*  //'))"

# a new certificate brings h3 back
expect "a new certificate for h3" "$VTB" cluster cert h3 --underlay 10.99.0.3 --ca "$m/ca" -o "$m/h3-new.pem"
expect "h3: join again with its new bundle" on h3 "$VTB" cluster join --etcd "$ETCD" --bundle "$m/h3-new.pem"
out=$(on h1 "$VTB" exec r c -- echo from-c 2>&1)
if [ "$out" = from-c ]; then ok "h1 -> h3 works again"
else not_ok "h1 -> h3 works again" "$out"; fi
out=$(on h3 "$VTB" exec r a -- echo from-a 2>&1)
if [ "$out" = from-a ]; then ok "h3 -> h1 works again"
else not_ok "h3 -> h1 works again" "$out"; fi

out=$(on h1 "$VTB" down r 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'r' .* from 3 hosts"; then ok "down r from h1"
else not_ok "down r from h1" "$out"; fi
if eventually 5 sh -c 'for h in h1 h2 h3; do [ -z "$(scripts/simhosts.sh exec $h -- sh -c "ip netns list; ip -o link show | grep -o \" vtb[^:@]*\"" 2>/dev/null)" ] || exit 1; done'; then
	ok "nothing left on any host"
else not_ok "nothing left on any host" "$(for h in h1 h2 h3; do echo "$h:"; host_objects $h; done)"; fi
sim_finish
