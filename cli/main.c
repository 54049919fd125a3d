/* vtb: the command table and dispatch. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define VTB_VERSION "0.1.0"

static const struct cli_cmd commands[] = {
	{ "compile", cmd_compile, "vtb compile MODEL [--json]",
	  "check a model (or XIR JSON); print what it would build, or the XIR as JSON" },
	{ "up", cmd_up, "vtb up MODEL [--name NAME] [--local]",
	  "compile, realize and build an experiment; print a summary" },
	{ "status", cmd_status, "vtb status [NAME] [--json]",
	  "experiments, or one experiment's nodes, addresses and links" },
	{ "exec", cmd_exec, "vtb exec NAME NODE [-- CMD [ARG...]]",
	  "run a command on a node (a shell when no command is given)" },
	{ "run", cmd_run,
	  "vtb run NAME [--json] [--keep-going] [--repeat N] [--sweep LINK.PARAM=V1,V2...] [--show] "
	  "[--local] [--skew-ok]",
	  "run the experiment's tasks; report, keep and list (--show) their results" },
	{ "results", cmd_results, "vtb results NAME [--csv | --json | --plot X Y [-o FILE.png]]",
	  "the runs' parameters and measured values, one row per run and command; or a plot" },
	{ "link", cmd_link,
	  "vtb link set NAME (A B | LINK) [--from NODE] K=V... | vtb link (down | up) NAME (A B | LINK)"
	  " [--from NODE]",
	  "change an emulated link at run time: latency=20ms loss=1% capacity=10mbps ...; cut a link "
	  "like a pulled cable (down) and restore it (up)" },
	{ "capture", cmd_capture,
	  "vtb capture NAME (LINK | A B) [--from NODE] [--ingress] [-w FILE.pcap] [-c COUNT] [-- FILTER]"
	  " | NAME --all -w DIR",
	  "a pcap of a link's frames, live on standard output without -w (| tcpdump -r -)" },
	{ "node", cmd_node, "vtb node set NAME NODE K=V... | (stop | start | restart) NAME NODE",
	  "change a node's limits at run time: cores=2 memory=512mb cpufreq=1.1ghz; fail a node "
	  "(stop: frozen, its links cut), start it again, restart its userland" },
	{ "graph", cmd_graph, "vtb graph (MODEL | NAME) [-o FILE.svg|.png|.pdf|.dot]",
	  "draw the topology with Graphviz (DOT text on standard output without -o)" },
	{ "image", cmd_image, "vtb image build [--force] [debian:SUITE [PACKAGE...]]",
	  "build (or find cached) the guest image of VM nodes: a Debian kernel + busybox" },
	{ "cluster", cmd_cluster,
	  "vtb cluster (init | join) --etcd URL[,URL...] [--host NAME] [--underlay ADDR] "
	  "[--bundle FILE] | "
	  "vtb cluster (status [--json] | leave) | vtb cluster ca [--dir DIR] | "
	  "vtb cluster cert NAME --underlay ADDR -o FILE",
	  "make or join a cluster of hosts through etcd (--bundle FILE: with the host's certificate);"
	  " list its hosts; leave it; make the cluster's CA, issue a certificate" },
	{ "agent", cmd_agent, "vtb agent [--foreground]",
	  "a cluster host's agent: keeps the host alive in etcd (in the background unless "
	  "--foreground)" },
	{ "down", cmd_down, "vtb down [--local] NAME", "remove everything NAME created, in reverse order" },
	{ "clean", cmd_clean, "vtb clean",
	  "remove what the journal lists for experiments whose vtb is gone (crash, kill -9)" },
};

/* --help or -h among a command's arguments, before any "--" (after it, the
 * words are a node command's: vtb exec E a -- ls --help). */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "vtb %s: a virtual network testbed\n\nusage:\n", VTB_VERSION);
	for (i = 0; i < UTIL_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-36s %s\n", commands[i].usage, commands[i].summary);
	fprintf(f, "\nvtb COMMAND --help shows one command. Documentation: docs/cli.md\n");
}

int main(int argc, char **argv)
{
	const char *names[UTIL_ARRAY_SIZE(commands)];
	const char *near;
	size_t i;
	int status;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USER : CLI_OK;
	}
	if (!strcmp(argv[1], "__supervise"))
		return cmd_supervise(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__vmexec"))
		return cmd_vmexec(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__step"))
		return cmd_step(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__fragment-up"))
		return cmd_fragment_up(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__relay-session"))
		return cmd_relay_session(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vtb %s\n", VTB_VERSION);
		return CLI_OK;
	}
	for (i = 0; i < UTIL_ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			if (wants_help(argc, argv)) {
				printf("usage: %s\n%s\n", commands[i].usage, commands[i].summary);
				return CLI_OK;
			}
			argc--;
			if ((status = cli_relay_front(&argc, argv + 1)) >= 0)
				return status;
			return commands[i].main(argc, argv + 1);
		}
		names[i] = commands[i].name;
	}
	near = util_closest(argv[1], names, UTIL_ARRAY_SIZE(commands));
	if (near)
		cli_err("unknown command '%s'; did you mean '%s'? (vtb help lists them)", argv[1], near);
	else
		cli_err("unknown command '%s' (vtb help lists them)", argv[1]);
	return CLI_USER;
}
