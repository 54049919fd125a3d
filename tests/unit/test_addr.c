/* test_addr: IP prefix and MAC parsing, the host and network rules, and the
 * comparisons the address checks rely on. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* Parse s, expect success, and return the prefix. */
static struct addr_prefix parse_ok(const char *s)
{
	struct addr_prefix p;
	const char *why = NULL;
	int r = addr_parse_prefix(s, &p, &why);

	if (r)
		print_message("%s: unexpected failure: %s\n", s, why);
	assert_int_equal(r, 0);
	return p;
}

/* Parse s, expect -EINVAL with a reason containing want. */
static void parse_bad(const char *s, const char *want)
{
	struct addr_prefix p;
	const char *why = NULL;

	assert_int_equal(addr_parse_prefix(s, &p, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, want))
		print_message("%s: reason '%s' lacks '%s'\n", s ? s : "(null)", why, want);
	assert_non_null(strstr(why, want));
}

static const char *fmt(const struct addr_prefix *p)
{
	static char buf[64];

	return addr_format(p, buf, sizeof(buf));
}

static void test_parse_v4(void **state)
{
	struct addr_prefix p = parse_ok("10.1.2.3/24");

	(void)state;
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.plen, 24);
	assert_int_equal(p.bytes[0], 10);
	assert_int_equal(p.bytes[3], 3);
	assert_string_equal(fmt(&p), "10.1.2.3/24");
	p = parse_ok("0.0.0.0/0");
	assert_int_equal(p.plen, 0);
	p = parse_ok("255.255.255.255/32");
	assert_int_equal(p.bytes[2], 255);
}

static void test_parse_v4_errors(void **state)
{
	(void)state;
	parse_bad("10.0.0.300/24", "octet 300 is out of range (0-255)");
	parse_bad("10.0.0.99999999999/24", "is out of range (0-255)");
	parse_bad("10.0.0.1", "the prefix length is missing (write /24, for example)");
	parse_bad("10.0.0.1/", "the prefix length is missing");
	parse_bad("10.0.0.1/33", "prefix length 33 is out of range (0-32)");
	parse_bad("10.0.0.1/abc", "the prefix length 'abc' is not a number");
	parse_bad("10.0.0.1/24/8", "is not a number");
	parse_bad("10.0.0/24", "an IPv4 address has 4 octets, not 3");
	parse_bad("1.2.3.4.5/24", "4 octets, not 5");
	parse_bad("10.0..1/24", "octet 3 is empty");
	parse_bad(".1.2.3/24", "octet 1 is empty");
	parse_bad("10.0.0.01/24", "octet 01 has a leading zero (write 1)");
	parse_bad("10.0.0.1x/24", "unexpected 'x' in an IPv4 address");
	parse_bad("10.0.0. 1/24", "unexpected a space");
	parse_bad("hello/24", "not an IP address");
	parse_bad("garbage", "not an IP address");
	parse_bad("/24", "the address is missing");
	parse_bad("", "the address is empty");
	parse_bad(NULL, "the address is empty");
}

static void test_parse_v6(void **state)
{
	struct addr_prefix p = parse_ok("fd00::1/64");

	(void)state;
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.plen, 64);
	assert_int_equal(p.bytes[0], 0xfd);
	assert_int_equal(p.bytes[15], 1);
	assert_string_equal(fmt(&p), "fd00::1/64");
	p = parse_ok("FD00:0:0:0:0:0:0:1/128");
	assert_string_equal(fmt(&p), "fd00::1/128");
	p = parse_ok("::ffff:10.0.0.1/96");
	assert_int_equal(p.family, AF_INET6);

	parse_bad("fd00::1", "the prefix length is missing (write /64, for example)");
	parse_bad("fd00::1/129", "prefix length 129 is out of range (0-128)");
	parse_bad("fd00::g/64", "unexpected 'g' in an IPv6 address");
	parse_bad("fd00:12345::1/64", "more than 4 hex digits");
	parse_bad("fd00::1::2/64", "'::' may appear only once");
	parse_bad("1:2:3:4:5:6:7:8:9/64", "not a valid IPv6 address");
	parse_bad("fd00:0000:0000:0000:0000:0000:0000:0000:0000:0000:1/64", "too long");
}

static void host_bad(const char *s, const char *want)
{
	struct addr_prefix p = parse_ok(s);
	const char *why = NULL;

	assert_int_equal(addr_check_host(&p, &why), -EINVAL);
	if (!strstr(why, want))
		print_message("%s: reason '%s' lacks '%s'\n", s, why, want);
	assert_non_null(strstr(why, want));
}

static void host_ok(const char *s)
{
	struct addr_prefix p = parse_ok(s);
	const char *why = NULL;

	assert_int_equal(addr_check_host(&p, &why), 0);
}

static void test_check_host(void **state)
{
	(void)state;
	host_ok("10.0.0.1/24");
	host_ok("10.0.0.254/24");
	host_ok("10.0.0.0/31");
	host_ok("10.0.0.1/31");
	host_ok("10.0.0.255/32");
	host_ok("10.0.0.0/32");
	host_bad("10.0.0.0/24", "10.0.0.0 is the network address of 10.0.0.0/24");
	host_bad("10.0.0.255/24", "10.0.0.255 is the broadcast address of 10.0.0.0/24");
	host_bad("10.1.255.255/16", "broadcast address of 10.1.0.0/16");
	host_bad("0.0.0.0/0", "network address");

	host_ok("fd00::1/64");
	host_ok("fd00::ffff:ffff:ffff:ffff/64"); /* no broadcast in IPv6 */
	host_ok("fd00::/127");
	host_ok("fd00::/128");
	host_bad("fd00::/64", "fd00:: is the network address of fd00::/64");
	host_bad("fd00:1:2:3::/64", "network address of fd00:1:2:3::/64");
}

static void test_check_network(void **state)
{
	struct addr_prefix p;
	const char *why = NULL;

	(void)state;
	p = parse_ok("10.0.0.0/16");
	assert_int_equal(addr_check_network(&p, &why), 0);
	p = parse_ok("0.0.0.0/0");
	assert_int_equal(addr_check_network(&p, &why), 0);
	p = parse_ok("10.0.1.0/16");
	assert_int_equal(addr_check_network(&p, &why), -EINVAL);
	assert_string_equal(why, "host bits are set: the network is 10.0.0.0/16");
	p = parse_ok("10.0.0.1/32");
	assert_int_equal(addr_check_network(&p, &why), 0);
	p = parse_ok("fd00::1/64");
	assert_int_equal(addr_check_network(&p, &why), -EINVAL);
	assert_string_equal(why, "host bits are set: the network is fd00::/64");
	p = parse_ok("fd00:1::/32");
	assert_int_equal(addr_check_network(&p, &why), 0);
}

static void test_compare(void **state)
{
	struct addr_prefix a, b, n;

	(void)state;
	a = parse_ok("10.1.2.3/16");
	n = addr_network(&a);
	assert_string_equal(fmt(&n), "10.1.0.0/16");
	a = parse_ok("10.1.2.3/20");
	n = addr_network(&a);
	assert_string_equal(fmt(&n), "10.1.0.0/20");
	a = parse_ok("fd00:1:2:3:4::1/64");
	n = addr_network(&a);
	assert_string_equal(fmt(&n), "fd00:1:2:3::/64");

	a = parse_ok("10.0.0.1/24");
	b = parse_ok("10.0.0.1/16");
	assert_true(addr_same_host(&a, &b));
	b = parse_ok("10.0.0.2/24");
	assert_false(addr_same_host(&a, &b));
	b = parse_ok("::a00:1/24"); /* the same leading bytes, another family */
	assert_false(addr_same_host(&a, &b));

	a = parse_ok("10.0.0.0/8");
	b = parse_ok("10.1.0.0/16");
	assert_true(addr_overlap(&a, &b));
	assert_true(addr_overlap(&b, &a));
	a = parse_ok("10.0.0.0/24");
	b = parse_ok("10.0.1.0/24");
	assert_false(addr_overlap(&a, &b));
	b = parse_ok("0.0.0.0/0");
	assert_true(addr_overlap(&a, &b));
	b = parse_ok("::/0");
	assert_false(addr_overlap(&a, &b));
	a = parse_ok("fd00::/48");
	b = parse_ok("fd00:0:0:1::/64");
	assert_true(addr_overlap(&a, &b));
	b = parse_ok("fd00:0:1::/64");
	assert_false(addr_overlap(&a, &b));
}

static void mac_bad(const char *s, const char *want)
{
	uint8_t m[6];
	const char *why = NULL;

	assert_int_equal(addr_parse_mac(s, m, &why), -EINVAL);
	if (!strstr(why, want))
		print_message("%s: reason '%s' lacks '%s'\n", s ? s : "(null)", why, want);
	assert_non_null(strstr(why, want));
}

static void test_mac(void **state)
{
	uint8_t m[6];
	const char *why = NULL;

	(void)state;
	assert_int_equal(addr_parse_mac("02:00:00:00:00:01", m, &why), 0);
	assert_int_equal(m[0], 2);
	assert_int_equal(m[5], 1);
	assert_int_equal(addr_parse_mac("02-AB-cd-00-00-ff", m, &why), 0);
	assert_int_equal(m[1], 0xab);
	assert_int_equal(m[2], 0xcd);
	assert_int_equal(m[5], 0xff);
	mac_bad("01:00:5e:00:00:01", "a multicast MAC cannot be an interface address");
	mac_bad("ff:ff:ff:ff:ff:ff", "multicast");
	mac_bad("00:00:00:00:00:00", "the all-zero MAC");
	mac_bad("02:00:00-00:00:01", "one separator");
	mac_bad("02:00:00:00:00", "six two-digit hex octets");
	mac_bad("02:00:00:00:00:0g", "six two-digit hex octets");
	mac_bad("02:00:00:00:00:001", "six two-digit hex octets");
	mac_bad("02.00.00.00.00.01", "six two-digit hex octets");
	mac_bad("", "six two-digit hex octets");
	mac_bad(NULL, "six two-digit hex octets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),     cmocka_unit_test(test_parse_v4_errors),
		cmocka_unit_test(test_parse_v6),     cmocka_unit_test(test_check_host),
		cmocka_unit_test(test_check_network), cmocka_unit_test(test_compare),
		cmocka_unit_test(test_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
