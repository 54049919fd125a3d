/* vtb cluster init|join|status|leave and vtb agent: a host's membership of
 * a cluster (docs/cluster.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "clconf.h"
#include "clhost.h"
#include "cli.h"
#include "db.h"
#include "etcd.h"
#include "file.h"
#include "sup_log.h"
#include "tls.h"
#include "util.h"

#define CLUSTER_USAGE "vtb cluster (init | join) --etcd URL[,URL...] [--host NAME] " \
		      "[--underlay ADDR] [--bundle FILE] | vtb cluster (status [--json] | leave) | " \
		      "vtb cluster ca [--dir DIR] | vtb cluster cert NAME --underlay ADDR -o FILE " \
		      "[--ca DIR] | vtb cluster revoke NAME [--cert FILE] [--ca DIR]"

/* The host part of the first URL of list ("http://10.0.0.1:2379,..." ->
 * "10.0.0.1") and its port, into host (len bytes). 0 or -EINVAL. */
static int first_url_host(const char *list, char *host, size_t len, char *port, size_t plen)
{
	const char *p = strstr(list, "://"), *end, *colon;
	size_t n;

	if (!p)
		return -EINVAL;
	p += 3;
	end = p + strcspn(p, ",/");
	colon = memchr(p, ':', (size_t)(end - p));
	n = (size_t)((colon ? colon : end) - p);
	if (!n || n >= len)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	n = colon ? (size_t)(end - colon - 1) : 0;
	snprintf(port, plen, "%.*s", (int)n, colon ? colon + 1 : "");
	if (!port[0])
		snprintf(port, plen, "2379");
	return 0;
}

/* This host's address toward etcd (the source address of the route to
 * the first endpoint): the default underlay. 0 or a negative errno. */
static int route_source(const char *etcd, char *addr, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);
	char host[256], port[16];
	int fd = -1, r;

	r = first_url_host(etcd, host, sizeof(host), port, sizeof(port));
	if (r)
		return r;
	if (getaddrinfo(host, port, &hints, &ai))
		return -EHOSTUNREACH;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) ||
	    getsockname(fd, (struct sockaddr *)&me, &mlen) ? -errno : 0;
	if (!r && !inet_ntop(AF_INET, &me.sin_addr, addr, (socklen_t)len))
		r = -errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

/* Parse init/join's options into c, with the defaults: the host's name
 * (its first label) and the route's source address. CLI_OK or CLI_USER. */
static int member_opts(const char *cmd, int argc, char **argv, struct clconf *c,
		       const char **bundle)
{
	const char *etcd = NULL, *host = NULL, *under = NULL;
	char name[256], why[UTIL_ERR_LEN], dir[CLCONF_PATH_MAX], tls[4 * CLCONF_PATH_MAX] = "";
	int i;

	for (i = 1; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--etcd") ? &etcd :
				   !strcmp(argv[i], "--host") ? &host :
				   !strcmp(argv[i], "--underlay") ? &under :
				   !strcmp(argv[i], "--bundle") ? bundle : NULL;

		if (!dst || i + 1 >= argc) {
			cli_err("cluster %s: %s '%s' (usage: %s)", cmd,
				dst ? "a value is missing after" : "unknown option", argv[i],
				CLUSTER_USAGE);
			return CLI_USER;
		}
		*dst = argv[++i];
	}
	if (!etcd && getenv("VTB_ETCD") && *getenv("VTB_ETCD"))
		etcd = getenv("VTB_ETCD");
	if (!etcd) {
		cli_err("cluster %s: which etcd? --etcd URL[,URL...] or $VTB_ETCD (usage: %s)", cmd,
			CLUSTER_USAGE);
		return CLI_USER;
	}
	if (!host) {
		if (gethostname(name, sizeof(name)))
			snprintf(name, sizeof(name), "localhost");
		name[sizeof(name) - 1] = '\0';
		name[strcspn(name, ".")] = '\0';
		host = name;
	}
	if (!under && route_source(etcd, c->underlay, sizeof(c->underlay))) {
		cli_err("cluster %s: no route to %s to take the underlay address from: give "
			"--underlay ADDR", cmd, etcd);
		return CLI_USER;
	}
	clconf_dir(NULL, dir, sizeof(dir));
	if (*bundle)
		snprintf(tls, sizeof(tls), "ca = %s/%s\ncert = %s/%s\nkey = %s/%s\n", dir, TLS_CA_FILE,
			 dir, TLS_CERT_FILE, dir, TLS_KEY_FILE);
	if (snprintf(why, sizeof(why), "etcd = %s\nhost = %s\nunderlay = %s\n%s", etcd, host,
		     under ? under : c->underlay, tls) >= (int)sizeof(why) ||
	    clconf_parse(why, strlen(why), c, why)) {
		cli_err("cluster %s: %s", cmd, why);
		return CLI_USER;
	}
	return CLI_OK;
}

/* Whether another host already goes by c's name: CLI_OK when none does
 * (or it is this one again: same underlay), CLI_USER (said) otherwise. */
static int name_free(struct etcd *e, const struct clconf *c)
{
	char key[sizeof(CLHOST_PREFIX) + CLCONF_HOST_MAX], err[UTIL_ERR_LEN], *val = NULL;
	struct clhost old;
	size_t len;
	int r;

	snprintf(key, sizeof(key), CLHOST_PREFIX "%s", c->host);
	r = etcd_get(e, key, &val, &len, NULL, err);
	if (r == -ENOENT)
		return CLI_OK;
	if (r) {
		cli_err("cannot read the cluster's hosts: %s", err);
		return CLI_SYSTEM;
	}
	r = clhost_parse(val, len, &old, err);
	free(val);
	if (!r && strcmp(old.underlay, c->underlay)) {
		cli_err("a host named '%s' is a member already, with underlay %s: give --host "
			"another name", c->host, old.underlay);
		return CLI_USER;
	}
	return CLI_OK;
}

/* vtb cluster init (create) or join: register this host and write the
 * configuration. */
static int cluster_member(const char *cmd, bool create, int argc, char **argv)
{
	struct etcd_cmp absent = { .key = CLHOST_CLUSTER_KEY, .target = ETCD_CREATE,
				   .result = ETCD_EQUAL, .num = 0 };
	struct etcd_op mark = { .kind = ETCD_OP_PUT, .key = CLHOST_CLUSTER_KEY };
	struct clconf c;
	struct clhost h;
	struct etcd *e = NULL;
	char err[UTIL_ERR_LEN], body[256], dir[CLCONF_PATH_MAX], *val = NULL;
	const char *bundle = NULL;
	bool made = false;
	size_t len;
	int status, r;

	status = cli_need_root(create ? "cluster init" : "cluster join");
	if (!status)
		status = member_opts(cmd, argc, argv, &c, &bundle);
	if (status)
		return status;
	clconf_dir(NULL, dir, sizeof(dir));
	if (bundle && tls_bundle_install(bundle, dir, c.host, &c, err)) {
		cli_err("cluster %s: %s", cmd, err);
		return CLI_USER;
	}
	if (tls_etcd_open(&c, &e, err)) {
		cli_err("cluster %s: %s", cmd, err);
		return CLI_SYSTEM;
	}
	snprintf(body, sizeof(body), "{\"created\":%lld,\"by\":\"%s\"}", (long long)time(NULL),
		 c.host);
	mark.val = body;
	mark.len = strlen(body);
	r = create ? etcd_txn(e, &absent, 1, &mark, 1, NULL, 0, &made, err)
		   : etcd_get(e, CLHOST_CLUSTER_KEY, &val, &len, NULL, err);
	free(val);
	status = CLI_SYSTEM;
	if (r == -ENOENT || (!r && create && !made)) {
		cli_err(create ? "a cluster exists at %s already: vtb cluster join --etcd %s"
			       : "no cluster at %s: vtb cluster init --etcd %s on its first host",
			c.etcd, c.etcd);
		status = CLI_USER;
		goto out;
	}
	if (r) {
		cli_err("cluster %s: %s", cmd, err);
		goto out;
	}
	status = name_free(e, &c);
	if (status)
		goto out;
	status = CLI_SYSTEM;
	r = clhost_inventory(&c, &h);
	h.joined = h.seen = (int64_t)time(NULL);
	if (r || clhost_put(e, &h, err) || clconf_write(NULL, &c, err)) {
		cli_err("cluster %s: %s", cmd, r ? strerror(-r) : err);
		goto out;
	}
	printf("host '%s' (underlay %s) %s the cluster at %s; configuration in %s\n"
	       "start its agent: vtb agent (or the systemd unit scripts/vtb-agent.service)\n",
	       c.host, c.underlay, create ? "made" : "joined", c.etcd, clconf_path());
	status = CLI_OK;
out:
	etcd_close(e);
	return status;
}

/* Open this host's configuration and etcd, or say why not. */
static int cluster_open(const char *cmd, struct clconf *c, struct etcd **e)
{
	char err[UTIL_ERR_LEN];
	int r = clconf_read(NULL, c, err);

	*e = NULL;
	if (r == -ENOENT) {
		cli_err("%s: this host is in no cluster (%s is missing): vtb cluster init or join",
			cmd, clconf_path());
		return CLI_USER;
	}
	if (!r)
		r = tls_etcd_open(c, e, err);
	if (r) {
		cli_err("%s: %s", cmd, err);
		return CLI_SYSTEM;
	}
	return CLI_OK;
}

/* "12:31:10" today, "2026-12-04 12:31" before. */
static void when(int64_t t, char *buf, size_t len)
{
	time_t now = time(NULL), tt = (time_t)t;
	struct tm a, b;

	localtime_r(&now, &a);
	localtime_r(&tt, &b);
	strftime(buf, len, a.tm_yday == b.tm_yday && a.tm_year == b.tm_year ? "%H:%M:%S"
									   : "%Y-%m-%d %H:%M",
		 &b);
}

static void status_text(const struct clconf *c, const struct clhost *v, size_t n)
{
	char since[32], mem[32], used[48];
	size_t i, alive = 0;

	for (i = 0; i < n; i++)
		alive += v[i].alive;
	printf("cluster at %s: %zu host%s, %zu alive (this host: %s)\n", c->etcd, n,
	       n == 1 ? "" : "s", alive, c->host);
	printf("  %-12s %-15s %6s %10s  %-22s %-3s  %s\n", "HOST", "UNDERLAY", "CORES", "MEMORY",
	       "ALLOCATED", "KVM", "STATE");
	for (i = 0; i < n; i++) {
		const struct clhost *h = &v[i];

		snprintf(mem, sizeof(mem), "%.1f GiB", (double)h->memory / (1 << 30));
		snprintf(used, sizeof(used), "%.1f cores, %.1f GiB", (double)h->used_cores / 1000,
			 (double)h->used_memory / (1 << 30));
		when(h->alive ? h->alive_since : h->seen, since, sizeof(since));
		printf("  %-12s %-15s %6.1f %10s  %-22s %-3s  ", cli_esc(h->name),
		       cli_esc(h->underlay), (double)h->cores / 1000, mem, used, h->kvm ? "yes" : "no");
		if (h->alive)
			printf("alive since %s (agent pid %d)\n", since, (int)h->agent_pid);
		else
			printf("lost: last heard at %s\n", since);
	}
}

static int status_json(const struct clhost *v, size_t n)
{
	json_t *a = json_array();
	size_t i;
	int r;

	for (i = 0; a && i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:I, s:b, s:I, s:I, s:I}", "name",
				     v[i].name, "underlay", v[i].underlay, "cores",
				     (json_int_t)v[i].cores, "memory", (json_int_t)v[i].memory, "kvm",
				     v[i].kvm, "used_cores", (json_int_t)v[i].used_cores,
				     "used_memory", (json_int_t)v[i].used_memory, "alive", v[i].alive,
				     "since", (json_int_t)(v[i].alive ? v[i].alive_since : v[i].seen),
				     "joined", (json_int_t)v[i].joined, "agent_pid",
				     (json_int_t)v[i].agent_pid));
	r = a ? json_dumpf(a, stdout, JSON_INDENT(2)) : -1;
	json_decref(a);
	putchar('\n');
	return r ? CLI_SYSTEM : CLI_OK;
}

static int cluster_status(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	struct clhost *v = NULL;
	struct etcd *e = NULL;
	struct clconf c;
	char err[UTIL_ERR_LEN];
	size_t n = 0;
	int status;

	if (argc > (json ? 2 : 1)) {
		cli_err("cluster status: unknown option '%s' (usage: %s)", argv[json ? 2 : 1],
			CLUSTER_USAGE);
		return CLI_USER;
	}
	status = cluster_open("cluster status", &c, &e);
	if (status)
		return status;
	if (clhost_list(e, &v, &n, err)) {
		cli_err("cluster status: %s", err);
		status = CLI_SYSTEM;
	} else if (json) {
		status = status_json(v, n);
	} else {
		status_text(&c, v, n);
	}
	free(v);
	etcd_close(e);
	return status;
}

/* vtb cluster leave: refused while experiments hold part of this host. */
static int cluster_leave(void)
{
	struct clhost *v = NULL;
	struct etcd *e = NULL;
	struct clconf c;
	char err[UTIL_ERR_LEN];
	size_t n = 0, i;
	int status;

	status = cli_need_root("cluster leave");
	if (!status)
		status = cluster_open("cluster leave", &c, &e);
	if (status)
		return status;
	status = CLI_SYSTEM;
	if (clhost_list(e, &v, &n, err))
		goto fail;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, c.host) && (v[i].used_cores || v[i].used_memory)) {
			cli_err("cluster leave: experiments hold %.1f cores and %.1f GiB of host '%s': "
				"vtb down them first", (double)v[i].used_cores / 1000,
				(double)v[i].used_memory / (1 << 30), c.host);
			status = CLI_USER;
			goto out;
		}
	if (clhost_remove(e, c.host, err))
		goto fail;
	if (unlink(clconf_path()) && errno != ENOENT) {
		util_fmt(err, sizeof(err), "cannot remove %s: %s", clconf_path(), strerror(errno));
		goto fail;
	}
	printf("host '%s' left the cluster at %s (its agent ends within %d ms); the agents refuse "
	       "it from now on, etcd still takes its certificate: to shut it out of etcd too, vtb "
	       "cluster revoke %s on the CA's host\n", c.host, c.etcd, CLHOST_RENEW_MS, c.host);
	status = CLI_OK;
	goto out;
fail:
	cli_err("cluster leave: %s", err);
out:
	free(v);
	etcd_close(e);
	return status;
}

/* vtb cluster ca [--dir DIR]: make the cluster's CA (once, on one host,
 * before etcd starts: its certificate is issued by this CA too). */
static int cluster_ca(int argc, char **argv)
{
	char dir[CLCONF_PATH_MAX], err[UTIL_ERR_LEN];
	int r;

	if (argc == 3 && !strcmp(argv[1], "--dir")) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	} else if (argc == 1) {
		clconf_dir(NULL, dir, sizeof(dir));
	} else {
		cli_err("cluster ca: usage: vtb cluster ca [--dir DIR]");
		return CLI_USER;
	}
	r = tls_ca_make(dir, err);
	if (r) {
		cli_err("cluster ca: %s", err);
		return r == -EEXIST ? CLI_USER : CLI_SYSTEM;
	}
	printf("the cluster's CA is in %s (%s, and its key %s: keep it on this host only)\n"
	       "issue each host's certificate here: vtb cluster cert HOST --underlay ADDR -o FILE\n",
	       dir, TLS_CA_FILE, TLS_CA_KEY_FILE);
	return CLI_OK;
}

/* vtb cluster cert NAME --underlay ADDR -o FILE [--ca DIR]: a bundle for
 * host (or etcd member) NAME, from the CA in DIR. */
static int cluster_cert(int argc, char **argv)
{
	const char *ip = NULL, *out = NULL, *cadir = NULL;
	char dir[CLCONF_PATH_MAX], err[UTIL_ERR_LEN];
	int i;

	for (i = 2; i + 1 < argc; i += 2) {
		const char **dst = !strcmp(argv[i], "--underlay") ? &ip :
				   !strcmp(argv[i], "-o") ? &out :
				   !strcmp(argv[i], "--ca") ? &cadir : NULL;

		if (!dst)
			break;
		*dst = argv[i + 1];
	}
	if (argc < 2 || i != argc || !ip || !out) {
		cli_err("cluster cert: usage: vtb cluster cert NAME --underlay ADDR -o FILE [--ca DIR]");
		return CLI_USER;
	}
	if (!cadir)
		clconf_dir(NULL, dir, sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%s", cadir);
	if (tls_cert_issue(dir, argv[1], ip, out, err)) {
		cli_err("cluster cert: %s", err);
		return CLI_USER;
	}
	printf("%s: the certificate of '%s' (%s), the CA's and its key: give it to that host "
	       "(vtb cluster join --bundle %s) over a trusted channel, then remove it\n", out,
	       argv[1], ip, out);
	return CLI_OK;
}

/* Publish the CRL of cadir in etcd, when this host is a member, and bring
 * this host's copy up to date. 1 when published, 0 when this host is in
 * no cluster, or CLI_SYSTEM's opposite after saying why. */
static int revoke_publish(const char *cadir)
{
	char err[UTIL_ERR_LEN];
	struct etcd *e = NULL;
	struct clconf c;
	int r = clconf_read(NULL, &c, err);

	if (r == -ENOENT)
		return 0;
	if (!r)
		r = tls_etcd_open(&c, &e, err);
	if (!r)
		r = tls_crl_publish(e, cadir, err);
	if (!r && tls_crl_sync(e, &c, err) < 0)
		r = -EIO;
	etcd_close(e);
	if (r) {
		cli_err("cluster revoke: the revocation list is made but not published: %s", err);
		return -CLI_SYSTEM;
	}
	return 1;
}

/* vtb cluster revoke NAME [--cert FILE] [--ca DIR]: revoke the
 * certificates issued to host (or etcd member) NAME, and the one of FILE,
 * in the CA's revocation list, and publish it in etcd. */
static int cluster_revoke(int argc, char **argv)
{
	const char *cert = NULL, *cadir = NULL;
	char dir[CLCONF_PATH_MAX], err[UTIL_ERR_LEN];
	size_t added;
	long number;
	int i, r;

	for (i = 2; i + 1 < argc; i += 2) {
		const char **dst = !strcmp(argv[i], "--cert") ? &cert :
				   !strcmp(argv[i], "--ca") ? &cadir : NULL;

		if (!dst)
			break;
		*dst = argv[i + 1];
	}
	if (argc < 2 || i != argc || argv[1][0] == '-') {
		cli_err("cluster revoke: usage: vtb cluster revoke NAME [--cert FILE] [--ca DIR]");
		return CLI_USER;
	}
	if (cadir)
		snprintf(dir, sizeof(dir), "%s", cadir);
	else
		clconf_dir(NULL, dir, sizeof(dir));
	r = tls_crl_revoke(dir, argv[1], cert, &added, &number, err);
	if (r) {
		cli_err("cluster revoke: %s", err);
		return r == -ENOENT || r == -EINVAL ? CLI_USER : CLI_SYSTEM;
	}
	printf("'%s': %zu certificate%s revoked%s; revocation list number %ld in %s/%s\n",
	       argv[1], added, added == 1 ? "" : "s", added ? "" : " (all were already)", number, dir,
	       TLS_CRL_FILE);
	r = revoke_publish(dir);
	if (r < 0)
		return -r;
	printf("%s\netcd refuses it once each member's --client-crl-file is this list: copy %s/%s "
	       "there (etcd reads it at each new connection; connections open already stay: restart "
	       "the members one at a time to cut them)\n",
	       r ? "published in etcd: every agent refuses it from its next connection on"
		 : "not published (this host is in no cluster): run this on a member holding the CA, "
		   "or the agents do not know",
	       dir, TLS_CRL_FILE);
	return CLI_OK;
}

int cmd_cluster(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "init") || !strcmp(sub, "join"))
		return cluster_member(sub, !strcmp(sub, "init"), argc - 1, argv + 1);
	if (!strcmp(sub, "status"))
		return cluster_status(argc - 1, argv + 1);
	if (!strcmp(sub, "leave") && argc == 2)
		return cluster_leave();
	if (!strcmp(sub, "ca"))
		return cluster_ca(argc - 1, argv + 1);
	if (!strcmp(sub, "cert"))
		return cluster_cert(argc - 1, argv + 1);
	if (!strcmp(sub, "revoke"))
		return cluster_revoke(argc - 1, argv + 1);
	cli_err("cluster: %s '%s' (usage: %s)", *sub ? "unknown" : "which command?", sub,
		CLUSTER_USAGE);
	return CLI_USER;
}

/* Say why the agent cannot start: to the waiting caller through fd when
 * it runs in the background (stderr becomes the log), else on stderr. */
static void agent_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void agent_say(int fd, const char *fmt, ...)
{
	char msg[UTIL_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fd >= 0)
		dprintf(fd, "%s", msg);
	else
		cli_err("agent: %s", msg);
}

/* Go to the background: the parent waits for the child's word on the
 * pipe ready (a NUL once the host is registered and alive, else why not)
 * and returns the exit status; the child returns -1 and goes on, ready[1]
 * its end. */
static int agent_detach(const struct clconf *c, int ready[2])
{
	char msg[UTIL_ERR_LEN];
	ssize_t got;
	pid_t child;

	if (pipe2(ready, O_CLOEXEC) || (child = fork()) < 0) {
		cli_err("agent: cannot go to the background: %s", strerror(errno));
		return CLI_SYSTEM;
	}
	if (child == 0) {
		close(ready[0]);
		/* nothing the caller had open stays open for as long as the
		 * agent runs (a lock taken around vtb agent stayed held) */
		if (ready[1] > 3)
			syscall(SYS_close_range, 3, (unsigned)ready[1] - 1, 0);
		syscall(SYS_close_range, (unsigned)ready[1] + 1, ~0U, 0);
		setsid();
		if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout))
			_exit(CLI_SYSTEM);
		return -1;
	}
	close(ready[1]);
	while ((got = read(ready[0], msg, sizeof(msg) - 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (got == 1 && !msg[0]) {
		printf("agent of host '%s' started (pid %d); its log: %s/%s\n", c->host, (int)child,
		       db_state_dir(), AGENT_LOG_NAME);
		return CLI_OK;
	}
	msg[got > 0 ? got : 0] = '\0';
	cli_err("agent: %s", got > 0 ? msg : "it ended before it was up");
	return CLI_SYSTEM;
}

/* The agent itself, in this process: its lock, its log, then agent_run
 * until a signal. fd: where to say that it is up or why not (-1: stderr). */
static int agent_main(const struct clconf *c, int fd)
{
	char err[UTIL_ERR_LEN], log[512];
	int r, lock = -1;
	sigset_t set;
	pid_t other;

	r = file_mkdir_p(db_state_dir(), 0700);
	if (!r)
		r = agent_lock(&lock, &other);
	if (r == -EBUSY) {
		agent_say(fd, "one runs already (pid %d)", (int)other);
		return CLI_USER;
	}
	snprintf(log, sizeof(log), "%s/%s", db_state_dir(), AGENT_LOG_NAME);
	if (r || (r = sup_log_open_path(log))) {
		agent_say(fd, "cannot open %s: %s", log, strerror(-r));
		if (lock >= 0)
			close(lock);
		return CLI_SYSTEM;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r = agent_run(c, fd, err);
	if (r) {
		sup_log(SUP_LOG_ERROR, "the agent cannot start: %s", err);
		agent_say(fd, "%s (log: %s)", err, log);
	}
	sup_log_close();
	close(lock);
	return r ? CLI_SYSTEM : CLI_OK;
}

/* vtb agent [--foreground]: the host's agent; in the background unless
 * --foreground (systemd's unit runs it so), its log in the state
 * directory either way. */
int cmd_agent(int argc, char **argv)
{
	bool fg = argc == 2 && !strcmp(argv[1], "--foreground");
	int ready[2] = { -1, -1 }, status, r;
	char err[UTIL_ERR_LEN];
	struct clconf c;

	if (argc > 1 && !fg) {
		cli_err("agent: unknown option '%s' (usage: vtb agent [--foreground])", argv[1]);
		return CLI_USER;
	}
	status = cli_need_root("agent");
	if (status)
		return status;
	r = clconf_read(NULL, &c, err);
	if (r) {
		cli_err("agent: %s", r == -ENOENT ? "this host is in no cluster: vtb cluster init or "
						   "join first" : err);
		return r == -ENOENT ? CLI_USER : CLI_SYSTEM;
	}
	if (!fg) {
		status = agent_detach(&c, ready);
		if (status >= 0)
			return status;
	} else {
		/* a daemon either way: keep none of the starter's descriptors */
		syscall(SYS_close_range, 3, ~0U, 0);
	}
	return agent_main(&c, ready[1]);
}
