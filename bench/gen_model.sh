#!/bin/sh
# Write a benchmark model to standard output: N devices in a ring joined by N
# links, every device with cores == 1, memory == mb(64), every link with
# latency == ms(1), capacity == mbps(100); every 10th link is a LAN of three
# devices (the link's two and the next one).
# usage: bench/gen_model.sh N [plain|loop]
#   plain: one statement per device and per link (exercises the parser)
#   loop:  the same topology built by for loops (exercises the evaluator)
set -eu
n=${1:?usage: gen_model.sh N [plain|loop]}
form=${2:-plain}
case $n in
'' | *[!0-9]*) echo "gen_model.sh: N must be a number, not '$n'" >&2; exit 2 ;;
esac
if [ "$n" -lt 3 ]; then
	echo "gen_model.sh: N must be at least 3 (a LAN needs three devices)" >&2
	exit 2
fi

case $form in
plain)
	awk -v n="$n" 'BEGIN {
		printf "# %d devices in a ring, %d links, every 10th a 3-device LAN\n", n, n
		for (i = 0; i < n; i++)
			printf "d%d = topo.device(\047d%d\047, cores == 1, memory == mb(64))\n", i, i
		for (i = 0; i < n; i++) {
			if (i % 10 == 9)
				printf "topo.connect([d%d, d%d, d%d], latency == ms(1), capacity == mbps(100))\n",
				       i, (i + 1) % n, (i + 2) % n
			else
				printf "topo.connect([d%d, d%d], latency == ms(1), capacity == mbps(100))\n",
				       i, (i + 1) % n
		}
	}'
	;;
loop)
	cat <<LOOP
# $n devices in a ring, $n links, every 10th a 3-device LAN, built by loops
n = $n
d = [topo.device('d0', cores == 1, memory == mb(64))]
for i in range(1, n):
    d.append(topo.device('d' + str(i), cores == 1, memory == mb(64)))
for i in range(n):
    if i % 10 == 9:
        topo.connect([d[i], d[(i + 1) % n], d[(i + 2) % n]], latency == ms(1), capacity == mbps(100))
    else:
        topo.connect([d[i], d[(i + 1) % n]], latency == ms(1), capacity == mbps(100))
LOOP
	;;
*)
	echo "gen_model.sh: unknown form '$form' (plain or loop)" >&2
	exit 2
	;;
esac
