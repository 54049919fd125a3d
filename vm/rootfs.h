/* rootfs: the Debian trees of VM nodes that ask for a userland of their
 * own (`image == 'debian:bookworm'`, `packages == ['frr', 'iperf3']`),
 * built with mmdebstrap from Debian's mirror and cached next to the guest
 * image (docs/vms.md, "Other userlands").
 *
 * A tree is a directory, cache_dir/rootfs-KEY/root, KEY being a hash of
 * what went into it: the suite, the sorted package list, the mirror, the
 * variant and dpkg options, mmdebstrap's version and the layout's version.
 * QEMU serves it to the guest read-only over virtio-9p in place of the
 * host's /, and the guest's init mounts it as it mounts the host's
 * userland (its /usr, its /etc under a private writable layer): the config
 * channel, console, links and tasks are the same for both. */
#ifndef VTB_ROOTFS_H
#define VTB_ROOTFS_H

#include <stddef.h>

#include "image.h"

/* The mirror the trees come from. */
#define ROOTFS_MIRROR "http://deb.debian.org/debian"

/* A userland: image is "debian:SUITE", one of the model's known images
 * (xir_image_known); pkgs the extra packages (Debian names), sorted, each
 * once (the realization's rz_node.pkgs). */
struct rootfs_req {
	const char *image;
	const char **pkgs;
	size_t npkgs;
};

/* Make sure the tree of q exists under cache_dir (IMG_CACHE_DIR when
 * NULL), building it with mmdebstrap when it is missing (no daemon is
 * started: mmdebstrap installs a policy-rc.d while it runs), and copy the
 * directory to serve into root (rootlen bytes). The build runs in
 * cache_dir/.tmp-* and is renamed into place, under the lock of the guest
 * image's builds (img_ensure), so a crash leaves nothing that counts as
 * cached and concurrent builders wait; mmdebstrap runs in a mount
 * namespace of its own, so its mounts (/proc, /dev in the tree) end with
 * it. Its output goes to cache_dir/rootfs-KEY.log; each of its progress
 * lines ("I: downloading packages with apt...") is reported to progress
 * (may be NULL). A cache hit costs a read of mmdebstrap's version and a
 * stat. Returns 0; -ENOPKG when a package does not exist in the suite,
 * with err naming it ("package 'nosuch' does not exist in debian:bookworm
 * (mmdebstrap: E: Unable to locate package nosuch; its log: ...)");
 * -EINVAL for an image or package name that is not one; -ENOENT when
 * mmdebstrap is not installed; -EIO when it failed (err quotes it and
 * names the log); or another negative errno. Nothing is printed. */
int rootfs_ensure(const char *cache_dir, const struct rootfs_req *q, img_progress_fn progress,
		  void *arg, char *root, size_t rootlen, char *err, size_t errlen);

#endif
