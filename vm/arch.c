/* arch: the guest architectures (see arch.h), one row each.
 *
 * Where the rows' facts come from (checked on the packages, 2026-12):
 * - x86_64: Debian's linux-image-amd64 from the host's apt (docs/vms.md);
 *   every NIC driver, 9p and overlayfs are modules.
 * - arm64: bookworm's linux-image-arm64 (6.1). VIRTIO and the generic
 *   PCIe host (pci-host-generic, QEMU virt's) are built in, as is the PL011
 *   UART that is QEMU virt's first serial port (ttyAMA0); virtio_pci,
 *   virtio_net, e1000, e1000e are modules; PVPANIC is not set.
 * - riscv64: trixie's linux-image-riscv64 (6.12; bookworm has no riscv64
 *   port). VIRTIO, VIRTIO_PCI, the generic PCIe host and the 8250 UART of
 *   QEMU virt (ttyS0, through of_serial) are built in; virtio_net, e1000,
 *   e1000e are modules (compressed, .ko.xz); no 8139, vmxnet3 or pvpanic
 *   driver. QEMU's default firmware for virt, OpenSBI from
 *   qemu-system-data, starts the kernel.
 * QEMU's virt machines of both take every PCI NIC model vtb offers; a
 * model is offered only where the guest's kernel has its driver and a
 * boot was seen to pass traffic with it. */
#include "arch.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* x86_64: the NIC drivers of the five QEMU models, virtio's PCI transport
 * (not a dependency of virtio_net, but what virtio-net-pci needs),
 * pvpanic, so that QEMU learns of a guest panic, and 9p over virtio with
 * overlayfs for the host's userland (vm/image_guest.c's init script). */
static const char *const x86_modules[] = {
	"virtio_pci",  "virtio_net",   "e1000",	       "e1000e", "8139cp", "8139too",
	"vmxnet3",     "pvpanic_mmio", "pvpanic_pci", "9pnet_virtio", "9p", "overlay",
};
static const char *const x86_nics[] = { "virtio", "e1000", "e1000e", "rtl8139", "vmxnet3" };

/* arm64 and riscv64 guests have no host userland to mount: NIC drivers only */
static const char *const arm64_modules[] = { "virtio_pci", "virtio_net", "e1000", "e1000e" };
static const char *const riscv64_modules[] = { "virtio_net", "e1000", "e1000e" };
static const char *const virt_nics[] = { "virtio", "e1000", "e1000e" };

#define ROW_LIST(field, v) .field = v, .n##field = UTIL_ARRAY_SIZE(v)

static const struct vm_arch arches[] = {
	{
		.name = "x86_64",
		.deb_arch = "amd64",
		.qemu = "qemu-system-x86_64",
		/* pc or q35 under TCG: measured on this 2-core machine with vtb's
		 * image, 10 alternating boots each to "vtb-guest-ready": QEMU's
		 * CPU time 3.28 s (pc) vs 3.37 s (q35), within the noise; with a
		 * bzImage through SeaBIOS, pc booted in 2.2-2.7 s against 2.7-3.2 s
		 * for q35. pc it is: never slower, and every NIC model we offer is
		 * a PCI device that works on both. */
		.machine = "pc",
		/* erms=off: with ERMS the guest kernel copies (copy_user, memcpy)
		 * and clears pages with `rep movsb`/`rep stosb`, which TCG runs one
		 * byte per iteration of a translated block; without it the same
		 * code uses `rep movsq`/`rep stosq`, eight bytes per iteration.
		 * Every packet's payload is copied at least once in the guest:
		 * virtio's iperf3 receive went from ~1400 to ~2800 Mbit/s per
		 * QEMU CPU-second (docs/benchmarks.md, "VMs", issue 13). KVM
		 * runs the host's CPU, where rep movsb is fast. */
		.cpu_tcg = "max,erms=off",
		/* poked only after "vtb-guest-ready": a Ctrl-C poke during the
		 * boot could flush a setup line the shell had not read yet, and
		 * the shell then waited up to a second for the next one
		 * (docs/benchmarks.md, "Boot to ready, rerun") */
		.console_hold = true,
		.kvm = true,
		.console = "ttyS0",
		.pvpanic = "pvpanic",
		.kernel_pkg = "linux-image-amd64",
		.kernel_fmt = VM_KERNEL_BZIMAGE,
		.busybox_pkg = "busybox-static",
		.suite = NULL,
		.host_share = true,
		/* Each of these saves a little of a TCG boot: cryptomgr.notests
		 * skips the crypto self-tests (0.4 s), mitigations=off the
		 * patching for CPU bugs (the guest runs no untrusted code they
		 * would contain), no_timer_check the timer IRQ test,
		 * 8250.nr_uarts=1 and i8042.noaux probing of ports that are not
		 * there. init_on_alloc=0: Debian's kernel zeroes every page it
		 * allocates (hardening), socket buffers included, which under
		 * TCG was a fifth of a virtio guest's time sending TCP
		 * (clear_page_rep in the guest's perf profile); a testbed guest
		 * gains nothing from it. */
		.cmdline = "console=ttyS0 quiet panic=-1 cryptomgr.notests mitigations=off "
			   "no_timer_check 8250.nr_uarts=1 i8042.noaux init_on_alloc=0",
		ROW_LIST(modules, x86_modules),
		ROW_LIST(nics, x86_nics),
	},
	{
		.name = "arm64",
		.alias = "aarch64",
		.deb_arch = "arm64",
		.qemu = "qemu-system-aarch64",
		.machine = "virt",
		/* cortex-a57, not max: max adds SVE and pointer authentication,
		 * whose emulation under TCG costs time and which no guest of
		 * vtb's needs */
		.cpu_tcg = "cortex-a57",
		.console = "ttyAMA0",
		/* QEMU 7.2's PL011: a shell poked from the first moment of the
		 * boot never answered in 2 of 6 bare boots here (its receive
		 * interrupt lost); poked after "vtb-guest-ready", 6 of 6 did */
		.console_hold = true,
		.kernel_pkg = "linux-image-arm64",
		.kernel_fmt = VM_KERNEL_IMAGE,
		.busybox_pkg = "busybox-static",
		.suite = "bookworm",
		.cmdline = "console=ttyAMA0 quiet panic=-1 cryptomgr.notests mitigations=off",
		ROW_LIST(modules, arm64_modules),
		ROW_LIST(nics, virt_nics),
	},
	{
		.name = "riscv64",
		.deb_arch = "riscv64",
		.qemu = "qemu-system-riscv64",
		.machine = "virt",
		.cpu_tcg = "rv64",
		.console = "ttyS0",
		.kernel_pkg = "linux-image-riscv64",
		.kernel_fmt = VM_KERNEL_IMAGE,
		.busybox_pkg = "busybox-static",
		.suite = "trixie",
		.cmdline = "console=ttyS0 quiet panic=-1 cryptomgr.notests mitigations=off "
			   "8250.nr_uarts=1",
		ROW_LIST(modules, riscv64_modules),
		ROW_LIST(nics, virt_nics),
	},
};

const struct vm_arch *vm_arch_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < UTIL_ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].name, name) || (arches[i].alias && !strcmp(arches[i].alias, name)))
			return &arches[i];
	return NULL;
}

const struct vm_arch *vm_arch_host(void)
{
	return &arches[0];
}

bool vm_arch_has_nic(const struct vm_arch *a, const char *model)
{
	size_t i;

	for (i = 0; model && i < a->nnics; i++)
		if (!strcmp(a->nics[i], model))
			return true;
	return false;
}

const char *vm_arch_list(char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_SIZE(arches) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s%s%s%s", i ? ", " : "",
					arches[i].name, arches[i].alias ? " (" : "",
					arches[i].alias ? arches[i].alias : "",
					arches[i].alias ? ")" : "");
	return buf;
}

const char *vm_arch_nic_list(const struct vm_arch *a, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < a->nnics && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", a->nics[i]);
	return buf;
}
