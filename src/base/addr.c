/* synack_addr helpers. */
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

synack_addr synack_addr_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	synack_addr x;
	memset(&x, 0, sizeof x);
	x.family = SYNACK_AF_INET;
	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

int synack_addr_parse(const char *text, synack_addr *out)
{
	memset(out, 0, sizeof *out);
	if (text && inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = SYNACK_AF_INET;
		return 0;
	}
	if (text && inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = SYNACK_AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof *out);
	return -EINVAL;
}

char *synack_addr_format(const synack_addr *addr, char *buf, size_t len)
{
	int af = addr->family == SYNACK_AF_INET6 ? AF_INET6 : AF_INET;
	if (addr->family == SYNACK_AF_NONE) {
		snprintf(buf, len, "*");
		return buf;
	}
	if (!inet_ntop(af, addr->bytes, buf, (socklen_t)len) && len)
		buf[0] = 0;
	return buf;
}

int synack_addr_equal(const synack_addr *a, const synack_addr *b)
{
	return addr_eq(a, b);
}
