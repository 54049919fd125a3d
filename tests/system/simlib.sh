# simlib.sh: the preamble of the system tests on simulated hosts
# (scripts/simhosts.sh), sourced after cd to the tree's top; it sources
# lib.sh. What it gives:
#   sim_start N          N simulated hosts (and etcd: ETCD_MEMBERS=3 for
#                        three members), removed on exit; the test ends
#                        at once when they cannot be made or are up
#                        already
#   sim_cluster N        cluster init on h1, join on h2..hN, every agent
#                        started, and N hosts alive
#   on HOST CMD...       CMD on HOST (scripts/simhosts.sh exec)
#   etcd_keys PREFIX     the keys under PREFIX in etcd (etcdctl)
#   host_objects HOST    what vtb made on HOST: namespaces, links, and
#                        its inits, supervisors and QEMUs
#   nothing_anywhere     no vtb object on any host, no /vtb/exp key
#   sim_finish           the hosts down, nothing of vtb left on the
#                        machine, /var/lib/vtb-sim gone; then finish
# ETCD is the endpoints' list once sim_start made them.
. tests/system/lib.sh
SIM=scripts/simhosts.sh
S=/var/lib/vtb-sim
ETCD=http://10.99.0.254:2379
SIM_HOSTS=""
# a host whose agent started is alive as soon as it has registered (a few
# ms); 10 s for a machine busy with other tests and the sanitizer build
SIM_ALIVE_S=10

on() { h=$1; shift; VTB="$VTB" "$SIM" exec "$h" -- "$@"; }

sim_start() {
	if [ -e "$S" ]; then
		not_ok "simulated hosts are not up already" "$S exists: 'scripts/simhosts.sh down' first"
		finish
		exit 1
	fi
	sim_before=$(vtb_objects)
	on_exit "$SIM down >/dev/null 2>&1"
	if ! out=$(VTB="$VTB" "$SIM" up "$1" 2>&1); then
		not_ok "up $1 simulated hosts" "$out"
		finish
		exit 1
	fi
	ok "up $1 simulated hosts"
	ETCD=$(cat "$S/etcd.endpoints" 2>/dev/null || echo "$ETCD")
	SIM_HOSTS=$(seq -f 'h%g' 1 "$1" | tr '\n' ' ')
}

# sim_alive HOST N: HOST's cluster status counts N hosts alive
sim_alive() { [ "$(on "$1" "$VTB" cluster status | grep -c "alive since")" = "$2" ]; }

sim_cluster() {
	expect "h1: cluster init" on h1 "$VTB" cluster init --etcd "$ETCD"
	for h in $(seq -f 'h%g' 2 "$1"); do expect "$h: cluster join" on "$h" "$VTB" cluster join --etcd "$ETCD"; done
	for h in $(seq -f 'h%g' 1 "$1"); do expect "$h: agent started" "$SIM" start-agent "$h"; done
	if eventually "$SIM_ALIVE_S" sim_alive h1 "$1"; then ok "$1 hosts alive"
	else not_ok "$1 hosts alive" "$(on h1 "$VTB" cluster status 2>&1)"; fi
}

# sim_cluster_tls N DIR: sim_cluster with etcd over https and client
# certificates, so that the relay runs: the cluster's CA in DIR/ca (etcd's
# certificate in it), each host's in DIR/hI.pem, joined with --bundle
sim_cluster_tls() {
	SIM_TLS=$2
	"$VTB" cluster ca --dir "$2/ca" >/dev/null
	"$VTB" cluster cert etcd --underlay 10.99.0.254 --ca "$2/ca" -o "$2/ca/etcd.pem" >/dev/null
	for i in $(seq 1 "$1"); do
		"$VTB" cluster cert "h$i" --underlay "10.99.0.$i" --ca "$2/ca" -o "$2/h$i.pem" >/dev/null
	done
	VTBSIM_ETCD_TLS="$2/ca" sim_start "$1"
	unset VTBSIM_ETCD_TLS
	ETCD=https://10.99.0.254:2379
	expect "h1: cluster init" on h1 "$VTB" cluster init --etcd "$ETCD" --bundle "$2/h1.pem"
	for h in $(seq -f 'h%g' 2 "$1"); do
		expect "$h: cluster join" on "$h" "$VTB" cluster join --etcd "$ETCD" --bundle "$2/$h.pem"
	done
	for h in $(seq -f 'h%g' 1 "$1"); do expect "$h: agent started" "$SIM" start-agent "$h"; done
	if eventually "$SIM_ALIVE_S" sim_alive h1 "$1"; then ok "$1 hosts alive"
	else not_ok "$1 hosts alive" "$(on h1 "$VTB" cluster status 2>&1)"; fi
}

# etcd_keys PREFIX: the keys under PREFIX (with h1's certificate after
# sim_cluster_tls)
etcd_keys() {
	if [ -n "${SIM_TLS:-}" ]; then
		on h1 etcdctl --endpoints "$ETCD" --cacert "$SIM_TLS/ca/ca.crt" --cert "$SIM_TLS/h1.pem" \
			--key "$SIM_TLS/h1.pem" get --prefix "$1" --keys-only 2>/dev/null | grep .
	else
		on h1 etcdctl --endpoints "$ETCD" get --prefix "$1" --keys-only 2>/dev/null | grep .
	fi
}

host_objects() {
	on "$1" sh -c 'ip netns list; ip -o link show | grep -o " vtb[^:@]*"' 2>/dev/null
	find "/sys/fs/cgroup/pids/vtbsim-$1" -name cgroup.procs -exec cat {} + 2>/dev/null |
		xargs -r ps -o pid=,args= -p 2>/dev/null | grep -E "vtb-init|__supervise|qemu"
}

nothing_anywhere() {
	for h in $SIM_HOSTS; do [ -z "$(host_objects "$h")" ] || return 1; done
	[ -z "$(etcd_keys /vtb/exp)" ]
}

# what is on each host and in etcd, for a failure's details
sim_show() {
	for h in $SIM_HOSTS; do echo "$h:"; host_objects "$h"; done
	etcd_keys /vtb/ | grep -v '^/vtb/\(hosts\|alive\|alloc\|cluster\)'
}

sim_finish() {
	expect "simulated hosts down" "$SIM" down
	if ! pgrep -f "vtb agent" >/dev/null; then ok "no agent is left"
	else not_ok "no agent is left" "$(pgrep -af 'vtb agent')"; fi
	after=$(vtb_objects)
	if [ "$sim_before" = "$after" ] && [ ! -e "$S" ]; then ok "nothing of vtb left on the machine"
	else not_ok "nothing of vtb left on the machine" "$(diff <(echo "$sim_before") <(echo "$after")); $(ls -d $S 2>&1)"; fi
	finish
}
