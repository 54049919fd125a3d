/* The cluster CA's revocation list (cluster/tls_crl.c): revoking what a
 * CA issued to a name, a list that never goes back, a list of another CA
 * refused, and the relay's TLS handshake (relay_conn_open on a socket
 * pair) refusing a revoked certificate at either end. No privileges. */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "file.h"
#include "relay_int.h"
#include "tls.h"
#include "util.h"

/* A temporary directory with a CA in ca/ and bundles h1.pem, h2.pem. */
struct fx {
	char dir[64], ca[128], crl[160];
};

static void fx_path(const struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

/* Issue name's bundle from f's CA into DIR/name.pem. */
static void fx_issue(const struct fx *f, const char *name)
{
	char out[160], err[UTIL_ERR_LEN], pem[32];

	snprintf(pem, sizeof(pem), "%s.pem", name);
	fx_path(f, pem, out, sizeof(out));
	assert_int_equal(tls_cert_issue(f->ca, name, "10.0.0.1", out, err), 0);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[UTIL_ERR_LEN];

	snprintf(f->dir, sizeof(f->dir), "/tmp/vtb-crl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	fx_path(f, "ca", f->ca, sizeof(f->ca));
	snprintf(f->crl, sizeof(f->crl), "%s/%s", f->ca, TLS_CRL_FILE);
	assert_int_equal(tls_ca_make(f->ca, err), 0);
	fx_issue(f, "h1");
	fx_issue(f, "h2");
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* tls_crl_check of DIR/name.pem against f's CA and list. */
static int fx_check(const struct fx *f, const char *name)
{
	char path[160], ca[160], err[UTIL_ERR_LEN], pem[32];

	snprintf(pem, sizeof(pem), "%s.pem", name);
	fx_path(f, pem, path, sizeof(path));
	snprintf(ca, sizeof(ca), "%s/%s", f->ca, TLS_CA_FILE);
	return tls_crl_check(ca, f->crl, path, err);
}

/* The CA's first list revokes nothing; revoking a name revokes every
 * certificate issued to it so far, once; one issued afterwards is valid
 * (re-issuing brings a host back), until revoked in turn. */
static void test_revoke(void **state)
{
	struct fx *f = *state;
	char err[UTIL_ERR_LEN], path[160];
	size_t added;
	long num;

	assert_int_equal(fx_check(f, "h1"), 0);
	assert_int_equal(fx_check(f, "h2"), 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h2", NULL, &added, &num, err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(num, 2);
	assert_int_equal(fx_check(f, "h2"), -EKEYREVOKED);
	assert_int_equal(fx_check(f, "h1"), 0);
	/* again: nothing new, the same list */
	assert_int_equal(tls_crl_revoke(f->ca, "h2", NULL, &added, &num, err), 0);
	assert_int_equal(added, 0);
	assert_int_equal(num, 2);
	/* a new certificate for h2 is valid; revoking h2 again revokes it */
	fx_issue(f, "h2");
	assert_int_equal(fx_check(f, "h2"), 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h2", NULL, &added, &num, err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(num, 3);
	assert_int_equal(fx_check(f, "h2"), -EKEYREVOKED);
	/* a name the CA never issued to; a certificate given as a file */
	assert_int_equal(tls_crl_revoke(f->ca, "h9", NULL, &added, &num, err), -ENOENT);
	assert_non_null(strstr(err, "no certificate issued to 'h9'"));
	fx_path(f, "h1.pem", path, sizeof(path));
	assert_int_equal(tls_crl_revoke(f->ca, NULL, path, &added, &num, err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(fx_check(f, "h1"), -EKEYREVOKED);
}

/* A list of issued certificates with a line that does not parse. */
static void test_issued_bad(void **state)
{
	struct fx *f = *state;
	char err[UTIL_ERR_LEN], path[160];
	size_t added;
	long num;

	snprintf(path, sizeof(path), "%s/%s", f->ca, TLS_ISSUED_FILE);
	assert_int_equal(file_write_atomic(path, "ABCD h1\nnonsense\n", 17, 0600), 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h1", NULL, &added, &num, err), -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(file_write_atomic(path, "XYZ h1\n", 7, 0600), 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h1", NULL, &added, &num, err), -EINVAL);
	assert_non_null(strstr(err, "not a serial in hex"));
}

/* A host installs a list only when its CA signed it and it is newer. */
static void test_install(void **state)
{
	struct fx *f = *state;
	char err[UTIL_ERR_LEN], ca[160], host[160], other[160], *v1 = NULL, *v2 = NULL, *v3 = NULL;
	char *bad = NULL;
	size_t n1, n2, n3, nb, added;
	long num;

	snprintf(ca, sizeof(ca), "%s/%s", f->ca, TLS_CA_FILE);
	fx_path(f, "host-crl.der", host, sizeof(host));
	assert_int_equal(file_read_all(f->crl, 1 << 20, &v1, &n1), 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h2", NULL, &added, &num, err), 0);
	assert_int_equal(file_read_all(f->crl, 1 << 20, &v2, &n2), 0);
	assert_int_equal(tls_crl_install(host, ca, (uint8_t *)v2, n2, err), 1);
	assert_int_equal(tls_crl_install(host, ca, (uint8_t *)v2, n2, err), 0);
	/* an older list (number 1) never replaces a newer one */
	assert_int_equal(tls_crl_install(host, ca, (uint8_t *)v1, n1, err), 0);
	free(v3);
	assert_int_equal(file_read_all(host, 1 << 20, &v3, &n3), 0);
	assert_int_equal(n3, n2);
	assert_memory_equal(v3, v2, n2);
	/* another CA's list, garbage, a list with bytes after it */
	fx_path(f, "other", other, sizeof(other));
	assert_int_equal(tls_ca_make(other, err), 0);
	snprintf(other + strlen(other), sizeof(other) - strlen(other), "/%s", TLS_CRL_FILE);
	assert_int_equal(file_read_all(other, 1 << 20, &bad, &nb), 0);
	assert_int_equal(tls_crl_install(host, ca, (uint8_t *)bad, nb, err), -EBADMSG);
	assert_non_null(strstr(err, "not one of the cluster's CA"));
	assert_int_equal(tls_crl_install(host, ca, (const uint8_t *)"nonsense", 8, err), -EBADMSG);
	v2 = realloc(v2, n2 + 1);
	v2[n2] = 0;
	assert_int_equal(tls_crl_install(host, ca, (uint8_t *)v2, n2 + 1, err), -EBADMSG);
	free(v1);
	free(v2);
	free(v3);
	free(bad);
}

/* One end of a handshake: a host's configuration and its result. */
struct end {
	struct clconf c;
	int fd, r;
	bool server;
	char peer[CLCONF_HOST_MAX], err[UTIL_ERR_LEN], why[256];
};

/* Install name's bundle in DIR/name/ (with the CA's current list when
 * crl) as that host's configuration. */
static void end_make(const struct fx *f, const char *name, bool crl, struct end *e)
{
	char bundle[160], dir[160], err[UTIL_ERR_LEN], *v = NULL, pem[32], path[CLCONF_PATH_MAX + 16];
	size_t n;

	memset(e, 0, sizeof(*e));
	snprintf(pem, sizeof(pem), "%s.pem", name);
	fx_path(f, pem, bundle, sizeof(bundle));
	fx_path(f, name, dir, sizeof(dir));
	assert_int_equal(tls_bundle_install(bundle, dir, name, &e->c, err), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, TLS_CRL_FILE);
	unlink(path);
	if (!crl)
		return;
	assert_int_equal(file_read_all(f->crl, 1 << 20, &v, &n), 0);
	assert_int_equal(tls_crl_install(path, e->c.ca, (uint8_t *)v, n, err), 1);
	free(v);
}

/* Do one end's handshake; a client then reads until the server's verdict
 * (TLS 1.3: an alert after the client's handshake) or its first frame. */
static void *end_run(void *arg)
{
	struct end *e = arg;
	struct relay_conn conn = { .fd = -1 };

	e->r = relay_conn_open(&conn, &e->c, e->fd, e->server, e->peer, e->err);
	if (!e->r && e->server)
		relay_conn_send(&conn, RELAY_EOF, NULL, 0);
	while (!e->r && !e->server && !conn.closed && conn.rlen == 0)
		e->r = relay_conn_fill(&conn);
	snprintf(e->why, sizeof(e->why), "%s", conn.why);
	if (conn.ssl)
		relay_conn_close(&conn);
	else
		close(e->fd);
	return NULL;
}

/* Handshake between client and server on a socket pair. */
static void handshake(struct end *client, struct end *server)
{
	int sv[2];
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	client->fd = sv[0];
	server->fd = sv[1];
	server->server = true;
	assert_int_equal(pthread_create(&t, NULL, end_run, server), 0);
	end_run(client);
	pthread_join(t, NULL);
}

/* The relay's handshake: both certificates valid; the client's revoked
 * (the server refuses it, the client reads the server's alert); the
 * server's revoked (the client refuses it, naming it). */
static void test_handshake(void **state)
{
	struct fx *f = *state;
	struct end cl, sv;
	char err[UTIL_ERR_LEN];
	size_t added;
	long num;

	end_make(f, "h1", true, &cl);
	end_make(f, "h2", true, &sv);
	handshake(&cl, &sv);
	assert_int_equal(sv.r, 0);
	assert_int_equal(cl.r, 0);
	assert_string_equal(sv.peer, "h1");
	assert_string_equal(cl.peer, "h2");
	assert_string_equal(cl.why, "");

	assert_int_equal(tls_crl_revoke(f->ca, "h1", NULL, &added, &num, err), 0);
	end_make(f, "h1", false, &cl); /* the client's own copy is old */
	end_make(f, "h2", true, &sv);
	handshake(&cl, &sv);
	assert_int_equal(sv.r, -EACCES);
	assert_non_null(strstr(sv.err, "the peer's certificate is revoked"));
	assert_non_null(strstr(cl.why, "alert certificate revoked"));

	end_make(f, "h2", false, &sv); /* h1 is revoked, the server does not know */
	end_make(f, "h1", true, &cl);  /* the client does: its peer h2 is fine */
	handshake(&cl, &sv);
	assert_int_equal(sv.r, 0);
	assert_int_equal(cl.r, 0);
	assert_int_equal(tls_crl_revoke(f->ca, "h2", NULL, &added, &num, err), 0);
	end_make(f, "h1", true, &cl);
	end_make(f, "h2", false, &sv);
	handshake(&cl, &sv);
	assert_int_equal(cl.r, -EACCES);
	assert_non_null(strstr(cl.err, "the peer's certificate is revoked"));
}

/* A host that joins a cluster of another CA drops its old CA's list
 * (OpenSSL would refuse every peer with it); its own CA's is kept. */
static void test_foreign(void **state)
{
	struct fx *f = *state;
	struct end e;
	char err[UTIL_ERR_LEN], other[160], bundle[160], dir[160], path[200];
	struct clconf c;

	end_make(f, "h1", true, &e);
	fx_path(f, "h1", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, TLS_CRL_FILE);
	assert_int_equal(access(path, F_OK), 0);
	fx_path(f, "h1.pem", bundle, sizeof(bundle));
	assert_int_equal(tls_bundle_install(bundle, dir, "h1", &c, err), 0);
	assert_int_equal(access(path, F_OK), 0);
	fx_path(f, "other", other, sizeof(other));
	assert_int_equal(tls_ca_make(other, err), 0);
	fx_path(f, "h1-other.pem", bundle, sizeof(bundle));
	assert_int_equal(tls_cert_issue(other, "h1", "10.0.0.1", bundle, err), 0);
	assert_int_equal(tls_bundle_install(bundle, dir, "h1", &c, err), 0);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_issued_bad, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_install, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_handshake, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_foreign, fx_setup, fx_teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* as the relay: a peer that went away is an error */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
