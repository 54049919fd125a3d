/* image_guest: what runs inside a vtb VM (see image.h): its /init (PID 1,
 * which loads the NIC driver modules of its arch row, vm/arch.c, and
 * applies /etc/vtb.conf) and the small files of its /etc. All of it is part
 * of the image's cache key (image_key.c), so a change here makes a new
 * image. */
#include "image_impl.h"
#include "util.h"

#include <stdio.h>

/* Before img_init_script on a guest of another architecture: the image
 * holds busybox alone (it cannot run on the build host to list its
 * applets), so /init starts it as the shell and lets it link its applets,
 * which needs /proc (busybox finds itself through /proc/self/exe). The
 * shebang line of img_init_script that follows is then a comment. */
const char img_init_foreign[] =
	"#!/bin/busybox sh\n"
	"# vtb: a busybox of another architecture than the image builder's:\n"
	"# its applets are linked here, at boot\n"
	"/bin/busybox mount -t proc proc /proc && /bin/busybox --install -s &&\n"
	"\t/bin/busybox umount /proc\n";

/* /init: PID 1. Its text is part of the cache key. */
const char img_init_script[] =
	"#!/bin/sh\n"
	"# vtb guest init, PID 1 of every vtb VM (busybox ash). Written by vtb\n"
	"# (vm/image.c); /etc/vtb.conf is described in vm/image.h.\n"
	"export PATH=/sbin:/usr/sbin:/bin:/usr/bin HOME=/root PS1='\\h:\\w\\$ '\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev\n"
	"mkdir -p /dev/pts /dev/shm\n"
	"mount -t devpts devpts /dev/pts\n"
	"mount -t tmpfs tmpfs /dev/shm\n"
	"mount -t tmpfs tmpfs /run\n"
	"dmesg -n 1\n"
	"\n"
	"warn() { echo \"vtb-guest-warning: $*\"; }\n"
	"\n"
	"# The NIC drivers and what they need, dependencies first (vtb wrote the\n"
	"# list). A driver whose device is absent loads and waits for none.\n"
	"# virtio_net without TX interrupts (napi_tx=0): it frees sent buffers\n"
	"# when it sends the next ones, as e1000's emulation moderates its\n"
	"# interrupts; each interrupt is costly under TCG.\n"
	"while read -r m; do\n"
	"\targs=\n"
	"\tcase $m in */virtio_net.ko) args=napi_tx=0 ;; esac\n"
	"\tinsmod \"$m\" $args || warn \"cannot load $m\"\n"
	"done </lib/modules/vtb-modules\n"
	"\n"
	"# The host's userland, read-only over virtio-9p (QEMU shares the host's /\n"
	"# as vtbhost): its /usr (and through it the loader and libraries), and its\n"
	"# /etc under a private writable layer that keeps this image's own inittab\n"
	"# and hosts; /tmp and /var are private and empty. Busybox stays first on\n"
	"# PATH; the host's tools (iperf3, tcpdump, bird) come from /usr.\n"
	"mount -t tmpfs tmpfs /tmp\n"
	"mkdir -p /var /host /usr && mount -t tmpfs tmpfs /var && mkdir -p /var/tmp /var/log /var/lib\n"
	"ln -s /run /var/run\n"
	"if mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose vtbhost /host 2>/dev/null; then\n"
	"\tmount -o bind /host/usr /usr || warn \"cannot mount the host's /usr\"\n"
	"\tln -s /usr/lib64 /lib64\n"
	"\tln -s /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu\n"
	"\tmkdir -p /run/vtb/etc /run/vtb/etc.work\n"
	"\tcp -p /etc/inittab /etc/hosts /etc/vtb.conf /run/vtb/etc/ 2>/dev/null\n"
	"\tmount -t overlay overlay -o lowerdir=/host/etc,upperdir=/run/vtb/etc,workdir=/run/vtb/etc.work /etc ||\n"
	"\t\twarn \"cannot mount the host's /etc\"\n"
	"fi\n"
	"\n"
	"conf=/etc/vtb.conf\n"
	"[ -r $conf ] || { warn \"no $conf: the network is left unconfigured\"; conf=/dev/null; }\n"
	"\n"
	"# The model's private directories: a tmpfs each, with the mode of the\n"
	"# directory it covers, empty or filled with the copy of a host directory\n"
	"# that vtb put in the initrd. /etc may be one: vtb.conf is read from a copy.\n"
	"cp $conf /.vtb.conf 2>/dev/null && conf=/.vtb.conf\n"
	"while read -r kw a b; do\n"
	"\t[ \"$kw\" = private ] || continue\n"
	"\tmkdir -p \"$a\" 2>/dev/null\n"
	"\tm=$(stat -c %a \"$a\" 2>/dev/null)\n"
	"\tif ! mount -t tmpfs -o mode=${m:-755} tmpfs \"$a\"; then\n"
	"\t\twarn \"cannot make the private directory $a\"\n"
	"\telif [ \"$b\" != - ]; then\n"
	"\t\tcp -a \"$b/.\" \"$a/\" || warn \"cannot seed the private directory $a\"\n"
	"\tfi\n"
	"done <$conf\n"
	"rm -rf /.vtb-seed\n"
	"\n"
	"# by_mac MAC: set dev to the name of the interface with that address.\n"
	"by_mac() {\n"
	"\tlocal d m\n"
	"\tfor d in /sys/class/net/*; do\n"
	"\t\tread -r m 2>/dev/null <\"$d/address\" || continue\n"
	"\t\t[ \"$m\" = \"$1\" ] && { dev=${d##*/}; return 0; }\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"\n"
	"# The kernel names NICs in probe order, so vtb names them by MAC. First\n"
	"# every NIC moves to a temporary name, so that no wanted name is still\n"
	"# taken by another NIC. A NIC may appear a little after its driver\n"
	"# loads: all of them together get 5 s.\n"
	"n=0\n"
	"t=0\n"
	"while read -r kw name mac mtu; do\n"
	"\t[ \"$kw\" = iface ] || continue\n"
	"\tuntil by_mac \"$mac\" || [ $t -ge 50 ]; do\n"
	"\t\tt=$((t + 1))\n"
	"\t\tsleep 0.1\n"
	"\tdone\n"
	"\tif ! by_mac \"$mac\"; then\n"
	"\t\twarn \"no NIC with MAC $mac (for $name)\"\n"
	"\t\tcontinue\n"
	"\tfi\n"
	"\tip link set dev \"$dev\" name \"vtbtmp$n\" && n=$((n + 1))\n"
	"done <$conf\n"
	"\n"
	"host=vtb\n"
	"while read -r kw a b c; do\n"
	"\tcase $kw in\n"
	"\thostname) host=$a ;;\n"
	"\tforwarding)\n"
	"\t\techo \"$a\" >/proc/sys/net/ipv4/ip_forward\n"
	"\t\techo \"$a\" >/proc/sys/net/ipv6/conf/all/forwarding\n"
	"\t\t;;\n"
	"\tiface)\n"
	"\t\tby_mac \"$b\" || continue\n"
	"\t\tip link set dev \"$dev\" name \"$a\" || warn \"cannot rename $dev to $a\"\n"
	"\t\t[ \"$c\" = 0 ] || ip link set dev \"$a\" mtu \"$c\" || warn \"cannot set MTU $c on $a\"\n"
	"\t\t# addresses are planned: no duplicate address detection to wait for\n"
	"\t\techo 0 2>/dev/null >/proc/sys/net/ipv6/conf/$a/accept_dad\n"
	"\t\tip link set dev \"$a\" up || warn \"cannot bring $a up\"\n"
	"\t\t;;\n"
	"\taddr)\n"
	"\t\tcase $b in\n"
	"\t\t*:*) ip -6 addr add \"$b\" dev \"$a\" ;;\n"
	"\t\t*) ip addr add \"$b\" broadcast + dev \"$a\" ;;\n"
	"\t\tesac || warn \"cannot add address $b to $a\"\n"
	"\t\t;;\n"
	"\troute)\n"
	"\t\tcase $b in\n"
	"\t\t*:*) ip -6 route add \"$a\" via \"$b\" ;;\n"
	"\t\t*) ip route add \"$a\" via \"$b\" ;;\n"
	"\t\tesac || warn \"cannot add route $a via $b\"\n"
	"\t\t;;\n"
	"\tesac\n"
	"done <$conf\n"
	"ip link set dev lo up\n"
	"hostname \"$host\"\n"
	"echo \"$host\" >/etc/hostname\n"
	"echo \"127.0.1.1 $host\" >>/etc/hosts\n"
	"\n"
	"# an e1000 link comes up a moment after its driver: wait (5 s at most)\n"
	"# until every configured NIC has its carrier, so ready means reachable\n"
	"t=0\n"
	"while [ $t -lt 50 ]; do\n"
	"\tdown=0\n"
	"\twhile read -r kw a b c; do\n"
	"\t\t[ \"$kw\" = iface ] || continue\n"
	"\t\tcar=0\n"
	"\t\tread -r car 2>/dev/null </sys/class/net/$a/carrier\n"
	"\t\t[ \"$car\" = 1 ] || down=1\n"
	"\tdone <$conf\n"
	"\t[ $down = 0 ] && break\n"
	"\tt=$((t + 1))\n"
	"\tsleep 0.1\n"
	"done\n"
	"echo vtb-guest-ready\n"
	"# busybox init keeps a shell on ttyS0 (see /etc/inittab) and reaps orphans\n"
	"exec /sbin/init\n";

/* The small files of /etc, also part of the key. */
const struct img_etc img_etc[] = {
	/* Not "ttyS0::respawn:/bin/sh": with a tty named, init's vfork child
	 * makes it its controlling tty before it logs (syslog, taking glibc's
	 * locks in memory it shares with init) and execs, so a Ctrl-C that
	 * vtb sends while it waits for the shell could kill the child with
	 * a lock held and leave init blocked on it for good, with no shell
	 * (about one VM in 60 on a loaded host; docs/vms.md). With no tty
	 * named, the child has none until cttyhack, a program of its own,
	 * takes the console (/sys/class/tty/console/active) as its
	 * controlling tty and execs the shell: a Ctrl-C then can only end
	 * that process, and init starts another. */
	{ "etc/inittab", "# vtb: a shell on the serial console, started again when it exits\n"
			 "::respawn:/bin/busybox cttyhack /bin/sh\n" },
	{ "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" },
	{ "etc/group", "root:x:0:\n" },
	{ "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n" },
};

const size_t img_netc = UTIL_ARRAY_SIZE(img_etc);

const char *img_cmdline(void)
{
	return vm_arch_host()->cmdline;
}
