/* clconf: a host's cluster configuration file (see clconf.h). */
#include "clconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "util.h"

/* The file is a few lines; anything larger is not ours. */
#define CLCONF_FILE_MAX (64u << 10)

const char *clconf_path(void)
{
	const char *p = getenv("VTB_CLUSTER_CONF");

	return p && *p ? p : CLCONF_DEFAULT_PATH;
}

int clconf_host_check(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CLCONF_HOST_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return -EINVAL;
	return 0;
}

/* Whether list is one or more comma-separated http(s) URLs with a host
 * part. 0 or -EINVAL. */
static int clconf_etcd_check(const char *list)
{
	const char *p = list, *end;
	size_t n;

	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (!(n > 7 && !strncmp(p, "http://", 7)) && !(n > 8 && !strncmp(p, "https://", 8)))
			return -EINVAL;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int clconf_ipv4_check(const char *val)
{
	struct in_addr a;

	return inet_pton(AF_INET, val, &a) == 1 ? 0 : -EINVAL;
}

/* An absolute path of a PEM file (tls.h). */
static int clconf_file_check(const char *val)
{
	return val[0] == '/' ? 0 : -EINVAL;
}

/* The keys of the file: each with its field, its check and what it
 * wants when the check fails. */
static const struct clconf_key {
	const char *name;
	size_t off, cap;
	int (*check)(const char *val);
	const char *why;
} clconf_keys[] = {
	{ "etcd", offsetof(struct clconf, etcd), CLCONF_ETCD_MAX, clconf_etcd_check,
	  "etcd wants one or more http:// or https:// URLs, comma-separated" },
	{ "host", offsetof(struct clconf, host), CLCONF_HOST_MAX, clconf_host_check,
	  "host wants 1 to 63 letters, digits, '-', '_' or '.'" },
	{ "underlay", offsetof(struct clconf, underlay), CLCONF_ADDR_MAX, clconf_ipv4_check,
	  "underlay wants an IPv4 address (this host's, for the VXLAN tunnels)" },
	{ "ca", offsetof(struct clconf, ca), CLCONF_PATH_MAX, clconf_file_check,
	  "ca wants the absolute path of the cluster CA's certificate" },
	{ "cert", offsetof(struct clconf, cert), CLCONF_PATH_MAX, clconf_file_check,
	  "cert wants the absolute path of this host's certificate" },
	{ "key", offsetof(struct clconf, key), CLCONF_PATH_MAX, clconf_file_check,
	  "key wants the absolute path of this host's private key" },
};

/* Check value against key's rule and store it. 0 or -EINVAL with why. */
static int clconf_set(struct clconf *c, const char *key, const char *val, const char **why)
{
	const struct clconf_key *k = NULL;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_SIZE(clconf_keys) && !k; i++)
		if (!strcmp(key, clconf_keys[i].name))
			k = &clconf_keys[i];
	if (!k) {
		*why = "unknown key (the keys are etcd, host, underlay, ca, cert and key)";
		return -EINVAL;
	}
	*why = k->why;
	if (k->check(val))
		return -EINVAL;
	if (strlen(val) >= k->cap) {
		*why = "value too long";
		return -EINVAL;
	}
	strcpy((char *)c + k->off, val);
	return 0;
}

/* Whether c's keys go together: etcd, host and underlay always; ca, cert
 * and key all or none, and all when etcd is reached over https. 0 or
 * -EINVAL with err. */
static int clconf_complete(const struct clconf *c, char *err)
{
	bool tls = c->ca[0] || c->cert[0] || c->key[0];

	if (!c->etcd[0] || !c->host[0] || !c->underlay[0]) {
		util_fmt(err, UTIL_ERR_LEN, "'%s' is missing (etcd, host and underlay are required)",
			 !c->etcd[0] ? "etcd" : !c->host[0] ? "host" : "underlay");
		return -EINVAL;
	}
	if (tls && (!c->ca[0] || !c->cert[0] || !c->key[0])) {
		util_fmt(err, UTIL_ERR_LEN, "'%s' is missing (ca, cert and key go together)",
			 !c->ca[0] ? "ca" : !c->cert[0] ? "cert" : "key");
		return -EINVAL;
	}
	if (!tls && strstr(c->etcd, "https://")) {
		util_fmt(err, UTIL_ERR_LEN, "etcd is reached over https but ca, cert and key are "
			 "missing (vtb cluster join --bundle FILE installs them)");
		return -EINVAL;
	}
	return 0;
}

/* Cut the blanks at both ends of s in place; returns the start. */
static char *clconf_trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int clconf_parse(const char *text, size_t len, struct clconf *c, char *err)
{
	char *copy = util_strndup(text, len), *line, *next, *eq, *hash;
	const char *why = NULL;
	int r = 0, lineno = 0;

	memset(c, 0, sizeof(*c));
	if (!copy)
		return -ENOMEM;
	for (line = copy; line && !r; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line = clconf_trim(line);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			why = "expected 'key = value'";
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = clconf_set(c, clconf_trim(line), clconf_trim(eq + 1), &why);
	}
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "line %d: %s", lineno, why);
	else
		r = clconf_complete(c, err);
	free(copy);
	return r;
}

int clconf_read(const char *path, struct clconf *c, char *err)
{
	char *data = NULL, msg[UTIL_ERR_LEN];
	size_t len = 0;
	int r;

	if (!path)
		path = clconf_path();
	r = file_read_all(path, CLCONF_FILE_MAX, &data, &len);
	if (r == -ENOENT)
		return r;
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = clconf_parse(data, len, c, msg);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "%s: %s", path, msg);
	free(data);
	return r;
}

void clconf_dir(const char *path, char *dir, size_t len)
{
	const char *slash;

	if (!path)
		path = clconf_path();
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

int clconf_write(const char *path, const struct clconf *c, char *err)
{
	char *text = NULL, *dir = NULL, *slash;
	int r, n;

	if (!path)
		path = clconf_path();
	n = asprintf(&text,
		     "# vtb's cluster configuration (docs/cluster.md), written by vtb cluster init/join\n"
		     "etcd = %s\nhost = %s\nunderlay = %s\n%s%s%s%s%s%s%s%s%s",
		     c->etcd, c->host, c->underlay, c->ca[0] ? "ca = " : "", c->ca,
		     c->ca[0] ? "\n" : "", c->cert[0] ? "cert = " : "", c->cert,
		     c->cert[0] ? "\n" : "", c->key[0] ? "key = " : "", c->key, c->key[0] ? "\n" : "");
	dir = strdup(path);
	if (n < 0 || !dir) {
		r = -ENOMEM;
		goto out;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = file_mkdir_p(dir, 0755);
		if (r) {
			util_fmt(err, UTIL_ERR_LEN, "cannot make %s: %s", dir, strerror(-r));
			goto out;
		}
	}
	r = file_write_atomic(path, text, (size_t)n, 0644);
	if (r)
		util_fmt(err, UTIL_ERR_LEN, "cannot write %s: %s", path, strerror(-r));
out:
	free(dir);
	if (n >= 0)
		free(text);
	return r;
}
