/* clconf: a host's cluster configuration file (see clconf.h). */
#include "clconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

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

/* Check value against key's rule and store it. 0 or -EINVAL with why. */
static int clconf_set(struct clconf *c, const char *key, const char *val, const char **why)
{
	struct in_addr a;
	char *dst;
	size_t cap;

	if (!strcmp(key, "etcd")) {
		*why = "etcd wants one or more http:// or https:// URLs, comma-separated";
		dst = c->etcd, cap = sizeof(c->etcd);
		if (clconf_etcd_check(val))
			return -EINVAL;
	} else if (!strcmp(key, "host")) {
		*why = "host wants 1 to 63 letters, digits, '-', '_' or '.'";
		dst = c->host, cap = sizeof(c->host);
		if (clconf_host_check(val))
			return -EINVAL;
	} else if (!strcmp(key, "underlay")) {
		*why = "underlay wants an IPv4 address (this host's, for the VXLAN tunnels)";
		dst = c->underlay, cap = sizeof(c->underlay);
		if (inet_pton(AF_INET, val, &a) != 1)
			return -EINVAL;
	} else {
		*why = "unknown key (the keys are etcd, host and underlay)";
		return -EINVAL;
	}
	if (strlen(val) >= cap) {
		*why = "value too long";
		return -EINVAL;
	}
	strcpy(dst, val);
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
	if (r) {
		util_fmt(err, UTIL_ERR_LEN, "line %d: %s", lineno, why);
	} else if (!c->etcd[0] || !c->host[0] || !c->underlay[0]) {
		util_fmt(err, UTIL_ERR_LEN, "'%s' is missing (etcd, host and underlay are required)",
			 !c->etcd[0] ? "etcd" : !c->host[0] ? "host" : "underlay");
		r = -EINVAL;
	}
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

int clconf_write(const char *path, const struct clconf *c, char *err)
{
	char *text = NULL, *dir = NULL, *slash;
	int r, n;

	if (!path)
		path = clconf_path();
	n = asprintf(&text,
		     "# vtb's cluster configuration (docs/cluster.md), written by vtb cluster init/join\n"
		     "etcd = %s\nhost = %s\nunderlay = %s\n",
		     c->etcd, c->host, c->underlay);
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
