/* A very small test framework: TEST(name) { CHECK(...); }. Each test binary
 * links unit.c, which runs every registered test and prints
 * "<binary>: N passed, N failed". A test fails if any CHECK fails. */
#ifndef SYNACK_UNIT_H
#define SYNACK_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void unit_register(const char *name, void (*fn)(void));
void unit_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern int unit_argc;
extern char **unit_argv;

#define TEST(name)                                                                                           \
	static void name(void);                                                                              \
	__attribute__((constructor)) static void unit_reg_##name(void)                                       \
	{                                                                                                    \
		unit_register(#name, name);                                                                  \
	}                                                                                                    \
	static void name(void)

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond))                                                                                 \
			unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                   \
	} while (0)

#define CHECK_EQ(a, b)                                                                                       \
	do {                                                                                                 \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);                                \
		if (unit_a_ != unit_b_)                                                                      \
			unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, unit_a_, unit_b_);   \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                                   \
	do {                                                                                                 \
		if (memcmp((a), (b), (n)) != 0)                                                              \
			unit_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s) != 0", #a, #b, #n);                \
	} while (0)

#endif
