/* vtb compile: check a model and print what it would build, or its XIR. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compile.h"
#include "realize.h"
#include "xir_json.h"

#define LIST_MAX 40 /* objects listed one per line before "... and N more" */

static int print_nodes(const struct xir *x)
{
	size_t i, nvm = 0;
	char cons[512];
	bool *vm;

	if (xir_vm_nodes(x, &vm))
		return -ENOMEM;
	for (i = 0; i < x->nnodes; i++)
		nvm += vm[i];
	printf("  %zu node%s: %zu container%s, %zu VM%s\n", x->nnodes, x->nnodes == 1 ? "" : "s",
	       x->nnodes - nvm, x->nnodes - nvm == 1 ? "" : "s", nvm, nvm == 1 ? "" : "s");
	for (i = 0; i < x->nnodes && i < LIST_MAX; i++) {
		cli_format_cset(&x->nodes[i].cons, cons, sizeof(cons));
		printf("    %-9s %-16s %s\n", vm[i] ? "VM" : "container", cli_esc(x->nodes[i].name), cons);
	}
	if (i < x->nnodes)
		printf("    ... and %zu more\n", x->nnodes - i);
	free(vm);
	return 0;
}

static void print_links(const struct xir *x)
{
	size_t i, j, kinds[2][2] = { { 0 } };
	char cons[512], eps[256];

	for (i = 0; i < x->nlinks; i++)
		kinds[x->links[i].nep > 2][xir_link_is_emulated(x, &x->links[i])]++;
	printf("  %zu link%s: %zu direct and %zu emulated point-to-point, %zu direct and %zu emulated LAN%s\n",
	       x->nlinks, x->nlinks == 1 ? "" : "s", kinds[0][0], kinds[0][1], kinds[1][0],
	       kinds[1][1], kinds[1][0] + kinds[1][1] == 1 ? "" : "s");
	for (i = 0; i < x->nlinks && i < LIST_MAX; i++) {
		const struct xir_link *l = &x->links[i];
		size_t off = 0;

		eps[0] = '\0';
		for (j = 0; j < l->nep && off + 70 < sizeof(eps); j++)
			off += (size_t)snprintf(eps + off, sizeof(eps) - off, "%s%s",
						j ? (l->nep == 2 ? " <-> " : ", ") : "",
						cli_esc(x->nodes[l->ep[j].node].name));
		if (j < l->nep)
			snprintf(eps + off, sizeof(eps) - off, ", ...");
		cli_format_cset(&l->cons, cons, sizeof(cons));
		printf("    %-8s %-9s %-16s %s%s%s\n", xir_link_is_emulated(x, l) ? "emulated" : "direct",
		       l->nep > 2 ? "LAN" : "p2p", cli_esc(l->name ? l->name : "?"), eps, cons[0] ? "  " : "",
		       cons);
		for (j = 0; j < l->nep; j++) {
			if (!l->ep[j].cons.n)
				continue;
			cli_format_cset(&l->ep[j].cons, cons, sizeof(cons));
			printf("      at %-14s %s\n", cli_esc(x->nodes[l->ep[j].node].name), cons);
		}
	}
	if (i < x->nlinks)
		printf("    ... and %zu more\n", x->nlinks - i);
}

static void print_tasks(const struct xir *x)
{
	size_t i;

	printf("  %zu task%s\n", x->ntasks, x->ntasks == 1 ? "" : "s");
	for (i = 0; i < x->ntasks && i < LIST_MAX; i++)
		printf("    %-16s %zu command%s, timeout %.6g s\n", cli_esc(x->tasks[i].name), x->tasks[i].ncmd,
		       x->tasks[i].ncmd == 1 ? "" : "s", (double)x->tasks[i].timeout_ns / 1e9);
	if (i < x->ntasks)
		printf("    ... and %zu more\n", x->ntasks - i);
}

static int print_summary(const struct xir *x, const char *file)
{
	char cons[512];

	printf("%s: experiment '%s' compiles; it would build:\n", cli_esc(file), cli_esc(x->name));
	if (print_nodes(x))
		return -ENOMEM;
	print_links(x);
	print_tasks(x);
	if (x->cons.n) {
		cli_format_cset(&x->cons, cons, sizeof(cons));
		printf("  settings: %s\n", cons);
	}
	return 0;
}

int cmd_compile(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	struct diag_list d;
	struct xir *x = NULL;
	char *src = NULL, *text;
	size_t len;
	int i, r, status = CLI_OK;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' && argv[i][1]) {
			cli_err("compile: unknown option '%s' (usage: vtb compile MODEL [--json])", argv[i]);
			return CLI_USER;
		} else if (file) {
			cli_err("compile: one model at a time ('%s' and '%s')", file, argv[i]);
			return CLI_USER;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		cli_err("compile: which model? usage: vtb compile MODEL [--json]");
		return CLI_USER;
	}
	r = compile_read_file(file, &src, &len);
	if (r) {
		cli_err("cannot read %s: %s", file, strerror(-r));
		return r == -ENOENT || r == -EISDIR || r == -EACCES ? CLI_USER : CLI_SYSTEM;
	}
	diag_init(&d, file, src, len);
	r = compile_source(file, src, len, NULL, &x, &d, NULL);
	if (!r)
		realize_unsupported(x, true, &d); /* what vtb up will refuse, said now */
	text = diag_format(&d);
	if (text && *text)
		fputs(text, stderr);
	free(text);
	if (r == -ENOMEM) {
		cli_err("%s: out of memory", file);
		status = CLI_SYSTEM;
	} else if (r) {
		status = CLI_USER;
	} else if (json) {
		r = xjson_write(x, stdout);
		if (r) {
			cli_err("cannot write the XIR: %s", strerror(-r));
			status = CLI_SYSTEM;
		}
	} else if (print_summary(x, file)) {
		cli_err("%s: out of memory", file);
		status = CLI_SYSTEM;
	}
	if (fflush(stdout) && status == CLI_OK) {
		cli_err("cannot write the output: %s", strerror(errno));
		status = CLI_SYSTEM;
	}
	xir_free(x);
	diag_free(&d);
	free(src);
	return status;
}
