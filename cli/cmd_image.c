/* vtb image: the guest image of the VMs (vm/image.h). `vtb image build`
 * builds it, or finds it cached, and prints where it is. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "image.h"

#define IMAGE_USAGE "vtb image build [--force] [--cache-dir DIR] [--arch ARCH]"

static void image_progress(void *arg, const char *step)
{
	int *steps = arg;

	(*steps)++;
	fprintf(stderr, "vtb: image: %s\n", step);
}

int cmd_image(int argc, char **argv)
{
	const struct vm_arch *arch = vm_arch_host();
	const char *cache = NULL;
	struct img_paths p;
	char list[128];
	bool force = false;
	char err[512] = "";
	int i, r, steps = 0;

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
	if (fflush(stdout)) {
		cli_err("cannot write the output: %s", strerror(errno));
		return CLI_SYSTEM;
	}
	return CLI_OK;
}
