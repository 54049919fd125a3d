/* addr: parsing and comparing IP prefixes and MAC addresses, for the
 * compile checks (and later the address planner). Pure functions. */
#ifndef VTB_ADDR_H
#define VTB_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct addr_prefix {
	int family;         /* AF_INET or AF_INET6 */
	uint8_t bytes[16];  /* network byte order; IPv4 uses the first 4 */
	unsigned plen;      /* prefix length */
};

/* Parse "A.B.C.D/N" or "X:Y::Z/N". Returns 0, or -EINVAL with *why set to a
 * phrase (static, or in a thread-local buffer valid until the next addr_*
 * call) such as "octet 300 is out of range (0-255)",
 * "the prefix length is missing (write /24, for example)",
 * "prefix length 33 is out of range (0-32)". */
int addr_parse_prefix(const char *s, struct addr_prefix *out, const char **why);

/* Interface-address rules: host bits all zero (the network address) or, for
 * IPv4 with a prefix below /31, all one (broadcast) are refused. Returns 0 or
 * -EINVAL with *why set. */
int addr_check_host(const struct addr_prefix *a, const char **why);
/* Network rules (pool): host bits must be zero. Returns 0 or -EINVAL with *why. */
int addr_check_network(const struct addr_prefix *a, const char **why);

/* The network of a (host bits cleared). */
struct addr_prefix addr_network(const struct addr_prefix *a);
/* Same family and same address bits (the prefix length is ignored). */
bool addr_same_host(const struct addr_prefix *a, const struct addr_prefix *b);
/* The two networks share at least one address. */
bool addr_overlap(const struct addr_prefix *a, const struct addr_prefix *b);
/* Format as "10.0.0.0/24". buf must hold at least 64 bytes. */
const char *addr_format(const struct addr_prefix *a, char *buf, unsigned len);

/* Parse "02:00:00:00:00:01" (also with '-'). Returns 0 or -EINVAL with *why
 * ("a multicast MAC cannot be an interface address", ...). */
int addr_parse_mac(const char *s, uint8_t mac[6], const char **why);

#endif
