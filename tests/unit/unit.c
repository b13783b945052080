/* Runner for TEST() functions: see unit.h. Optional argument: a substring
 * selecting which tests run. */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

#define UNIT_MAX 1024
static struct {
	const char *name;
	void (*fn)(void);
} tests[UNIT_MAX];
static int ntests;
static int current_failed;
int unit_argc;
char **unit_argv;

void unit_register(const char *name, void (*fn)(void))
{
	if (ntests < UNIT_MAX) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	if (current_failed < 5) {
		fprintf(stdout, "    %s:%d: ", file, line);
		va_start(ap, fmt);
		vfprintf(stdout, fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
	current_failed++;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int passed = 0, failed = 0;
	unit_argc = argc;
	unit_argv = argv;
	for (int i = 0; i < ntests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_failed = 0;
		tests[i].fn();
		if (current_failed) {
			printf("FAIL %s.%s\n", prog, tests[i].name);
			failed++;
		} else {
			printf("ok   %s.%s\n", prog, tests[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%s: %d passed, %d failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}
