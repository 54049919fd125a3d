#!/bin/sh
# VM benchmarks (docs/benchmarks.md, "VMs"), side by side in one run:
#   1. boot to ready of one VM under vtb (boot_s: QEMU started -> the shell
#      answers on the console through the proxy) against a bare
#      `qemu-system-x86_64 -kernel ... -initrd ...` of the same image reaching
#      its init's "vtb-guest-ready" line on the serial console, alternating,
#      RUNS times;
#   2. eight VMs booting at once (on this machine's cores): vtb up of eight VMs
#      on one LAN against eight bare QEMUs started together;
#   3. the NIC table (the NIC-emulation thesis's comparison, under TCG here):
#      for each QEMU NIC model, a VM with that NIC on a direct link to a
#      container and to a second VM with the same NIC; iperf3 TCP both ways
#      (the host's iperf3, run in the guests) and ping round trips (min, avg,
#      p99 of NPING), the models alternating, NIC_RUNS rounds, medians;
#      beside each throughput, Mbit per CPU-second of the QEMUs taking
#      part (what a shared, loaded machine disturbs less).
#   6. (PARTS=knobs) the guest settings of issue 13 one at a time, for
#      the models of KNOB_NICS (virtio and e1000 unless told; a VM with a direct link to a container, iperf3 both
#      ways, KNOB_RUNS rounds alternating): before (-cpu max, the kernel's
#      init_on_alloc, virtio_net's TX interrupts), + erms=off,
#      + init_on_alloc=0, + napi_tx=0 (vtb as it is). QEMU runs through a
#      wrapper that puts back what vm/arch.c changed.
#   5. (PARTS=emu) a virtio VM over an emulated link (latency == ms(1), and
#      capacity == mbps(100)) against the same VM on a direct link and two
#      containers on the same emulated link: iperf3 TCP both ways, EMU_RUNS
#      rounds alternating, medians. With VTB_OLD=BINARY the same experiment
#      under that vtb too, in the same rounds (before/after a change).
#   4. (PARTS=arch) boot to ready of one arm64 and one riscv64 VM under vtb
#      (TCG, with a container on its LAN) against a bare qemu-system-aarch64
#      / -riscv64 of the same Image and initrd (the machine and CPU vtb uses,
#      vm/arch.c), alternating, RUNS times each.
# PARTS picks the parts (default "boot many nic"). Needs root, iperf3, jq.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
RUNS=${RUNS:-5}
NVM=${NVM:-8}
PARTS=${PARTS:-boot many nic}
NIC_RUNS=${NIC_RUNS:-5}
EMU_RUNS=${EMU_RUNS:-5}
KNOB_RUNS=${KNOB_RUNS:-3}
KNOB_NICS=${KNOB_NICS:-virtio e1000}
VTB_OLD=${VTB_OLD:-}
NICS=${NICS:-virtio e1000 e1000e rtl8139 vmxnet3}
IPERF_S=${IPERF_S:-4}   # seconds per iperf3 run (TCP's window opens in the first)
NPING=${NPING:-50}      # pings per latency sample, 20 ms apart
img=docs/img
out=bench/out/vm
mkdir -p "$out"
work=$(mktemp -d /tmp/vtbvm.XXXXXX)
export VTB_STATE_DIR=$work/state
cleanup() {
	for n in $("$vtb" status 2>/dev/null | awk 'NR > 1 { print $1 }'); do
		"$vtb" down "$n" >/dev/null 2>&1 || true
	done
	pkill -f "[q]emu-system.*$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# use_image ARCH: the image of guest architecture ARCH (built when
# missing) and the QEMU that boots it bare, as vtb does (vm/arch.c)
use_image() {
	"$vtb" image build --arch "$1" >"$work/image" 2>/dev/null
	kernel=$(awk '$1 == "kernel" { print $2 }' "$work/image")
	initrd=$(awk '$1 == "initrd" { print $2 }' "$work/image")
	cmdline=$(sed -n 's/^cmdline //p' "$work/image")
	case $1 in
	arm64) qemu="qemu-system-aarch64 -machine virt -cpu cortex-a57" ;;
	riscv64) qemu="qemu-system-riscv64 -machine virt -cpu rv64" ;;
	*) qemu="qemu-system-x86_64 -machine pc -cpu max,erms=off" ;;
	esac
}
use_image x86_64
accel=tcg

# bare N: start N QEMUs of the image at once (the same machine options vtb
# uses, no NIC), print the seconds until the last printed vtb-guest-ready
bare() {
	_t0=$(now)
	for k in $(seq "$1"); do
		(
			# shellcheck disable=SC2086
			$qemu -name "bare$k" -nodefaults -no-user-config -display none \
				-accel $accel -smp 1 -m 256 -no-reboot \
				-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
				-chardev "file,id=c,path=$work/bare$k.log" -serial chardev:c \
				-pidfile "$work/bare$k.pid" >/dev/null 2>&1 &
		)
	done
	for k in $(seq "$1"); do
		_i=0
		until grep -q vtb-guest-ready "$work/bare$k.log" 2>/dev/null; do
			_i=$((_i + 1))
			[ $_i -gt 12000 ] && { echo "bench: bare QEMU $k did not boot" >&2; exit 1; }
			sleep 0.005
		done
	done
	_t1=$(now)
	for k in $(seq "$1"); do
		kill "$(cat "$work/bare$k.pid")" 2>/dev/null || true
		rm -f "$work/bare$k.log"
	done
	sleep 0.5
	ms "$_t0" "$_t1"
}

# the model: N VMs (and one container) on one LAN; the VMs of
# architecture $2 when given
model() {
	{
		echo "c = topo.device('c')"
		echo "v = [c]"
		echo "for i in range($1):"
		echo "    v.append(topo.device('vm' + str(i), ${2:+arch == $2, }virt == true))"
		echo "topo.connect(v)"
	} >"$work/vm$1.vtb"
	echo "$work/vm$1.vtb"
}

# vtbboot N [ARCH]: vtb up of N VMs; prints "up_s max_boot_s"
vtbboot() {
	_t0=$(now)
	"$vtb" up "$(model "$1" "${2:-}")" --name "b$1" >/dev/null 2>"$work/up.err" || {
		echo "bench: vtb up failed:" >&2
		tail -n 5 "$work/up.err" >&2
		exit 1
	}
	_t1=$(now)
	_boot=$("$vtb" status "b$1" --json | sed -n 's/.*"boot_s": *\([0-9.]*\).*/\1/p' | sort -g | tail -n 1)
	"$vtb" down "b$1" >/dev/null
	echo "$(ms "$_t0" "$_t1") $_boot"
}

part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if part boot; then
echo "vm bench 1: one VM, boot to ready ($accel), $RUNS runs alternating"
: >"$out/one.txt"
for i in $(seq "$RUNS"); do
	b=$(bare 1)
	set -- $(vtbboot 1)
	echo "$b $2 $1" >>"$out/one.txt"
	echo "  run $i: bare qemu $b s, vtb boot $2 s (vtb up in all $1 s)"
done
awk '{ print $1 }' "$out/one.txt" >"$work/b1"
awk '{ print $2 }' "$out/one.txt" >"$work/v1"
awk '{ print $3 }' "$out/one.txt" >"$work/u1"
mb=$(stats "$work/b1" | cut -d' ' -f1)
mv_=$(stats "$work/v1" | cut -d' ' -f1)
mu=$(stats "$work/u1" | cut -d' ' -f1)
echo "  median: bare $mb s, vtb $mv_ s ($(awk -v a="$mv_" -v b="$mb" 'BEGIN { printf "%.2fx", a / b }'), target 1.2x); whole vtb up $mu s"

fi

if part arch; then
for arch in arm64 riscv64; do
	use_image "$arch"
	echo "vm bench 4: one $arch VM, boot to ready (tcg), $RUNS runs alternating"
	: >"$out/arch-$arch.txt"
	for i in $(seq "$RUNS"); do
		b=$(bare 1)
		set -- $(vtbboot 1 "$arch")
		echo "$b $2 $1" >>"$out/arch-$arch.txt"
		echo "  run $i: bare qemu $b s, vtb boot $2 s (vtb up in all $1 s)"
	done
	awk '{ print $1 }' "$out/arch-$arch.txt" >"$work/b1"
	awk '{ print $2 }' "$out/arch-$arch.txt" >"$work/v1"
	awk '{ print $3 }' "$out/arch-$arch.txt" >"$work/u1"
	mb=$(stats "$work/b1" | cut -d' ' -f1)
	mv_=$(stats "$work/v1" | cut -d' ' -f1)
	mu=$(stats "$work/u1" | cut -d' ' -f1)
	echo "  $arch median: bare $mb s, vtb $mv_ s ($(awk -v a="$mv_" -v b="$mb" 'BEGIN { printf "%.2fx", a / b }'), target 1.2x); whole vtb up $mu s"
done
use_image x86_64
fi

if part many; then
echo "vm bench 2: $NVM VMs at once on $(nproc) cores"
: >"$out/many.txt"
for i in $(seq "$(( (RUNS + 1) / 2 ))"); do
	b=$(bare "$NVM")
	set -- $(vtbboot "$NVM")
	echo "$b $2 $1" >>"$out/many.txt"
	echo "  run $i: $NVM bare QEMUs all ready in $b s; vtb: last VM ready $2 s after its start, vtb up $1 s"
done
fi

# ---- 3. the NIC table ----
# per model M an experiment nM: a VM a with NIC M on a direct link to a
# container c and on another to a VM b with NIC M too
nic_model() {
	cat >"$work/nic$1.vtb" <<M
a = topo.device('a', virt == true)
b = topo.device('b', virt == true)
c = topo.device('c')
l = topo.connect([a, c])
l[a].spec(nic == $1)
l = topo.connect([a, b])
l[a].spec(nic == $1)
l[b].spec(nic == $1)
M
	echo "$work/nic$1.vtb"
}
# nic_up M: bring nM up, trying again when a VM did not boot (a TCG boot
# on a loaded machine rarely hangs; see docs/benchmarks.md)
nic_up() {
	for _t in 1 2 3; do
		"$vtb" up "$(nic_model "$1")" --name "n$1" >"$work/up.out" 2>"$work/up.err" && return 0
		echo "  (vtb up n$1 failed, try $_t: $(grep -m 1 'did not come up\|error' "$work/up.err"))" >&2
		"$vtb" down "n$1" >/dev/null 2>&1 || true
	done
	exit 1
}
x() { _e=$1; shift; timeout 300 "$vtb" exec "$_e" "$@"; }
# qemu_cpu EXP: CPU ticks (utime + stime) of the QEMUs of EXP's VMs
qemu_cpu() {
	"$vtb" status "$1" --json | jq -r '.nodes[] | select(.vm) | .vm.pid' |
		while read -r _p; do cat "/proc/$_p/stat"; done | awk '{ t += $14 + $15 } END { print t + 0 }'
}
addr() { x "$1" "$2" -- ip -4 -o addr show dev "$3" | awk '{ sub("/.*", "", $4); print $4; exit }'; }
# tcp EXP CLIENT SERVER ADDR [-R]: Mbit/s of one iperf3 run (the server
# starts in a session of its own: it outlives its vtb exec); leaves in
# $work/eff the Mbit received per CPU-second of EXP's QEMUs meanwhile
tcp() {
	x "$1" "$3" -- setsid iperf3 -s -D -1 >/dev/null 2>&1
	_c0=$(qemu_cpu "$1")
	x "$1" "$2" -- sh -c "for i in 1 2 3 4 5; do iperf3 -J -c $4 -t $IPERF_S ${5:-} && exit; sleep 0.2; done" \
		>"$work/iperf.json" 2>/dev/null
	_c1=$(qemu_cpu "$1")
	_b=$(jq -r '.end.sum_received.bytes' "$work/iperf.json" 2>/dev/null | tail -n 1)
	awk -v b="${_b:-0}" -v c=$((_c1 - _c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (c > 0 && b > 0) printf "%.0f\n", b * 8 / 1e6 / (c / hz); else print "NaN" }' >"$work/eff"
	jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$work/iperf.json" 2>/dev/null | tail -n 1 || echo NaN
}
# rtt EXP FROM ADDR: "min avg p99" of NPING round trips, ms
rtt() {
	x "$1" "$2" -- /usr/bin/ping -c "$NPING" -i 0.02 -W 2 "$3" |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
		awk '{ v[NR] = $1; s += $1 } END { if (!NR) { print "NaN NaN NaN"; exit }
			i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
			printf "%.3f %.3f %.3f\n", v[1], s / NR, v[i] }'
}
if part nic; then
echo "vm bench 3: NIC models ($NICS), $NIC_RUNS rounds alternating, iperf3 ${IPERF_S} s, $NPING pings"
for n in $NICS; do
	nic_up "$n"
done
: >"$out/nic.txt"
for i in $(seq "$NIC_RUNS"); do
	for n in $NICS; do
		ca=$(addr "n$n" c eth0) ba=$(addr "n$n" b eth0)
		tx=$(tcp "n$n" a c "$ca") etx=$(cat "$work/eff")
		rx=$(tcp "n$n" a c "$ca" -R) erx=$(cat "$work/eff")
		vv=$(tcp "n$n" a b "$ba") evv=$(cat "$work/eff")
		vr=$(tcp "n$n" a b "$ba" -R) evr=$(cat "$work/eff")
		rc=$(rtt "n$n" a "$ca") rv=$(rtt "n$n" a "$ba")
		echo "$n $tx $rx $vv $vr $rc $rv $etx $erx $evv $evr" >>"$out/nic.txt"
		echo "  round $i $n: VM->c $tx, c->VM $rx, VM->VM $vv / $vr Mbit/s; rtt VM-c $rc, VM-VM $rv ms;" \
			"per QEMU CPU-s $etx / $erx / $evv / $evr Mbit ($(cut -d' ' -f1 /proc/loadavg) load)"
	done
done
for n in $NICS; do
	vtb_down "n$n"
done
# medians per model: nic tx rx vmvm vmvm_r rtt_c(min avg p99) rtt_v(min avg p99),
# then Mbit per QEMU CPU-second: tx rx vmvm vmvm_r
: >"$out/nic-median.txt"
for n in $NICS; do
	line=$n
	for col in $(seq 2 15); do
		awk -v n="$n" -v c="$col" '$1 == n { print $c }' "$out/nic.txt" >"$work/col"
		line="$line $(stats "$work/col" | cut -d' ' -f1)"
	done
	echo "$line" >>"$out/nic-median.txt"
done
echo "  medians (Mbit/s: VM->c c->VM VM->VM VM<-VM; ms: rtt VM-c min avg p99, VM-VM min avg p99;"
echo "  Mbit per QEMU CPU-second: VM->c c->VM VM->VM VM<-VM):"
sed 's/^/    /' "$out/nic-median.txt"
v=$(awk '$1 == "virtio"' "$out/nic-median.txt") e=$(awk '$1 == "e1000"' "$out/nic-median.txt")
if [ -n "$v" ] && [ -n "$e" ]; then
	echo "$v $e" | awk '{ printf "  virtio / e1000: VM->c %.2fx, c->VM %.2fx, VM->VM %.2fx, VM<-VM %.2fx (target 3x)\n",
		$2 / $17, $3 / $18, $4 / $19, $5 / $20
		printf "  per QEMU CPU-second: VM->c %.2fx, c->VM %.2fx, VM->VM %.2fx, VM<-VM %.2fx\n",
		$12 / $27, $13 / $28, $14 / $29, $15 / $30 }'
fi
if command -v gnuplot >/dev/null; then
	gnuplot <<G
set terminal pngcairo size 860,480 noenhanced
set output '$img/vm-nics.png'
set title 'iperf3 TCP under TCG, by QEMU NIC model (median of $NIC_RUNS)'
set ylabel 'Mbit/s'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
plot '$out/nic-median.txt' using 2:xtic(1) title 'VM -> container', \
     '' using 3 title 'container -> VM', '' using 4 title 'VM -> VM', '' using 5 title 'VM <- VM (-R)'
G
fi
fi

# ---- 5. a VM over an emulated link ----
emu_model() {
	cat >"$work/emu.vtb" <<M
a = topo.device('a', virt == true)
c1 = topo.device('c1')
c2 = topo.device('c2')
c3 = topo.device('c3')
c4 = topo.device('c4')
c5 = topo.device('c5')
topo.connect([a, c1], name='direct')
topo.connect([a, c2], latency == ms(1), name='emu')
topo.connect([a, c5], capacity == mbps(100), name='rate')
topo.connect([c3, c4], latency == ms(1), name='cc')
topo.spec(islands == true)
M
	echo "$work/emu.vtb"
}
if part emu; then
echo "vm bench 5: a virtio VM over an emulated link, $EMU_RUNS rounds alternating, iperf3 ${IPERF_S} s"
vtbs="new"
[ -n "$VTB_OLD" ] && vtbs="new old"
vtb_new=$vtb
for w in $vtbs; do
	[ "$w" = old ] && vtb=$VTB_OLD
	"$vtb" up "$(emu_model)" --name "e$w" >/dev/null 2>"$work/up.err" || {
		echo "bench: vtb up e$w failed:" >&2
		tail -n 5 "$work/up.err" >&2
		exit 1
	}
	vtb=$vtb_new
done
: >"$out/emu.txt"
for i in $(seq "$EMU_RUNS"); do
	for w in $vtbs; do
		[ "$w" = old ] && vtb=$VTB_OLD
		d=$(addr "e$w" c1 eth0) em=$(addr "e$w" c2 eth0) ra=$(addr "e$w" c5 eth0)
		c4a=$(addr "e$w" c4 eth0)
		dt=$(tcp "e$w" a c1 "$d") dr=$(tcp "e$w" a c1 "$d" -R)
		et=$(tcp "e$w" a c2 "$em") er=$(tcp "e$w" a c2 "$em" -R)
		rt=$(tcp "e$w" a c5 "$ra") rr=$(tcp "e$w" a c5 "$ra" -R)
		cc=$(tcp "e$w" c3 c4 "$c4a")
		echo "$w $dt $dr $et $er $rt $rr $cc" >>"$out/emu.txt"
		echo "  round $i $w: direct $dt / $dr, emulated $et / $er, 100 Mbit/s $rt / $rr (VM->c / c->VM); containers $cc Mbit/s"
		vtb=$vtb_new
	done
done
for w in $vtbs; do
	[ "$w" = old ] && vtb=$VTB_OLD
	vtb_down "e$w"
	vtb=$vtb_new
done
echo "  medians (min-max), Mbit/s: direct VM->c c->VM, emulated VM->c c->VM, 100 Mbit/s VM->c c->VM, containers:"
for w in $vtbs; do
	line=$w
	for col in $(seq 2 8); do
		awk -v w="$w" -v c="$col" '$1 == w { print $c }' "$out/emu.txt" >"$work/col"
		line="$line $(stats "$work/col" | awk '{ printf "%s(%s-%s)", $1, $2, $3 }')"
	done
	echo "    $line"
done
fi

# ---- 6. the guest settings of issue 13, one at a time ----
# the wrapper: QEMU with -cpu's value replaced by $KNOB_CPU and $KNOB_APPEND
# after the kernel command line (a later init_on_alloc= wins)
knob_wrapper() {
	cat >"$work/qemu-knob" <<'W'
#!/bin/sh
n=$#
prev=
for a; do
	if [ "$prev" = -cpu ]; then set -- "$@" "$KNOB_CPU"
	elif [ "$prev" = -append ]; then set -- "$@" "$a $KNOB_APPEND"
	else set -- "$@" "$a"; fi
	prev=$a
done
shift "$n"
exec qemu-system-x86_64 "$@"
W
	chmod +x "$work/qemu-knob"
}
# knob_up NAME NIC CPU APPEND NAPI_TX: a VM a with NIC on a direct link to a
# container c, its QEMU through the wrapper; NAPI_TX 1 gives a virtio NIC
# its TX interrupts back (ethtool, with the link down: virtio_net's rule)
knob_up() {
	printf "a = topo.device('a', virt == true)\nc = topo.device('c')\nl = topo.connect([a, c])\nl[a].spec(nic == %s)\n" \
		"$2" >"$work/knob.vtb"
	# tried again when a VM did not boot, as nic_up does
	for _t in 1 2 3; do
		VTB_QEMU=$work/qemu-knob KNOB_CPU=$3 KNOB_APPEND=$4 "$vtb" up "$work/knob.vtb" --name "$1" \
			>/dev/null 2>"$work/up.err" && break
		echo "  (vtb up $1 failed, try $_t)" >&2
		"$vtb" down "$1" >/dev/null 2>&1 || true
		[ "$_t" = 3 ] && exit 1
	done
	# (one line: a VM's command is one console line)
	[ "$5" = 1 ] && x "$1" a -- sh -c "ip link set eth0 down && ethtool -C eth0 tx-frames 1 >/dev/null && ip link set eth0 up && for i in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 1 $(addr "$1" c eth0) >/dev/null && break; done"
	return 0
}
if part knobs; then
echo "vm bench 6: the guest settings one at a time ($KNOB_NICS), $KNOB_RUNS rounds alternating, iperf3 ${IPERF_S} s"
knob_wrapper
new=$("$vtb" image build | sed -n 's/^cmdline //p')
case $new in *init_on_alloc=0*) ;; *) echo "bench: this vtb's guest has init_on_alloc: not issue 13's" >&2; exit 1 ;; esac
# name nic cpu append napi_tx: per model of KNOB_NICS the settings added one
# by one (napi_tx is virtio's alone)
knobs=$(for nic in $KNOB_NICS; do
	echo "k0$nic $nic max init_on_alloc=1 1"
	echo "k1$nic $nic max,erms=off init_on_alloc=1 1"
	echo "k2$nic $nic max,erms=off init_on_alloc=0 1"
	[ "$nic" = virtio ] && echo "k3$nic $nic max,erms=off init_on_alloc=0 0"
done | awk '$2 != "virtio" { $5 = "-" } { print }')
echo "$knobs" | while read -r k nic cpu app napi; do knob_up "$k" "$nic" "$cpu" "$app" "$napi" </dev/null; done
: >"$out/knobs.txt"
for i in $(seq "$KNOB_RUNS"); do
	for k in $(echo "$knobs" | awk '{ print $1 }'); do
		ca=$(addr "$k" c eth0)
		tx=$(tcp "$k" a c "$ca") etx=$(cat "$work/eff")
		rx=$(tcp "$k" a c "$ca" -R) erx=$(cat "$work/eff")
		echo "$k $tx $rx $etx $erx" >>"$out/knobs.txt"
		echo "  round $i $k: VM->c $tx, c->VM $rx Mbit/s; per QEMU CPU-s $etx / $erx Mbit ($(cut -d' ' -f1 /proc/loadavg) load)"
	done
done
for k in $(echo "$knobs" | awk '{ print $1 }'); do
	vtb_down "$k"
done
echo "  medians (min-max): VM->c, c->VM Mbit/s; the same per QEMU CPU-second:"
for k in $(echo "$knobs" | awk '{ print $1 }'); do
	line="$k $(echo "$knobs" | awk -v k="$k" '$1 == k { print $2, $3, $4, "napi_tx=" $5 }')"
	for col in 2 3 4 5; do
		awk -v k="$k" -v c="$col" '$1 == k { print $c }' "$out/knobs.txt" >"$work/col"
		line="$line $(stats "$work/col" | awk '{ printf "%d(%d-%d)", $1, $2, $3 }')"
	done
	echo "    $line"
done
fi
