/* vtb link set: change an emulated link of a running experiment. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "db.h"
#include "status.h"
#include "supervisor.h"

#define USAGE "usage: vtb link set NAME (A B | LINK) [--from NODE] KEY=VALUE..."

struct unit {
	const char *u;
	double f;
};

/* A number and one of units (a bare 0 needs none) -> *v in base units. */
static int parse_unit(const char *s, const struct unit *units, size_t n, double *v)
{
	char *end;
	double x = strtod(s, &end);
	size_t i;

	if (end == s || x < 0)
		return -EINVAL;
	if (!*end && x == 0) {
		*v = 0;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!strcasecmp(end, units[i].u)) {
			*v = x * units[i].f;
			return 0;
		}
	return -EINVAL;
}

/* "20ms", "1.5s", "300us", "0" -> ns */
static int parse_time(const char *s, double *ns)
{
	static const struct unit units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };

	return parse_unit(s, units, sizeof(units) / sizeof(units[0]), ns);
}

/* "1%", "0.01" -> 0.01 */
static int parse_fraction(const char *s, double *f)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -EINVAL;
	if (!strcmp(end, "%"))
		v /= 100;
	else if (*end)
		return -EINVAL;
	if (v < 0 || v > 1)
		return -ERANGE;
	*f = v;
	return 0;
}

/* "20mbit", "20mbps", "1gbit", "500kbps", "0"/"off" -> bits/s */
static int parse_rate(const char *s, double *bps)
{
	static const struct unit units[] = {
		{ "bps", 1 }, { "bit", 1 }, { "kbps", 1e3 }, { "kbit", 1e3 }, { "mbps", 1e6 },
		{ "mbit", 1e6 }, { "gbps", 1e9 }, { "gbit", 1e9 },
	};

	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		*bps = 0;
		return 0;
	}
	return parse_unit(s, units, sizeof(units) / sizeof(units[0]), bps);
}

/* "100" packets, or "64kb", "1500b", "1mib" bytes */
static int parse_queue(const char *s, const char **key, double *v)
{
	static const struct unit units[] = {
		{ "b", 1 }, { "kb", 1e3 }, { "mb", 1e6 }, { "kib", 1024 }, { "mib", 1048576 },
	};
	char *end;
	double n = strtod(s, &end);
	size_t i;

	if (end == s || n < 1)
		return -EINVAL;
	if (!*end) {
		*key = "queue_pkts";
		*v = n;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].u)) {
			*key = "queue_bytes";
			*v = n * units[i].f;
			return 0;
		}
	return -EINVAL;
}

/* One KEY=VALUE into set; a message naming it when it is wrong. */
static int parse_kv(const char *arg, json_t *set)
{
	const char *eq = strchr(arg, '='), *val, *key = NULL;
	char name[32];
	double v = 0;
	int r = -EINVAL;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(name)) {
		cli_err("link set: '%s' is not KEY=VALUE (%s)", arg, USAGE);
		return -EINVAL;
	}
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	val = eq + 1;
	if (!strcmp(name, "latency") || !strcmp(name, "jitter")) {
		key = !strcmp(name, "latency") ? "latency_ns" : "jitter_ns";
		r = parse_time(val, &v);
		if (r)
			cli_err("link set: %s=%s: give a time such as 20ms, 500us or 1s", name, val);
	} else if (!strcmp(name, "loss") || !strcmp(name, "duplicate") ||
		   !strcmp(name, "reorder") || !strcmp(name, "corrupt")) {
		key = name;
		r = parse_fraction(val, &v);
		if (r)
			cli_err("link set: %s=%s: give a fraction such as 0.01 or 1%%, from 0 to 1",
				name, val);
	} else if (!strcmp(name, "burst")) {
		char *end;

		key = "burst";
		v = !strcmp(val, "off") ? 0 : strtod(val, &end);
		r = !strcmp(val, "off") || (end != val && !*end && (v == 0 || v >= 1)) ? 0 : -EINVAL;
		if (r)
			cli_err("link set: burst=%s: give the mean loss burst in frames (1 or more), "
				"or off", val);
	} else if (!strcmp(name, "capacity") || !strcmp(name, "rate")) {
		key = "rate_bps";
		r = parse_rate(val, &v);
		if (r)
			cli_err("link set: %s=%s: give a rate such as 20mbit, 1gbit or off", name,
				val);
	} else if (!strcmp(name, "queue")) {
		r = parse_queue(val, &key, &v);
		if (r)
			cli_err("link set: queue=%s: give packets (100) or bytes (64kb, 1500b)", val);
	} else {
		cli_err("link set: unknown property '%s' (latency jitter loss burst duplicate "
			"reorder corrupt capacity queue)",
			name);
	}
	if (!r)
		json_object_set_new(set, key, json_real(round(v * 1e9) / 1e9));
	return r;
}

/* The name of the link joining devices a and b (an emulated one first). */
static int find_link(const struct xir *x, const struct realization *rz, const char *a,
		     const char *b, const char **name)
{
	size_t i, j, n = 0;

	*name = NULL;
	for (i = 0; i < x->nlinks; i++) {
		bool ha = false, hb = false;

		for (j = 0; j < x->links[i].nep; j++) {
			const char *nn = x->nodes[x->links[i].ep[j].node].name;

			ha = ha || !strcmp(nn, a);
			hb = hb || !strcmp(nn, b);
		}
		if (!ha || !hb || !strcmp(a, b))
			continue;
		if (!*name || (rz->links[i].emulated && n == 0))
			*name = x->links[i].name;
		n += rz->links[i].emulated;
	}
	return *name ? (n > 1 ? -EEXIST : 0) : -ENOENT;
}

int cmd_link(int argc, char **argv)
{
	const char *name, *pos[2] = { NULL, NULL }, *from = NULL, *link = NULL;
	json_t *req = NULL, *set = json_object(), *reply = NULL;
	struct realization *rz = NULL;
	struct xir *x = NULL;
	struct db *db = NULL;
	struct db_exp e;
	int i, npos = 0, status = CLI_USER, r;

	if (argc < 3 || strcmp(argv[1], "set")) {
		cli_err("link: %s", USAGE);
		goto out;
	}
	name = argv[2];
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (strchr(argv[i], '=')) {
			if (parse_kv(argv[i], set))
				goto out;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			cli_err("link set: unexpected '%s' (%s)", argv[i], USAGE);
			goto out;
		}
	}
	if (!npos || !json_object_size(set)) {
		cli_err("link set: which link, and what to change? %s", USAGE);
		goto out;
	}
	status = cli_open_exp("link", name, &db, &e);
	if (status)
		goto out;
	r = status_load(db, &e, &x, &rz);
	if (r) {
		cli_err("cannot load experiment '%s': %s", name, strerror(-r));
		status = CLI_SYSTEM;
		goto out;
	}
	if (npos == 2) {
		r = find_link(x, rz, pos[0], pos[1], &link);
		if (r == -ENOENT) {
			cli_err("experiment '%s' has no link between '%s' and '%s'", name, pos[0],
				pos[1]);
			status = CLI_USER;
			goto out;
		}
		if (r == -EEXIST) {
			cli_err("'%s' and '%s' share several emulated links: name one (vtb status %s)",
				pos[0], pos[1], name);
			status = CLI_USER;
			goto out;
		}
	} else {
		link = pos[0];
	}
	req = json_pack("{s:s,s:s,s:O}", "op", "link_set", "link", link, "set", set);
	if (from)
		json_object_set_new(req, "from", json_string(from));
	r = sup_call(e.id, req, 5000, &reply);
	if (r) {
		cli_err("cannot reach the supervisor of '%s': %s (is it up? vtb status %s)", name,
			strerror(-r), name);
		status = CLI_SYSTEM;
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *m = json_string_value(json_object_get(reply, "error"));

		cli_err("link set %s: %s", link, m ? m : "refused");
		status = CLI_USER;
		goto out;
	}
	printf("link '%s': %d direction%s changed\n", link,
	       (int)json_integer_value(json_object_get(reply, "changed")),
	       json_integer_value(json_object_get(reply, "changed")) == 1 ? "" : "s");
	status = CLI_OK;
out:
	json_decref(reply);
	json_decref(req);
	json_decref(set);
	realize_free(rz);
	xir_free(x);
	db_close(db);
	return status;
}
