/* image_impl: what the files of the image module share and nothing else
 * sees (see image.c for which file does what). Everyone else uses
 * image.h. */
#ifndef VTB_IMAGE_IMPL_H
#define VTB_IMAGE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "image.h"
#include "util.h"

/* Bumped whenever the layout of an image changes without any other input
 * changing, so that old cache entries stop matching. */
#define IMG_LAYOUT "1"

#define IMG_BUSYBOX "/bin/busybox"
#define IMG_MAX_MODULES 64
#define IMG_MAX_FILE (256u << 20) /* larger files are not what we think they are */
/* Where the seeds of a VM's private directories are in its initramfs. */
#define IMG_SEED_DIR ".vtb-seed"

/* ---- the guest (image_guest.c) ---- */

/* The kernel modules of the initramfs are the arch row's (vm/arch.c);
 * their dependencies are added (image_mods.c). */
/* /init: PID 1. Its text is part of the cache key. */
extern const char img_init_script[];
/* What /init starts with on a guest of another architecture than the
 * host's (its busybox cannot run here to list its applets): busybox
 * links its applets itself, then img_init_script follows. */
extern const char img_init_foreign[];
/* The small files of /etc, also part of the key. */
struct img_etc {
	const char *path, *text;
};
extern const struct img_etc img_etc[];
extern const size_t img_netc;

/* ---- the cache (image.c), shared with the Debian trees (rootfs.c) ---- */

/* Lock cache (cache/.lock, made with cache when missing) for a build:
 * waits for other builders, then removes what crashed builds left
 * (cache/.tmp-*). Returns the lock's fd (closing it unlocks) or a negative
 * errno with err saying why. */
int img_cache_lock(const char *cache, char *err, size_t errlen);
/* Make a build directory, cache/.tmp-NAME-XXXXXX, its path into tmp (len
 * bytes): what img_cache_lock's sweep removes after a crash. 0 or a
 * negative errno with err. */
int img_build_dir(const char *cache, const char *name, char *tmp, size_t len, char *err,
		  size_t errlen);
/* The same removal, at a cache hit, when no build holds the lock. */
void img_sweep_if_idle(const char *cache);

/* ---- running the host's tools (image_run.c) ---- */

struct img_cmd {
	const char *what;      /* for messages: "apt-get download linux-image-..." */
	const char *const *argv;
	const char *cwd;       /* NULL: ours */
	const char *in_path;   /* stdin; NULL: /dev/null */
	const char *out_path;  /* stdout into this new file; NULL: into out */
	struct util_buf *out;  /* stdout when out_path is NULL; NULL: discarded */
	int log_fd;            /* > 2: stderr is also written here (stdout too when
				* out_path and out are NULL); else unused */
	/* called with each line of stderr (no newline), when not NULL */
	void (*on_line)(void *arg, const char *line);
	void *line_arg;
};

/* Report a build step to progress (may be NULL). */
void img_step(img_progress_fn progress, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Run c->argv (argv[0] searched in PATH) and wait for it. posix_spawn,
 * not fork: `vtb up` calls this from a worker thread. Returns 0 when it
 * exited 0; -ENOENT when the program is missing; -EIO when it failed,
 * with err "WHAT failed: <its last error line>"; or another -errno. */
int img_run(const struct img_cmd *c, char *err, size_t errlen);

/* ---- the inputs and the key (image_key.c) ---- */

struct img_inputs {
	const struct vm_arch *arch; /* the guest's architecture */
	char cache[320];   /* the cache directory (its apt-ARCH/ for another arch) */
	char pkg[128];     /* linux-image-6.1.0-56-amd64 */
	char version[64];  /* 6.1.192-2 */
	char kver[64];     /* 6.1.0-56-amd64 */
	char busybox[64];  /* busybox-static's version (installed, or the suite's) */
	struct util_buf text; /* everything hashed */
};

/* Gather the inputs of a guest of arch into *in (the caller frees
 * in->text) and hash them into key; for another architecture than the
 * host's, the private package lists are fetched first when missing or
 * old (a progress step). Returns 0 or a negative errno with err saying
 * why. */
int img_key(const char *cache, const struct vm_arch *arch, struct img_inputs *in, char key[17],
	    img_progress_fn progress, void *arg, char *err, size_t errlen);

/* The modification times of paths (n of them; "-" for a missing one) as
 * text into buf: what changes when one of them changes. */
void img_stamp_paths(const char *const *paths, size_t n, char *buf, size_t len);

/* ---- another architecture's packages (image_apt.c) ---- */

/* An argv for apt-get or apt-cache: the tool, its options (the private
 * configuration of in->arch when it has a suite) and args. */
struct img_apt {
	const char *argv[40];
	char opt[12][400];
};
/* Fill t for tool and args (NULL-terminated); t->argv is NULL-terminated. */
void img_apt_argv(struct img_apt *t, const struct img_inputs *in, const char *tool,
		  const char *const *args);
/* For an arch with a suite: create CACHE/apt-ARCH/ with its sources.list
 * and fetch the package lists when they are missing or a day old (under
 * a lock of its own; with old lists and no mirror, the old lists stay).
 * 0 at once for the host's arch. 0 or a negative errno with err. */
int img_apt_prepare(const struct img_inputs *in, img_progress_fn progress, void *arg, char *err,
		    size_t errlen);
/* What changes when the private lists or sources change, as text. */
void img_apt_stamp_private(const struct img_inputs *in, char *buf, size_t len);

/* ---- the kernel package (image_kernel.c) ---- */

/* Download and unpack the kernel package into tmp/pkg (and, for another
 * architecture, busybox-static's into tmp/bb). */
int img_fetch(const char *tmp, const struct img_inputs *in, img_progress_fn progress, void *arg,
	      char *err, size_t errlen);
/* Put the kernel of the unpacked package (tmp/pkg) into tmp/out: for an
 * x86 bzImage the ELF vmlinux when its payload unpacks into one with a
 * PVH note, else the bzImage itself, as vmlinuz; for an arm64 or riscv64
 * Image, the Image (gunzipped when compressed). */
int img_kernel(const char *tmp, const struct img_inputs *in, img_progress_fn progress, void *arg,
	       char *err, size_t errlen);
/* 1 when the program at path is statically linked (an ELF without
 * PT_INTERP), 0 when it is not (or is no 64-bit ELF), or a negative errno
 * when it cannot be read. */
int img_is_static(const char *path);

/* ---- the modules (image_mods.c) ---- */

struct img_mod {
	char name[64];  /* module name: '-' written '_' */
	char rel[256];  /* file under lib/modules/VER, always ".ko" */
	char *data;
	size_t len;
	uint64_t deps;  /* bit i: needs mods[i], directly or not */
};

struct img_mods {
	const char *root;  /* tmp/pkg/lib/modules/VER */
	char *order;       /* modules.order */
	struct img_mod v[IMG_MAX_MODULES];
	size_t n;          /* loaded, in load order */
	const char *tmp;
};

/* Load the modules of arch a and their dependencies from the unpacked
 * package's modules directory root into m (zeroed by the caller;
 * img_mods_free releases it, also after a failure). */
int img_mods_load(struct img_mods *m, const struct vm_arch *a, const char *root, char *err,
		  size_t errlen);
void img_mods_free(struct img_mods *m);

/* ---- newc cpio and the initramfs (image_cpio.c) ---- */

struct img_cpio {
	struct util_buf b;
	uint32_t ino;
	struct util_map dirs; /* directories already written */
};

/* A cpio archive is built in memory: a failed append sets c->b.oom, which
 * the caller checks once at the end. */
void img_cpio_init(struct img_cpio *c);
void img_cpio_free(struct img_cpio *c);
/* Append one entry. Its parent directories must be there already. */
void img_cpio_entry(struct img_cpio *c, const char *name, unsigned mode, unsigned rmaj,
		    unsigned rmin, const void *data, size_t len);
void img_cpio_entry_owned(struct img_cpio *c, const char *name, unsigned mode, unsigned uid,
			  unsigned gid, unsigned rmaj, unsigned rmin, const void *data, size_t len);
/* Append the host directory dir (files, directories, symlinks, with their
 * modes and owners; other kinds are skipped) as name, whose parents must be
 * there already. At most *budget bytes of file data, taken from it:
 * -EFBIG beyond. 0 or a negative errno (image_seed.c). */
int img_cpio_tree(struct img_cpio *c, const char *name, const char *dir, size_t *budget);
/* Append directory path and the parents not yet written. */
void img_cpio_dirs(struct img_cpio *c, const char *path);
/* Append a file and the directories above it. */
void img_cpio_file(struct img_cpio *c, const char *name, unsigned mode, const void *data,
		   size_t len);
void img_cpio_trailer(struct img_cpio *c);
/* Write tmp/out/initrd.img: busybox, its applets, /init, /etc, modules. */
int img_initrd(const char *tmp, const struct img_inputs *in, const struct img_mods *m, char *err,
	       size_t errlen);

#endif
