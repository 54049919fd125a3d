/* addr: parsing and comparing IP prefixes and MAC addresses. inet_pton has
 * the last word on what an address is; the hand-written IPv4 scanner in
 * front of it only exists to say precisely what is wrong. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Phrases that carry numbers or text from the input are built here. A *why
 * pointing into it stays valid until the next addr_* call in the same thread. */
static _Thread_local char why_buf[160];

static const char *why_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *why_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_val(char c)
{
	if (is_digit(c))
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/* Describe one character for a message: 'x', or \xNN when not printable. */
static const char *char_desc(char c, char buf[8])
{
	unsigned char u = (unsigned char)c;

	if (u >= 0x21 && u < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else if (c == ' ')
		snprintf(buf, 8, "a space");
	else
		snprintf(buf, 8, "\\x%02x", u);
	return buf;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool bit_at(const uint8_t *bytes, unsigned i)
{
	return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

/* Scan s[0..n) as a dotted-quad IPv4 address into out. Returns 0, or
 * -EINVAL with *why naming the first problem (an octet out of range, a
 * leading zero, a wrong octet count, a stray character). */
static int parse_v4(const char *s, size_t n, uint8_t out[4], const char **why)
{
	size_t i = 0, k;
	char cb[8];

	for (k = 0;; k++) {
		size_t start = i;
		unsigned long v = 0;

		while (i < n && is_digit(s[i])) {
			if (v < 100000)
				v = v * 10 + (unsigned long)(s[i] - '0');
			i++;
		}
		if (i == start) {
			if (i < n && s[i] != '.') {
				if (k == 0 && i == 0)
					goto out_not_ip;
				goto out_bad_char;
			}
			*why = why_printf("octet %zu is empty", k + 1);
			return -EINVAL;
		}
		if (v > 255) {
			*why = why_printf("octet %.*s is out of range (0-255)",
					  (int)(i - start > 12 ? 12 : i - start), s + start);
			return -EINVAL;
		}
		if (i - start > 1 && s[start] == '0') {
			*why = why_printf("octet %.*s has a leading zero (write %lu)", (int)(i - start),
					  s + start, v);
			return -EINVAL;
		}
		if (k < 4)
			out[k] = (uint8_t)v;
		if (i == n)
			break;
		if (s[i] != '.')
			goto out_bad_char;
		i++;
	}
	if (k + 1 != 4) {
		*why = why_printf("an IPv4 address has 4 octets, not %zu", k + 1);
		return -EINVAL;
	}
	return 0;
out_not_ip:
	*why = "not an IP address (write 10.0.0.1/24 or fd00::1/64, for example)";
	return -EINVAL;
out_bad_char:
	*why = why_printf("unexpected %s in an IPv4 address", char_desc(s[i], cb));
	return -EINVAL;
}

/* Say why inet_pton refused s[0..n) as an IPv6 address. */
static const char *explain_v6(const char *s, size_t n)
{
	size_t i, group = 0, ncolons2 = 0;
	char cb[8];

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ':') {
			if (i + 1 < n && s[i + 1] == ':')
				ncolons2++;
			group = 0;
		} else if (is_hex(c)) {
			if (++group > 4)
				return "a group of an IPv6 address has more than 4 hex digits";
		} else if (c != '.') {
			return why_printf("unexpected %s in an IPv6 address", char_desc(c, cb));
		}
	}
	if (ncolons2 > 1)
		return "'::' may appear only once in an IPv6 address";
	return "not a valid IPv6 address (8 groups of up to 4 hex digits, '::' for zeros)";
}

/* Parse the prefix length in s (NUL-terminated, after the '/'). */
static int parse_plen(const char *s, unsigned max, unsigned *plen, const char **why)
{
	unsigned long v = 0;
	size_t i;

	if (!*s) {
		*why = max == 32 ? "the prefix length is missing (write /24, for example)"
				 : "the prefix length is missing (write /64, for example)";
		return -EINVAL;
	}
	for (i = 0; s[i]; i++) {
		if (!is_digit(s[i])) {
			*why = why_printf("the prefix length '%.20s' is not a number", s);
			return -EINVAL;
		}
		if (v < 100000)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max) {
		*why = why_printf("prefix length %.12s is out of range (0-%u)", s, max);
		return -EINVAL;
	}
	*plen = (unsigned)v;
	return 0;
}

/* Parse "A.B.C.D/N" or an IPv6 address with "/N". Returns 0 and fills *out,
 * or -EINVAL with *why set (a static phrase, or one in this thread's buffer:
 * see why_buf). out is left alone on failure. */
int addr_parse_prefix(const char *s, struct addr_prefix *out, const char **why)
{
	struct addr_prefix p;
	const char *slash, *dummy;
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t alen;
	int r;

	if (!why)
		why = &dummy;
	memset(&p, 0, sizeof(p));
	if (!s || !*s) {
		*why = "the address is empty";
		return -EINVAL;
	}
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen) {
		*why = "the address is missing before the prefix length";
		return -EINVAL;
	}
	if (memchr(s, ':', alen)) {
		p.family = AF_INET6;
		if (alen >= sizeof(tmp)) {
			*why = "the address is too long for an IPv6 address";
			return -EINVAL;
		}
		memcpy(tmp, s, alen);
		tmp[alen] = '\0';
		if (inet_pton(AF_INET6, tmp, p.bytes) != 1) {
			*why = explain_v6(s, alen);
			return -EINVAL;
		}
	} else {
		p.family = AF_INET;
		r = parse_v4(s, alen, p.bytes, why);
		if (r)
			return r;
		/* the scanner and inet_pton must agree; keep inet_pton's verdict */
		if (alen >= sizeof(tmp)) {
			*why = "the address is too long for an IPv4 address";
			return -EINVAL;
		}
		memcpy(tmp, s, alen);
		tmp[alen] = '\0';
		if (inet_pton(AF_INET, tmp, p.bytes) != 1) {
			*why = "not a valid IPv4 address";
			return -EINVAL;
		}
	}
	if (!slash)
		return parse_plen("", family_bits(p.family), &p.plen, why);
	r = parse_plen(slash + 1, family_bits(p.family), &p.plen, why);
	if (r)
		return r;
	*out = p;
	return 0;
}

/* True when every bit of a past its prefix length equals val. */
static bool host_bits_are(const struct addr_prefix *a, bool val)
{
	unsigned i, bits = family_bits(a->family);

	for (i = a->plen; i < bits; i++)
		if (bit_at(a->bytes, i) != val)
			return false;
	return true;
}

/* Format only the address part of a (no prefix length) into buf. */
static const char *format_host(const struct addr_prefix *a, char *buf, socklen_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* Interface-address rules (see addr.h). *why may point into this thread's
 * buffer (see why_buf). */
int addr_check_host(const struct addr_prefix *a, const char **why)
{
	char host[INET6_ADDRSTRLEN], net[64];
	const char *dummy;
	struct addr_prefix n;
	unsigned bits = family_bits(a->family);

	if (!why)
		why = &dummy;
	if (a->plen > bits) {
		*why = "the prefix length is out of range";
		return -EINVAL;
	}
	if (a->plen + 1 >= bits)
		return 0; /* /31, /32, /127, /128: every address is a host */
	n = addr_network(a);
	if (host_bits_are(a, false)) {
		*why = why_printf("%s is the network address of %s", format_host(a, host, sizeof(host)),
				  addr_format(&n, net, sizeof(net)));
		return -EINVAL;
	}
	if (a->family == AF_INET && host_bits_are(a, true)) {
		*why = why_printf("%s is the broadcast address of %s",
				  format_host(a, host, sizeof(host)), addr_format(&n, net, sizeof(net)));
		return -EINVAL;
	}
	return 0;
}

/* Network rules (see addr.h). *why may point into this thread's buffer. */
int addr_check_network(const struct addr_prefix *a, const char **why)
{
	char net[64];
	const char *dummy;
	struct addr_prefix n;

	if (!why)
		why = &dummy;
	if (a->plen > family_bits(a->family)) {
		*why = "the prefix length is out of range";
		return -EINVAL;
	}
	if (host_bits_are(a, false))
		return 0;
	n = addr_network(a);
	*why = why_printf("host bits are set: the network is %s", addr_format(&n, net, sizeof(net)));
	return -EINVAL;
}

struct addr_prefix addr_network(const struct addr_prefix *a)
{
	struct addr_prefix n = *a;
	unsigned i, bits = family_bits(a->family);

	for (i = a->plen; i < bits; i++)
		n.bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return n;
}

bool addr_same_host(const struct addr_prefix *a, const struct addr_prefix *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, family_bits(a->family) / 8);
}

bool addr_overlap(const struct addr_prefix *a, const struct addr_prefix *b)
{
	unsigned i, m = a->plen < b->plen ? a->plen : b->plen;

	if (a->family != b->family)
		return false;
	if (m > family_bits(a->family))
		m = family_bits(a->family);
	for (i = 0; i < m; i++)
		if (bit_at(a->bytes, i) != bit_at(b->bytes, i))
			return false;
	return true;
}

const char *addr_format(const struct addr_prefix *a, char *buf, unsigned len)
{
	char host[INET6_ADDRSTRLEN];

	if ((a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->bytes, host, sizeof(host)))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s/%u", host, a->plen);
	return buf;
}

/* Parse a MAC in colon or dash notation (one separator throughout). Refuses
 * multicast (and so broadcast) and all-zero addresses, which no interface
 * can have. Returns 0 or -EINVAL with *why set to a static phrase. */
int addr_parse_mac(const char *s, uint8_t mac[6], const char **why)
{
	uint8_t m[6];
	const char *dummy;
	char sep;
	unsigned i;

	if (!why)
		why = &dummy;
	if (!s || strlen(s) != 17 || (s[2] != ':' && s[2] != '-'))
		goto out_form;
	sep = s[2];
	for (i = 0; i < 6; i++) {
		const char *o = s + 3 * i;

		if (!is_hex(o[0]) || !is_hex(o[1]))
			goto out_form;
		if (i < 5 && o[2] != sep) {
			if (o[2] == ':' || o[2] == '-') {
				*why = "a MAC address uses one separator, ':' or '-', throughout";
				return -EINVAL;
			}
			goto out_form;
		}
		m[i] = (uint8_t)(hex_val(o[0]) << 4 | hex_val(o[1]));
	}
	if (m[0] & 1) {
		*why = "a multicast MAC cannot be an interface address (the first octet is odd)";
		return -EINVAL;
	}
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) {
		*why = "the all-zero MAC cannot be an interface address";
		return -EINVAL;
	}
	memcpy(mac, m, sizeof(m));
	return 0;
out_form:
	*why = "a MAC address is six two-digit hex octets, like 02:00:00:00:00:01";
	return -EINVAL;
}
