/* image: the guest image of vtb's VMs, built by vtb itself and cached.
 *
 * An image is a Debian kernel (from Debian's own package, unpacked, never
 * installed) and a busybox initramfs holding the NIC driver modules and an
 * init that configures the network from /etc/vtb.conf, prints
 * "vtb-guest-ready" on the first serial console and keeps a busybox shell
 * there. Images are cached under cache_dir/KEY/, KEY being a hash of what
 * went into them. Each VM boots the shared kernel with its own initrd: the
 * base initrd followed by a small cpio archive holding its /etc/vtb.conf
 * (the kernel unpacks concatenated archives in order).
 *
 * /etc/vtb.conf, the config channel (written by img_write_vm_initrd): one
 * directive per line, fields separated by single spaces, values free of
 * white space (img_write_vm_initrd checks every value):
 *
 *   hostname NAME              the guest's hostname
 *   forwarding 0|1             net.ipv4.ip_forward and net.ipv6.conf.all.forwarding
 *   iface NAME MAC MTU         the NIC with MAC (lower case, aa:bb:cc:dd:ee:ff) is renamed
 *                              NAME and brought up; MTU 0 keeps the driver's default
 *   addr NAME PREFIX           an address on NAME: "10.0.0.1/24" or "fd00::1/64"
 *                              (IPv6 addresses skip duplicate address detection)
 *   route DST VIA              DST "default" or a prefix; the family is VIA's
 *   private PATH SEED          a tmpfs of the guest's own at PATH (made when missing, with
 *                              the mode of the directory it covers), empty (SEED "-") or
 *                              filled with a copy of SEED, "/.vtb-seed/N": the host
 *                              directory the model named, in the per-VM initrd
 *
 * iface lines come first, then addr lines, then route lines, then private
 * lines. Lines starting
 * with '#' are comments. The guest applies them in that order; whatever
 * fails is reported on the console as "vtb-guest-warning: ..." before
 * "vtb-guest-ready".
 *
 * The guest side, for whoever drives the console: the shell on ttyS0 is
 * plain busybox ash with ttyS0 as its controlling tty (job control and
 * Ctrl-C work), respawned by busybox init when it exits. Kernel messages
 * are limited to emergencies (dmesg -n 1) once ready. The NIC drivers
 * loaded are virtio_net (virtio-net-pci), e1000, e1000e, 8139cp and 8139too
 * (QEMU's rtl8139 is a C+ chip, revision 0x20: 8139cp drives it), vmxnet3,
 * and pvpanic (so QEMU learns of a guest panic). */
#ifndef VTB_IMAGE_H
#define VTB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where an image is: kernel is an uncompressed ELF vmlinux that QEMU boots
 * through its PVH entry (or the package's bzImage when it could not be
 * unpacked; for arm64 and riscv64 the package's Image), initrd the base
 * initramfs. key is the cache key (16 hex
 * digits), kernel_version the guest's `uname -r`. */
struct img_paths {
	char kernel[512];
	char initrd[512];
	char key[17];
	char kernel_version[64];
};

/* Called at each build step with a phrase such as
 * "downloading linux-image-6.1.0-56-amd64 6.1.192-2". */
typedef void (*img_progress_fn)(void *arg, const char *step);

/* The default cache directory. */
#define IMG_CACHE_DIR "/var/cache/vtb/images"

/* Make sure the image exists under cache_dir (IMG_CACHE_DIR when NULL),
 * building it when it is missing or when force is set; fill *out with its
 * paths. The key hashes the kernel package's name and version (apt's
 * candidate), the installed busybox-static's version, the module list, the
 * init script's text and the image layout's version. The image is built in
 * cache_dir/.tmp-* and renamed into place, so a crash leaves nothing that
 * counts as cached (the next call that finds the lock free removes it);
 * builders serialise on a flock of cache_dir/.lock, and a cache hit never
 * waits for it. A hit costs well under a millisecond: apt's answer is kept
 * in cache_dir/.candidate until apt's lists, dpkg's status or apt's
 * sources or pins change (asking apt-cache takes 0.1-1.5 s). A build needs
 * root (apt-get download, writing the cache) and apt's package lists
 * (apt-get update) to find the kernel.
 * progress may be NULL. Returns 0, or a negative errno with err (may be
 * NULL) saying what failed in the tool's words: "apt-get download
 * linux-image-6.1.0-56-amd64=6.1.192-2 failed: E: ...". Nothing is printed. */
int img_ensure(const char *cache_dir, bool force, img_progress_fn progress, void *arg,
	       struct img_paths *out, char *err, size_t errlen);

struct vm_arch;

/* img_ensure for a guest of architecture arch (vm/arch.h; NULL: the
 * host's, which is img_ensure). Another architecture's kernel and busybox
 * come from its Debian suite through a private apt configuration under
 * cache_dir/apt-ARCH/ (vm/image_apt.c: the host's apt is not touched);
 * its package lists are fetched when missing or a day old, a progress
 * step. Its image holds busybox alone (no host userland: the host's
 * programs are of another architecture), and its kernel is the package's
 * Image. */
int img_ensure_arch(const char *cache_dir, const struct vm_arch *arch, bool force,
		    img_progress_fn progress, void *arg, struct img_paths *out, char *err,
		    size_t errlen);

/* One NIC of a VM. name is the guest's interface name (1-15 of
 * [A-Za-z0-9_.-]); v4 and v6 are "10.0.0.1/24" and "fd00::1/64" or "";
 * mtu 0 keeps the default, else 68..65535. */
struct img_if {
	char name[16];
	unsigned char mac[6];
	char v4[64];
	char v6[64];
	unsigned mtu;
};

/* dst is "default" or a prefix ("10.0.1.0/24", "fd00:1::/64"); via an
 * address of the same family. */
struct img_route {
	char dst[64];
	char via[64];
};

/* A private directory of a VM (the model's private == '/etc/frr=/etc/frr'):
 * path in the guest (absolute; letters, digits and "/_.-+@:,%~"), seed
 * the host directory copied into it, or NULL: empty. */
struct img_private {
	const char *path;
	const char *seed;
};

/* The seeds of a VM's private directories travel in its per-VM initrd,
 * together at most this many bytes of file data (they are configuration
 * directories, and the guest holds them in memory twice while it boots). */
#define IMG_SEED_MAX (16u << 20)

/* A VM's configuration. hostname may be "" (the guest is then "vtb"). */
struct img_vm_conf {
	char hostname[64];
	const struct img_if *ifs;
	size_t nifs;
	const struct img_route *routes;
	size_t nroutes;
	bool forwarding;
	const struct img_private *privs;
	size_t nprivs;
};

/* Render conf as the text of /etc/vtb.conf into buf (len bytes, NUL
 * terminated). Returns the text's length, -EINVAL when a value is not
 * acceptable (a name with spaces, a malformed address, a multicast MAC,
 * two NICs with one name or MAC, a route whose families differ), or
 * -ENOSPC when buf is too small. */
int img_format_conf(const struct img_vm_conf *conf, char *buf, size_t len);

/* Write the per-VM initrd to out_path (created or truncated, mode 0644):
 * the base initrd, then a newc cpio archive holding /etc/vtb.conf from
 * conf and a copy of each private directory's seed (owners and modes
 * kept). Takes a few milliseconds (the base is copied in the kernel).
 * Returns 0, -EINVAL as img_format_conf, -EFBIG when the seeds hold more
 * than IMG_SEED_MAX bytes, or a negative errno from reading base_initrd or
 * a seed or writing out_path (a partial out_path is removed). */
int img_write_vm_initrd(const char *base_initrd, const struct img_vm_conf *conf,
			const char *out_path);

/* Find key ("depends", "name", ...) in the .modinfo section of the kernel
 * module ko (len bytes, any alignment; a parser of untrusted bytes). On 0
 * *val points into ko at the value (not NUL-terminated when it is the
 * section's last string) and *vlen is its length. -ENOEXEC when ko is not
 * a 64-bit little-endian ELF, -ENOENT when the key is absent. */
int img_modinfo_get(const uint8_t *ko, size_t len, const char *key, const char **val,
		    size_t *vlen);

/* The kernel command line for the host's image: console=ttyS0, quiet,
 * panic=-1 (a panic reboots, which QEMU's -no-reboot turns into an exit)
 * and a few options that shorten a boot under TCG. A static string; the
 * other architectures' are their rows' (vm/arch.h). */
const char *img_cmdline(void);

#endif
