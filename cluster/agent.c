/* agent: the per-host daemon of a cluster (see agent.h). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"
#include "clhost.h"
#include "db.h"
#include "etcd.h"
#include "relay.h"
#include "renewer.h"
#include "sup_log.h"
#include "tls.h"
#include "util.h"

int agent_lock(int *fd, pid_t *other)
{
	char path[512], buf[32];
	ssize_t got;
	int r;

	*other = 0;
	snprintf(path, sizeof(path), "%s/%s", db_state_dir(), AGENT_LOCK_NAME);
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0)
		return -errno;
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		got = pread(*fd, buf, sizeof(buf) - 1, 0);
		if (got > 0) {
			buf[got] = '\0';
			*other = (pid_t)atoi(buf);
		}
		close(*fd);
		*fd = -1;
		return r;
	}
	r = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(*fd, 0) || pwrite(*fd, buf, (size_t)r, 0) != r) {
		r = -errno;
		close(*fd);
		*fd = -1;
		return r;
	}
	return 0;
}

/* The agent's state. The renewal thread owns e, h and lease; the main
 * thread (the wants) its own connection w. */
struct agent {
	const struct clconf *c;
	struct etcd *e;
	struct clhost h;    /* our record as last put */
	int64_t lease;      /* 0: none held */
	int64_t since;      /* when this agent started */
	struct renewer renewer;
	bool failing;       /* the last renewal failed (said once in the log) */
	volatile bool left; /* the renewer found our record gone */
	struct etcd *w;
	struct relay_listener relay; /* only with certificates */
};

/* Register: our record (keeping the time we joined), a fresh lease and
 * the alive key under it. 0 or a negative errno with err. */
static int agent_register(struct agent *a, char *err)
{
	struct clhost old;
	char key[sizeof(CLHOST_PREFIX) + CLCONF_HOST_MAX], msg[UTIL_ERR_LEN], *val = NULL;
	size_t len;
	int r;

	snprintf(key, sizeof(key), CLHOST_PREFIX "%s", a->c->host);
	r = etcd_get(a->e, key, &val, &len, NULL, err);
	if (r == -ENOENT) {
		util_fmt(err, UTIL_ERR_LEN, "host '%s' is not a member of the cluster at %s "
			 "(vtb cluster join first)", a->c->host, a->c->etcd);
		return r;
	}
	if (r)
		return r;
	r = clhost_parse(val, len, &old, msg);
	free(val);
	a->h.joined = r ? (int64_t)time(NULL) : old.joined;
	a->h.seen = (int64_t)time(NULL);
	r = clhost_put(a->e, &a->h, err);
	if (!r)
		r = etcd_lease_grant(a->e, CLHOST_LEASE_S, &a->lease, err);
	if (!r)
		r = clhost_alive(a->e, a->c->host, a->lease, getpid(), a->since, err);
	if (r)
		a->lease = 0;
	return r;
}

/* One renewal: the lease, and our record's heartbeat time. A lease that
 * expired meanwhile is taken again. Returns 0, -ENOENT when our record is
 * gone (the host left the cluster), or another negative errno. */
static int agent_renew(struct agent *a, char *err)
{
	char key[sizeof(CLHOST_PREFIX) + CLCONF_HOST_MAX], *val = NULL;
	int64_t ttl;
	size_t len;
	int r;

	snprintf(key, sizeof(key), CLHOST_PREFIX "%s", a->c->host);
	r = etcd_get(a->e, key, &val, &len, NULL, err);
	free(val);
	if (r)
		return r;
	if (!a->lease)
		return agent_register(a, err);
	r = etcd_lease_keepalive(a->e, a->lease, &ttl, err);
	if (r == -ENOENT) {
		sup_log(SUP_LOG_WARN, "lease %lld had expired (etcd or this host stalled): "
			"registering again", (long long)a->lease);
		a->lease = 0;
		return agent_register(a, err);
	}
	if (r)
		return r;
	a->h.seen = (int64_t)time(NULL);
	return clhost_put(a->e, &a->h, err);
}

/* One renewal of the renewer (every CLHOST_RENEW_MS): ends it once the
 * host left the cluster; says in the log when renewals fail and when they
 * work again. */
static int agent_renewal(void *arg)
{
	struct agent *a = arg;
	char msg[UTIL_ERR_LEN];
	int r = agent_renew(a, msg);

	if (r == -ENOENT) {
		sup_log(SUP_LOG_INFO, "host '%s' left the cluster: the agent ends", a->c->host);
		a->left = true;
		return 1;
	}
	if (r && !a->failing)
		sup_log(SUP_LOG_WARN, "cannot renew: %s (retrying every %d ms)", msg, CLHOST_RENEW_MS);
	else if (!r && a->failing)
		sup_log(SUP_LOG_INFO, "renewed again");
	a->failing = r != 0;
	return 0;
}

/* SIGTERM or SIGINT pending (blocked by the caller): the signal, or 0. */
static int agent_signal(void)
{
	struct timespec zero = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return sigtimedwait(&set, NULL, &zero) > 0 ? 1 : 0;
}

int agent_run(const struct clconf *c, int ready_fd, char *err)
{
	struct agent a = { .c = c, .since = (int64_t)time(NULL) };
	char msg[UTIL_ERR_LEN];
	int r;

	r = clhost_inventory(c, &a.h);
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "cannot take this host's inventory: %s", strerror(-r));
		goto out;
	}
	r = tls_etcd_open(c, &a.e, err);
	if (!r)
		r = tls_etcd_open(c, &a.w, err);
	if (!r)
		r = agent_register(&a, err);
	if (!r)
		r = renewer_start(&a.renewer, CLHOST_RENEW_MS, agent_renewal, &a);
	if (!r && c->ca[0])
		r = relay_listen(c, "/proc/self/exe", &a.relay, err);
	if (r)
		goto out;
	if (c->ca[0])
		sup_log(SUP_LOG_INFO, "relay listening on %s port %d (TLS, the cluster's hosts only)",
			c->underlay, RELAY_PORT);
	else
		sup_log(SUP_LOG_WARN, "no certificates in %s: no relay (commands on this host's nodes "
			"from other hosts are refused)", clconf_path());
	sup_log(SUP_LOG_INFO, "agent of host '%s' (underlay %s) up at %s: %llu.%03llu cores, "
		"%llu MiB, KVM %s; lease %lld of %d s", c->host, c->underlay, c->etcd,
		(unsigned long long)(a.h.cores / 1000), (unsigned long long)(a.h.cores % 1000),
		(unsigned long long)(a.h.memory >> 20), a.h.kvm ? "yes" : "no", (long long)a.lease,
		CLHOST_LEASE_S);
	if (ready_fd >= 0) {
		if (write(ready_fd, "", 1) != 1)
			sup_log(SUP_LOG_WARN, "cannot tell vtb agent's caller: %s", strerror(errno));
		close(ready_fd);
	}
	agent_wants(a.w, c, &a.left, agent_signal);
	if (!a.left)
		sup_log(SUP_LOG_INFO, "signalled: the agent ends");
	relay_listen_stop(&a.relay);
	renewer_stop(&a.renewer);
	if (a.lease && etcd_lease_revoke(a.e, a.lease, msg))
		sup_log(SUP_LOG_WARN, "cannot revoke lease %lld: %s (it expires in %d s)",
			(long long)a.lease, msg, CLHOST_LEASE_S);
	r = 0;
out:
	if (r)
		renewer_stop(&a.renewer);
	etcd_close(a.w);
	etcd_close(a.e);
	return r;
}
