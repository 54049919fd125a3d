#!/bin/sh
# System test of `vtb image build`: it prints where the image is, a second
# run finds it (and changes nothing), bad arguments are a user error. Needs
# root. Uses the default cache (/var/cache/vtb/images), like `vtb up`; the
# boot of the image is tested by test_image.c. A build that cannot reach
# Debian's packages fails the suite.
cd "$(dirname "$0")/../.." || exit 2
. tests/system/lib.sh

out=$("$VTB" image build 2>"$VTB_STATE_DIR/err"); rc=$?
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q '^kernel  /.*/vmlinu[xz]$' &&
	printf '%s\n' "$out" | grep -q '^initrd  /.*/initrd.img$' &&
	printf '%s\n' "$out" | grep -q '^cmdline .*console=ttyS0'; then
	ok "image build prints the kernel, the initrd and the command line"
else
	not_ok "image build prints the kernel, the initrd and the command line" \
		"exit $rc: $out $(cat "$VTB_STATE_DIR/err")"
fi
initrd=$(printf '%s\n' "$out" | sed -n 's/^initrd  //p')
before=$(stat -c %Y.%y "$initrd" 2>/dev/null)

expect_fail "a second build finds the image" 0 "is up to date" "$VTB" image build
after=$(stat -c %Y.%y "$initrd" 2>/dev/null)
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "a second build leaves the image alone"
else
	not_ok "a second build leaves the image alone" "$before -> $after"
fi
cpio -t <"$initrd" 2>/dev/null >"$VTB_STATE_DIR/list"
if grep -qx init "$VTB_STATE_DIR/list" && grep -qx dev/console "$VTB_STATE_DIR/list" &&
	grep -q '/e1000e.ko$' "$VTB_STATE_DIR/list" && grep -q '/virtio_net.ko$' "$VTB_STATE_DIR/list" &&
	grep -q '/8139cp.ko$' "$VTB_STATE_DIR/list" && grep -q '/vmxnet3.ko$' "$VTB_STATE_DIR/list"; then
	ok "the initrd holds /init, /dev/console and the NIC drivers"
else
	not_ok "the initrd holds /init, /dev/console and the NIC drivers" "$(head -c 2000 "$VTB_STATE_DIR/list")"
fi

expect_fail "an unknown option is a user error" 1 "unknown argument" "$VTB" image build --bogus
expect_fail "an unknown subcommand is a user error" 1 "usage: vtb image build" "$VTB" image frobnicate
finish
