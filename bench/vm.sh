#!/bin/sh
# VM benchmarks (docs/benchmarks.md, "VMs"), side by side in one run:
#   1. boot to ready of one VM under vtb (boot_s: QEMU started -> the shell
#      answers on the console through the proxy) against a bare
#      `qemu-system-x86_64 -kernel ... -initrd ...` of the same image reaching
#      its init's "vtb-guest-ready" line on the serial console, alternating,
#      RUNS times;
#   2. eight VMs booting at once (on this machine's cores): vtb up of eight VMs
#      on one LAN against eight bare QEMUs started together.
# Needs root.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
vtb=${VTB:-$PWD/vtb}
RUNS=${RUNS:-5}
NVM=${NVM:-8}
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

"$vtb" image build >"$work/image" 2>/dev/null
kernel=$(awk '$1 == "kernel" { print $2 }' "$work/image")
initrd=$(awk '$1 == "initrd" { print $2 }' "$work/image")
cmdline=$(sed -n 's/^cmdline //p' "$work/image")
accel=tcg

# bare N: start N QEMUs of the image at once (the same machine options vtb
# uses, no NIC), print the seconds until the last printed vtb-guest-ready
bare() {
	_t0=$(now)
	for k in $(seq "$1"); do
		(
			qemu-system-x86_64 -name "bare$k" -nodefaults -no-user-config -display none \
				-machine pc -cpu max -accel $accel -smp 1 -m 256 -no-reboot \
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

# the model: N VMs (and one container) on one LAN
model() {
	{
		echo "c = topo.device('c')"
		echo "v = [c]"
		echo "for i in range($1):"
		echo "    v.append(topo.device('vm' + str(i), virt == true))"
		echo "topo.connect(v)"
	} >"$work/vm$1.vtb"
	echo "$work/vm$1.vtb"
}

# vtbboot N: vtb up of N VMs; prints "up_s max_boot_s"
vtbboot() {
	_t0=$(now)
	"$vtb" up "$(model "$1")" --name "b$1" >/dev/null 2>"$work/up.err" || {
		echo "bench: vtb up failed:" >&2
		tail -n 5 "$work/up.err" >&2
		exit 1
	}
	_t1=$(now)
	_boot=$("$vtb" status "b$1" --json | sed -n 's/.*"boot_s": *\([0-9.]*\).*/\1/p' | sort -g | tail -n 1)
	"$vtb" down "b$1" >/dev/null
	echo "$(ms "$_t0" "$_t1") $_boot"
}

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

echo "vm bench 2: $NVM VMs at once on $(nproc) cores"
: >"$out/many.txt"
for i in $(seq "$(( (RUNS + 1) / 2 ))"); do
	b=$(bare "$NVM")
	set -- $(vtbboot "$NVM")
	echo "$b $2 $1" >>"$out/many.txt"
	echo "  run $i: $NVM bare QEMUs all ready in $b s; vtb: last VM ready $2 s after its start, vtb up $1 s"
done
