/* files: the files a model writes into its nodes (file(node, path, text),
 * docs/model-language.md). vtb run writes them at the start of every run,
 * before the first task, as a task of its own named FILES_TASK whose
 * steps run in the nodes the way commands do (entered as vtb exec enters
 * them, so a file is node root's): so a run that changed one starts from
 * the model's text again under --repeat. */
#ifndef VTB_FILES_H
#define VTB_FILES_H

#include <stddef.h>

#include "realize.h"

/* The name of the task that writes the files: not a name a model can give
 * a task, so it never meets one. */
#define FILES_TASK "(files)"
/* How long writing the files may take: a mkdir and a printf per file,
 * milliseconds each; a VM's console is slower; far more than either. */
#define FILES_TIMEOUT_NS (30LL * 1000000000LL)

/* The text of file f of x with its placeholders replaced from rz: {{node}}
 * the node's name, {{ip.ethN}} and {{cidr.ethN}} its interface's address.
 * *out is the caller's. Returns 0, or -EINVAL with err naming the file
 * and the placeholder (an interface without an IPv4 address), or -ENOMEM. */
int files_text(const struct xir *x, const struct realization *rz, const struct xir_file *f,
	       char **out, char *err, size_t errlen);

/* Put the task FILES_TASK, writing every file of x, first among x's
 * tasks (nothing when x has no file). Returns 0 or a negative errno with
 * err. */
int files_task(struct xir *x, const struct realization *rz, char *err, size_t errlen);

#endif
