#!/bin/bash
# System tests of the relay and of authenticated control (issue 18) on
# three simulated hosts whose etcd wants client certificates: from h1,
# exec on nodes of h2 and h3 (output, error, exit status, input piped
# through, a shell fed by a pipe), link set of a link between h2 and h3
# (the RTT changes), link down/up across hosts, node stop/start of a remote
# node, capture of a remote link counted against pings, status with every
# host's counters; a host without a certificate, or with one of another
# CA, is refused by etcd and by an agent; vtb down leaves nothing on any
# host. Needs root, etcd-server, tcpdump.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh
SIM=scripts/simhosts.sh
S=/var/lib/vtb-sim
ETCD=https://10.99.0.254:2379
# the relay's port (cluster/relay.h: RELAY_PORT)
PORT=7937

if [ -e "$S" ]; then
	not_ok "simulated hosts are not up already" "$S exists: 'scripts/simhosts.sh down' first"
	finish
	exit 1
fi
before=$(vtb_objects)
m=$(mktemp -d /tmp/vtbrelay.XXXXXX)
on_exit "rm -rf $m"
on_exit "$SIM down >/dev/null 2>&1"
on() { h=$1; shift; "$SIM" exec "$h" -- "$@"; }
host_objects() {
	on "$1" sh -c 'ip netns list; ip -o link show | grep -o " vtb[^:@]*"' 2>/dev/null
	find "/sys/fs/cgroup/pids/vtbsim-$1" -name cgroup.procs -exec cat {} + 2>/dev/null |
		xargs -r ps -o pid=,args= -p 2>/dev/null | grep -E "vtb-init|__supervise|qemu"
}
nothing_anywhere() {
	for h in h1 h2 h3; do [ -z "$(host_objects $h)" ] || return 1; done
}

# the cluster's CA, etcd's certificate and the hosts' (h4 is no member);
# a second CA for a stranger
expect "vtb cluster ca" "$VTB" cluster ca --dir "$m/ca"
expect_fail "a second CA in the same directory is refused" 1 "holds a CA already" "$VTB" cluster ca --dir "$m/ca"
expect "etcd's certificate" "$VTB" cluster cert etcd --underlay 10.99.0.254 --ca "$m/ca" -o "$m/ca/etcd.pem"
for i in 1 2 3 4; do
	expect "h$i's certificate" "$VTB" cluster cert h$i --underlay 10.99.0.$i --ca "$m/ca" -o "$m/h$i.pem"
done
"$VTB" cluster ca --dir "$m/other" >/dev/null
"$VTB" cluster cert h4 --underlay 10.99.0.4 --ca "$m/other" -o "$m/h4-other.pem" >/dev/null
if [ "$(stat -c %a "$m/ca/ca.key")" = 600 ] && [ "$(stat -c %a "$m/h1.pem")" = 600 ]; then
	ok "the CA's key and the bundles are mode 0600"
else not_ok "keys are mode 0600" "$(ls -l "$m/ca" "$m")"; fi

expect "up 4 simulated hosts, etcd over https with client certificates" \
	env VTBSIM_ETCD_TLS="$m/ca" "$SIM" up 4
expect_fail "join with h2's bundle on h1 is refused" 1 "issued to 'h2', not to this host 'h1'" \
	on h1 "$VTB" cluster init --etcd "$ETCD" --bundle "$m/h2.pem"
expect "h1: cluster init with its bundle" on h1 "$VTB" cluster init --etcd "$ETCD" --bundle "$m/h1.pem"
for h in h2 h3; do
	expect "$h: cluster join with its bundle" on $h "$VTB" cluster join --etcd "$ETCD" --bundle "$m/$h.pem"
done
if [ "$(on h2 stat -c %a /etc/vtb/host.key)" = 600 ] && on h2 grep -q "^key = /etc/vtb/host.key" /etc/vtb/cluster.conf; then
	ok "the host's key is installed 0600 and named in cluster.conf"
else not_ok "the host's key is installed" "$(on h2 ls -l /etc/vtb; on h2 cat /etc/vtb/cluster.conf)"; fi
expect_fail "https without a certificate is refused by the configuration" 1 "ca, cert and key are missing" \
	on h4 "$VTB" cluster join --etcd "$ETCD"
expect_fail "etcd refuses a host with a certificate of another CA" 2 "etcd refused this host's TLS certificate" \
	on h4 "$VTB" cluster join --etcd "$ETCD" --bundle "$m/h4-other.pem"
out=$(on h4 curl -sS --cacert "$m/ca/ca.crt" -X POST -d '{}' "$ETCD/v3/maintenance/status" 2>&1)
if [ -n "$out" ] && ! printf '%s' "$out" | grep -q '"header"'; then ok "etcd refuses a client without a certificate ($out)"
else not_ok "etcd refuses a client without a certificate" "$out"; fi
for h in h1 h2 h3; do expect "$h: agent" "$SIM" start-agent $h; done
eventually 10 sh -c "'$SIM' exec h1 -- '$VTB' cluster status | grep -q '3 alive'"
if on h2 grep -q "relay listening on 10.99.0.2 port $PORT" /var/lib/vtb/agent.log; then ok "h2's agent listens for the relay"
else not_ok "h2's agent listens for the relay" "$(on h2 cat /var/lib/vtb/agent.log)"; fi

cat >"$m/r.vtb" <<'M'
a = topo.device('a', host == 'h1')
b = topo.device('b', host == 'h2')
c = topo.device('c', host == 'h3')
ab = topo.connect([a, b], name='ab')
ab[a].spec(ip == '10.50.1.1/24')
ab[b].spec(ip == '10.50.1.2/24')
bc = topo.connect([b, c], latency == ms(5), name='bc')
bc[b].spec(ip == '10.50.2.1/24')
bc[c].spec(ip == '10.50.2.2/24')
M
expect "up across three hosts" on h1 "$VTB" up "$m/r.vtb" --name r
x() { on h1 "$VTB" exec r "$@"; }

out=$(x b -- sh -c 'hostname; echo oops >&2; exit 3' 2>"$m/err"); rc=$?
if [ "$out" = b ] && [ "$rc" = 3 ] && grep -q oops "$m/err"; then
	ok "exec from h1 on b (h2): output, error and exit status 3"
else not_ok "exec from h1 on b (h2)" "exit $rc, out '$out', err '$(cat "$m/err")'"; fi
out=$(seq 1 20000 | x c -- wc -l)
if [ "$out" = 20000 ]; then ok "exec on c (h3): 20000 lines of input piped through"
else not_ok "exec on c (h3): input piped through" "'$out'"; fi
out=$(printf 'echo one\nhostname\nexit 7\n' | x c -- sh); rc=$?
if [ "$out" = "one
c" ] && [ "$rc" = 7 ]; then ok "a shell on c fed by a pipe (exit 7)"
else not_ok "a shell on c fed by a pipe" "exit $rc, '$out'"; fi
out=$(on h1 script -qec "$VTB exec r b -- sh -c 'test -t 0 && test -t 1 && echo terminal'" /dev/null </dev/null 2>&1 | tr -d '\r')
if printf '%s' "$out" | grep -q 'terminal'; then ok "exec at a terminal gets a terminal on the other host"
else not_ok "exec at a terminal gets a terminal" "$out"; fi

rtt() { x b -- ping -c 5 -i 0.2 -W 2 10.50.2.2 2>&1 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
r1=$(rtt)
expect "link set from h1 on bc (between h2 and h3)" on h1 "$VTB" link set r bc latency=30ms
r2=$(rtt)
if [ -n "$r1" ] && [ -n "$r2" ] && awk -v a="$r1" -v b="$r2" 'BEGIN { exit !(a >= 8 && a <= 20 && b >= 55 && b <= 75) }'; then
	ok "the RTT across bc went from $r1 ms to $r2 ms (30 ms each way, on each sending host)"
else not_ok "link set changes the RTT" "before '$r1', after '$r2'"; fi
expect "link down of bc from h1" on h1 "$VTB" link down r b c
expect_fail "bc is cut" 1 "100% packet loss" x b -- ping -c 2 -i 0.2 -W 1 10.50.2.2
expect "link up of bc from h1" on h1 "$VTB" link up r b c
# carried again once the neighbour is found anew (its entry failed while
# the link was cut; the kernel probes 3 times a second apart)
t0=$(date +%s)
if eventually 10 x b -- ping -c 1 -W 1 10.50.2.2; then ok "bc carries again ($(($(date +%s) - t0)) s)"
else not_ok "bc carries again" "$(x b -- ping -c 1 -W 1 10.50.2.2 2>&1; x b -- ip neigh 2>&1)"; fi
expect "node stop of c (h3) from h1" on h1 "$VTB" node stop r c
expect_fail "c does not answer while stopped" 1 "100% packet loss" x b -- ping -c 2 -i 0.2 -W 1 10.50.2.2
expect "node start of c from h1" on h1 "$VTB" node start r c
expect "c answers again" x b -- ping -c 1 -W 3 10.50.2.2

# an emulated link is captured where frames leave the emulator: at b on h2
# and at c on h3, merged (the first 3 ICMP frames of requests and replies)
on h1 timeout 30 "$VTB" capture r bc -c 3 -- icmp >"$m/cap.pcap" 2>"$m/cap.err" &
cap=$!
eventually 10 grep -q 'capturing at' "$m/cap.err"
x b -- ping -c 3 -i 0.2 10.50.2.2 >/dev/null
wait $cap; rc=$?
n=$(tcpdump -r "$m/cap.pcap" -n 2>/dev/null | grep -c ICMP)
if [ "$rc" = 0 ] && [ "$n" = 3 ]; then ok "capture of bc from h1: 3 ICMP frames as b and c receive them, merged (| tcpdump -r -)"
else not_ok "capture of a remote link" "exit $rc, $n frames: $(cat "$m/cap.err")"; fi

out=$(on h1 "$VTB" status r --json)
if printf '%s' "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
hosts = {n["name"]: n.get("host") for n in s["nodes"]}
states = {n["name"]: n["state"] for n in s["nodes"]}
assert hosts == {"a": "h1", "b": "h2", "c": "h3"}, hosts
assert "remote" not in states.values(), states
bc = [l for l in s["links"] if l["name"] == "bc"][0]
pk = [d["counters"]["tx_packets"] for d in bc["directions"]]
assert all(p >= 10 for p in pk), pk
c = s["cluster"]
assert c["state"] == "up" and not c["degraded"], c
assert sorted(h["name"] for h in c["hosts"]) == ["h1", "h2", "h3"], c
'; then ok "status r --json from h1: every node from its host, both directions of bc counted on their hosts, the cluster's view"
else not_ok "status with every host's counters" "$out"; fi
out=$(on h1 "$VTB" status r)
if printf '%s' "$out" | grep -q "b -> c: latency 30 ms" && printf '%s' "$out" | grep -q "c -> b: latency 30 ms"; then
	ok "status r from h1 shows each direction as its sending host emulates it"
else not_ok "status r shows both directions" "$out"; fi

# refusals by an agent: no certificate, another CA, a certificate of a
# host that is no member (h4 has one from the cluster's CA)
out=$(on h4 sh -c "printf '' | timeout 10 openssl s_client -quiet -connect 10.99.0.2:$PORT 2>&1")
if printf '%s' "$out" | grep -qi "certificate required\|alert"; then ok "an agent refuses a client without a certificate"
else not_ok "an agent refuses a client without a certificate" "$out"; fi
out=$(on h4 sh -c "printf '' | timeout 10 openssl s_client -quiet -cert $m/h4-other.pem -key $m/h4-other.pem -connect 10.99.0.2:$PORT 2>&1")
if printf '%s' "$out" | grep -qi "unknown ca\|alert"; then ok "an agent refuses a certificate of another CA"
else not_ok "an agent refuses a certificate of another CA" "$out"; fi
cp "$m/h4.pem" "$m/h4-cfg.pem"
on h4 sh -c "mkdir -p /etc/vtb && cp $m/ca/ca.crt /etc/vtb/ca.crt && cp $m/h4.pem /etc/vtb/host.pem &&
	printf 'etcd = $ETCD\nhost = h4\nunderlay = 10.99.0.4\nca = /etc/vtb/ca.crt\ncert = /etc/vtb/host.pem\nkey = /etc/vtb/host.pem\n' >/etc/vtb/cluster.conf"
expect_fail "an agent refuses a host that is no member of the cluster" 2 "host 'h4' .* is not a member of the cluster" \
	on h4 "$VTB" exec r b -- true

out=$(on h3 "$VTB" down r 2>&1)
if printf '%s\n' "$out" | grep -q "removed experiment 'r' .* from 3 hosts"; then ok "down from h3"
else not_ok "down from h3" "$out"; fi
if eventually 5 nothing_anywhere; then ok "nothing left on any host"
else not_ok "nothing left on any host" "$(for h in h1 h2 h3; do echo "$h:"; host_objects $h; done)"; fi
expect "simulated hosts down" "$SIM" down
after=$(vtb_objects)
[ "$before" = "$after" ] && ok "nothing of vtb left on the machine" || not_ok "nothing of vtb left" "$(diff <(echo "$before") <(echo "$after"))"
finish
