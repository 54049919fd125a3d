/* arch: the guest architectures of vtb's VMs, one row each (vm/arch.c).
 *
 * A row says how QEMU runs a guest of that architecture (its program,
 * machine and CPU model, the serial console's device in the guest), where
 * the guest's kernel and busybox come from (Debian's packages, from the
 * host's own apt or, for another architecture, from a Debian suite fetched
 * with a private apt configuration: vm/image_apt.c), which kernel modules
 * the guest's initramfs needs, and which NIC models the guest can drive.
 * x86_64 is the row of the host's own architecture: its guest shares the
 * host's userland (docs/vms.md); the others run busybox only. */
#ifndef VTB_ARCH_H
#define VTB_ARCH_H

#include <stdbool.h>
#include <stddef.h>

/* How the kernel package ships the kernel: an x86 bzImage (unpacked into
 * a PVH vmlinux at build time, vm/image_kernel.c) or an arm64/riscv64
 * Image (copied, gunzipped when it is compressed). */
enum vm_kernel_fmt { VM_KERNEL_BZIMAGE, VM_KERNEL_IMAGE };

struct vm_arch {
	const char *name;        /* the model's value: "x86_64", "arm64", "riscv64" */
	const char *alias;       /* another spelling the model may use ("aarch64"), or NULL */
	const char *deb_arch;    /* Debian's name: "amd64", "arm64", "riscv64" */
	const char *qemu;        /* "qemu-system-x86_64" */
	const char *machine;     /* QEMU's -machine */
	const char *cpu_tcg;     /* QEMU's -cpu under TCG */
	bool kvm;                /* KVM can run it (the host's own architecture) */
	const char *console;     /* the guest's device of QEMU's first serial port */
	/* its UART loses input sent while the guest boots: the console proxy
	 * waits for the guest's ready line before it pokes (con_hold_pokes) */
	bool console_hold;
	const char *pvpanic;     /* QEMU's pvpanic device, or NULL: the kernel has no driver */
	const char *kernel_pkg;  /* the meta package naming the kernel: "linux-image-arm64" */
	enum vm_kernel_fmt kernel_fmt;
	const char *busybox_pkg; /* "busybox-static" */
	/* the Debian suite the packages come from ("bookworm"), or NULL: the
	 * host's apt and the host's installed busybox-static */
	const char *suite;
	bool host_share;         /* the guest mounts the host's userland (9p) */
	const char *cmdline;     /* the kernel command line */
	const char *const *modules; /* kernel modules for the initramfs (dependencies added) */
	size_t nmodules;
	const char *const *nics; /* the NIC models of the language it can drive */
	size_t nnics;
};

/* The row of name (or its alias), NULL when vtb has no such guest. */
const struct vm_arch *vm_arch_find(const char *name);
/* The row of the host's architecture (x86_64). */
const struct vm_arch *vm_arch_host(void);
/* Whether a guest of a can drive NIC model ("virtio", "e1000", ...). */
bool vm_arch_has_nic(const struct vm_arch *a, const char *model);
/* The architectures, "x86_64, arm64 (aarch64), riscv64", into buf. */
const char *vm_arch_list(char *buf, size_t len);
/* a's NIC models, "virtio, e1000, e1000e", into buf. */
const char *vm_arch_nic_list(const struct vm_arch *a, char *buf, size_t len);

#endif
