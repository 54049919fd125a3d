/* vtb image: the guest image of the VMs (vm/image.h). `vtb image build`
 * builds it, or finds it cached, and prints where it is; with a userland
 * (`vtb image build debian:bookworm frr iperf3`) also the Debian tree of
 * VMs with that image and packages (vm/rootfs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "image.h"
#include "rootfs.h"
#include "xir_prop.h"

#define IMAGE_USAGE \
	"vtb image build [--force] [--cache-dir DIR] [--arch ARCH] [debian:SUITE [PACKAGE...]]"

static void image_progress(void *arg, const char *step)
{
	int *steps = arg;

	(*steps)++;
	fprintf(stderr, "vtb: image: %s\n", step);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The Debian tree of image with the packages pkgs (n of them; sorted and
 * deduplicated here, as the realization does), built or found. */
static int image_userland(const char *cache, const char *image, const char **pkgs, size_t n)
{
	char err[UTIL_ERR_LEN] = "", root[512], list[256];
	struct rootfs_req q = { .image = image, .pkgs = pkgs };
	size_t i;
	int r;

	if (!xir_image_known(image)) {
		cli_err("image build: vtb cannot build the userland '%s'; it builds %s", image,
			xir_image_list(list, sizeof(list)));
		return CLI_USER;
	}
	qsort(pkgs, n, sizeof(*pkgs), str_cmp);
	for (i = 0; i < n; i++)
		if (!q.npkgs || strcmp(pkgs[q.npkgs - 1], pkgs[i]))
			pkgs[q.npkgs++] = pkgs[i];
	r = rootfs_ensure(cache, &q, image_progress, &(int){ 0 }, root, sizeof(root), err,
			  sizeof(err));
	if (r) {
		cli_err("cannot build the userland %s: %s", image, err[0] ? err : strerror(-r));
		return r == -ENOPKG || r == -EINVAL ? CLI_USER : CLI_SYSTEM;
	}
	printf("root    %s\n", root);
	return CLI_OK;
}

int cmd_image(int argc, char **argv)
{
	const struct vm_arch *arch = vm_arch_host();
	const char *cache = NULL;
	struct img_paths p;
	char list[128];
	bool force = false;
	char err[512] = "";
	int i, r, steps = 0, userland = 0;

	if (argc < 2 || strcmp(argv[1], "build")) {
		cli_err("image: usage: " IMAGE_USAGE);
		return CLI_USER;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc) {
			cache = argv[++i];
		} else if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
			arch = vm_arch_find(argv[++i]);
			if (!arch) {
				cli_err("image build: no guest architecture '%s' (there are: %s)", argv[i],
					vm_arch_list(list, sizeof(list)));
				return CLI_USER;
			}
		} else if (!userland && argv[i][0] != '-') {
			userland = i;
		} else if (argv[i][0] != '-') {
			continue; /* a package of the userland */
		} else {
			cli_err("image build: unknown argument '%s' (usage: " IMAGE_USAGE ")", argv[i]);
			return CLI_USER;
		}
	}
	r = img_ensure_arch(cache, arch, force, image_progress, &steps, &p, err, sizeof(err));
	if (r) {
		cli_err("cannot build the guest image: %s", err[0] ? err : strerror(-r));
		if ((r == -EACCES || r == -EPERM) && geteuid() != 0) {
			cli_err("building the guest image needs root: sudo vtb image build");
			return CLI_USER;
		}
		return CLI_SYSTEM;
	}
	if (!steps)
		fprintf(stderr, "vtb: image: %s is up to date\n", p.key);
	printf("arch    %s\nkernel  %s\ninitrd  %s\nkey     %s\nversion %s\ncmdline %s\n", arch->name,
	       p.kernel, p.initrd, p.key, p.kernel_version, arch->cmdline);
	if (userland) {
		const char **pkgs = calloc((size_t)argc, sizeof(*pkgs));
		size_t n = 0;

		if (!pkgs)
			return CLI_SYSTEM;
		if (arch != vm_arch_host()) {
			free(pkgs);
			cli_err("image build: Debian trees are for %s guests only, not %s",
				vm_arch_host()->name, arch->name);
			return CLI_USER;
		}
		for (i = userland + 1; i < argc; i++)
			if (argv[i][0] != '-' && strcmp(argv[i - 1], "--cache-dir") &&
			    strcmp(argv[i - 1], "--arch"))
				pkgs[n++] = argv[i];
		r = image_userland(cache, argv[userland], pkgs, n);
		free(pkgs);
		if (r != CLI_OK)
			return r;
	}
	if (fflush(stdout)) {
		cli_err("cannot write the output: %s", strerror(errno));
		return CLI_SYSTEM;
	}
	return CLI_OK;
}
