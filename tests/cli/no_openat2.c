/* An LD_PRELOAD shim for tests/scripts/test-cli.sh: syscall(SYS_openat2)
 * fails with ENOSYS, as on kernels before 5.6, so that `synack serve
 * --http` takes its component-by-component fallback. Every other system
 * call goes through unchanged. If NO_OPENAT2_MARK names a file, it is
 * created at the first refusal, to show the shim was used.
 * Build: cc -shared -fPIC -o no_openat2.so no_openat2.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <sys/syscall.h>

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];
	if (number == SYS_openat2) {
		const char *mark = getenv("NO_OPENAT2_MARK");
		int fd = mark ? open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
		if (fd >= 0)
			close(fd);
		errno = ENOSYS;
		return -1;
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
