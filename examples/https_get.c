/* https_get.c: fetch a page over HTTPS with synack's TLS engine on a plain
 * kernel socket, driving the sans-I/O engine by hand: whatever the engine
 * wants to send goes to the socket, whatever the socket receives goes into
 * the engine, and the application reads and writes through the engine.
 * No synack stack here: the engine does not know what carries its bytes
 * (synack_tls_stream does this loop for a synack_tcp or a non-blocking fd).
 *
 *   cc https_get.c $(pkg-config --cflags --libs synack) -o https_get
 *   ./https_get example.org 443 /                      (the system's CAs)
 *   ./https_get --ca ca.pem localhost 4433 /index.html (a CA file)
 *
 * The response goes to standard output, what happens to standard error:
 * the negotiated version, suite and group, then the end (close_notify or
 * an error naming the alert). Exit status 0 after close_notify. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <synack/tls.h>

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *a;
	int fd = -1;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Everything the engine has to send, to the socket. Called after every
 * engine call, also after an error: a fatal alert waits in the output. */
static int drain(synack_tls *t, int fd)
{
	const uint8_t *p;
	size_t n;
	while ((p = synack_tls_out_peek(t, &n)) && n) {
		ssize_t k = write(fd, p, n);
		if (k < 0)
			return -errno;
		synack_tls_out_consume(t, (size_t)k);
	}
	return 0;
}

/* One read from the socket, fed to the engine, and the application data
 * it yields to standard output. 1: go on, 0: close_notify, <0: error. */
static int pump(synack_tls *t, int fd)
{
	uint8_t in[16384], app[16384];
	ssize_t n = read(fd, in, sizeof in), r;
	if (n <= 0)
		return n == 0 ? -EPIPE : -errno; /* a FIN before close_notify: truncated */
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t k = synack_tls_feed(t, in + off, (size_t)n - off);
		if (k < 0)
			return (int)k;
		off += (size_t)k; /* k may be short: a record waits to be read */
		while ((r = synack_tls_read(t, app, sizeof app)) > 0)
			fwrite(app, 1, (size_t)r, stdout);
		if (r == 0)
			return 0;
		if (r != -EAGAIN)
			return (int)r;
	}
	return 1;
}

static int get(synack_tls *t, int fd, const char *host, const char *path)
{
	char req[512];
	int sent = 0, rc, n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
	if (n < 0 || (size_t)n >= sizeof req)
		return -EINVAL;
	/* the first drain makes the engine build its ClientHello */
	while ((rc = drain(t, fd)) == 0) {
		if (!sent && synack_tls_handshake_done(t)) {
			synack_tls_info info;
			synack_tls_get_info(t, &info);
			fprintf(stderr, "https_get: %s, %s, %s%s\n",
				info.version == SYNACK_TLS_VERSION_13 ? "TLSv1.3" : "TLS",
				synack_tls_suite_name(info.suite), synack_tls_group_name(info.group),
				info.resumed ? ", resumed" : "");
			if (synack_tls_write(t, req, (size_t)n) != n)
				return -EIO;
			sent = 1;
			continue; /* drain the request first */
		}
		if ((rc = pump(t, fd)) <= 0)
			break;
	}
	drain(t, fd); /* an alert, if the engine failed */
	return rc;
}

int main(int argc, char **argv)
{
	const char *ca = NULL;
	if (argc == 6 && !strcmp(argv[1], "--ca"))
		ca = argv[2], argv += 2, argc -= 2;
	if (argc != 4) {
		fprintf(stderr, "usage: https_get [--ca FILE] HOST PORT PATH\n");
		return 2;
	}
	synack_tls_config *cfg = synack_tls_config_new(SYNACK_TLS_CLIENT);
	if (!cfg || (ca ? synack_tls_config_load_ca_file(cfg, ca) : synack_tls_config_use_system_ca(cfg))) {
		fprintf(stderr, "https_get: %s\n", cfg ? synack_tls_config_error(cfg) : "out of memory");
		return 1;
	}
	int fd = dial(argv[1], argv[2]), rc = -ECONNREFUSED;
	synack_tls *t = fd >= 0 ? synack_tls_new(cfg, argv[1]) : NULL; /* argv[1]: SNI and the name checked */
	if (t)
		rc = get(t, fd, argv[1], argv[3]);
	if (rc == 0) {
		synack_tls_close(t); /* our close_notify, then the socket's FIN */
		drain(t, fd);
		fprintf(stderr, "https_get: done (close_notify)\n");
	} else {
		fprintf(stderr, "https_get: %s%s%s\n", synack_tls_strerror(rc),
			t && synack_tls_error(t) ? ": " : "",
			t && synack_tls_error(t) ? synack_tls_error_detail(t) : "");
	}
	synack_tls_free(t);
	synack_tls_config_free(cfg);
	if (fd >= 0)
		close(fd);
	return rc == 0 ? 0 : 1;
}
