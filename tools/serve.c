/* `synack serve`: a TCP server on synack's own address over a TUN or TAP
 * device, many connections on one event loop.
 *
 * Implementation notes
 *
 * Each accepted connection has a struct sconn (its userdata) and one
 * service function per mode that makes all the progress it can: read what
 * is readable, send what fits. Stack events are level-style and fire once
 * per change, so service() never relies on a particular event: any event
 * on a connection runs it in full. Back-pressure is TCP's own: a
 * connection whose output buffer is full stops reading, its receive window
 * closes and the peer waits.
 *
 * Closing: when a connection has nothing more to send it shuts down its
 * write side (FIN); once the peer's FIN has arrived too and everything was
 * read, the handle is closed and the stack finishes the exchange. Resets
 * and errors abort the handle.
 *
 * --rr answers a request and closes: what the first read returns goes back,
 * then our FIN, at once (the peer's FIN is waited for, what else it sends
 * dropped). The server closes first, so TIME-WAIT stays on synack's side
 * and the client's ports are free as soon as it has closed: the
 * connect-request-response-close (CRR) job of bench/crr_threads.sh.
 *
 * --threads N: one stack per thread over a multi-queue TUN device (one
 * queue, one event loop, one stack and one listener on the same address
 * and port per thread; nothing shared but the read-only options). The
 * kernel keeps each flow on one queue (include/synack/tun.h), so a
 * connection lives and dies on one thread. The main thread only waits:
 * the workers block SIGINT/SIGTERM/SIGHUP, so a signal lands in the main
 * thread, which sets net_stop; the workers wait at most STOP_MS at a time
 * and see it. Counters (-v, --counters) are per thread, printed after
 * the threads ended, a block each, every line naming its thread.
 *
 * --source sends byte i = i % 251 (a prime period, so a misplaced segment
 * shows), which a test can regenerate to check what arrived.
 *
 * --http never serves a file outside DIR: the decoded path must be made of
 * plain names (no "..", no encoded '/', not absolute), and it is opened with
 * openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, which refuses a
 * symbolic link in any component, not only the last as O_NOFOLLOW does
 * (or, on kernels without openat2, one O_NOFOLLOW openat per component).
 *
 * The transport of a connection is one of four, behind c_send, c_recv and
 * c_shutdown_wr: a synack_tcp handle, a kernel socket (--kernel), or
 * either under TLS (--tls: a synack_tls_stream, include/synack/tls_stream.h).
 * The modes never know which. The kernel loop is epoll, edge-triggered, so
 * that its events mean what synack's do (a change, once): a service that
 * stops reading because its output is full is run again when the socket
 * becomes writable.
 *
 * TLS: a connection holds no application buffer until its handshake is
 * done, and a handshake not done after --handshake-timeout seconds ends
 * the connection (a RST): a peer that stalls, or sends half a
 * ClientHello, costs the engine's bounded handshake state for that long
 * and no more. A failed handshake or a bad record (garbage) makes the
 * engine queue an alert; the stream sends it, then FIN, and the connection
 * lingers (reading and dropping) until the peer closes or LINGER_S passed,
 * so that a RST does not overtake the alert. A peer that ends without
 * close_notify is treated as an end of its data (most HTTP clients do). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "netcmd.h"
#include "tlscmd.h"

enum {
	OPT_HELP = NOPT_FIRST_FREE,
	OPT_PORT,
	OPT_ECHO,
	OPT_DISCARD,
	OPT_SOURCE,
	OPT_HTTP,
	OPT_BACKLOG,
	OPT_RR,
	OPT_THREADS,
	OPT_PIN
};
enum mode { M_NONE, M_ECHO, M_DISCARD, M_SOURCE, M_HTTP, M_RR };
enum { BUF = 65536, REQ_MAX = 8192, LINGER_S = 10, SCAN_MS = 250, TRIM_IDLE_MS = 100 };
/* --threads: at most this many (a queue, a stack and a thread each); a
 * worker waits at most STOP_MS before it looks at net_stop again. */
enum { MAX_THREADS = 64, STOP_MS = 100 };

static const struct cli_opt opts[] = {
    NET_CLI_OPTS,
    {"help", false, OPT_HELP},
    {"port", true, OPT_PORT},
    {"echo", false, OPT_ECHO},
    {"discard", false, OPT_DISCARD},
    {"source", true, OPT_SOURCE},
    {"http", true, OPT_HTTP},
    {"backlog", true, OPT_BACKLOG},
    {"rr", false, OPT_RR},
    {"threads", true, OPT_THREADS},
    {"pin", false, OPT_PIN},
    TLS_CLI_OPTS,
    {NULL, false, 0},
};

struct server {
	struct net_env env;
	struct tls_opts to;
	struct tls_env tls;
	bool verbose;
	int lfd, epfd;		 /* --kernel: the listening socket, the epoll set */
	synack_time_t next_scan; /* when deadlines are looked at next */
	bool any_deadline;
	synack_time_t trim_at; /* give memory back to the OS then, if still idle (0: no) */
	struct sconn *current; /* in service(); conn_end clears it */
	enum mode mode;
	uint16_t port;
	uint64_t source_bytes;
	int dirfd;
	int backlog;
	synack_tcp *listener;
	struct sconn *conns;
	uint64_t accepted, finished, failed, tls_failed, timeouts;
	unsigned threads; /* --threads (1: this thread, as before) */
	unsigned thread_index;
	bool pin;    /* --pin */
	int stop_ms; /* the longest wait: -1, or STOP_MS with threads */
};

struct sconn {
	synack_tcp *c; /* the transport: c, or sock (--kernel) */
	int sock;
	synack_tls *tls; /* --tls */
	synack_tls_stream *ts;
	synack_time_t deadline;	   /* handshake or linger deadline, 0 if none */
	bool hs_done;		   /* TLS handshake done (or no TLS) */
	bool failing;		   /* TLS failed: alert out, lingering */
	char peer[96];		   /* "ADDR port N", for messages */
	struct sconn *prev, *next; /* the server's open connections */
	uint8_t *buf;
	size_t off, len; /* pending output in buf[off..len) */
	uint64_t left;	 /* --source: bytes still to send; --http: file bytes */
	uint64_t sent;	 /* --source: bytes sent so far */
	int file;	 /* --http: the file, or -1 */
	size_t req_len;	 /* --http: request bytes in buf while reading it */
	bool eof;	 /* peer's FIN read */
	bool wr_done;	 /* our FIN queued */
	bool responding; /* --http: request parsed */
};

void cmd_serve_usage(FILE *out)
{
	fprintf(out,
		"usage: synack serve (--tun|--tap) DEV --addr ADDR/PREFIX [--host-addr ADDR/PREFIX]\n"
		"                    [--port P] (--echo|--rr|--discard|--source BYTES|--http DIR)\n"
		"                    [--threads N [--pin]]\n"
		"                    [--tls --cert FILE --key FILE [--alpn LIST] [--client-ca FILE]\n"
		"                     [--keylog FILE] [--tls12|--tls13]]\n"
		"       synack serve --kernel [--port P] (--echo|...) [--tls ...]\n\n"
		"Serve TCP on synack's own address, many connections on one event loop; with --tls,\n"
		"TLS 1.3 or 1.2 on synack's engine (HTTPS with --http). --kernel serves on the OS's own\n"
		"TCP sockets instead (every address of this host), with the same modes and "
		"TLS.\n\n" NET_USAGE_OPTS TLS_USAGE_KERNEL TLS_USAGE_SERVER
		"  --port P             port to listen on (default: 7 echo, 9 discard, 19 source, 80 http,\n"
		"                       443 http with --tls)\n"
		"  --echo               send back what is received\n"
		"  --rr                 request/response: send back what the first read returns, then\n"
		"                       close at once (the server closes first: TIME-WAIT stays here)\n"
		"  --discard            read and drop what is received\n"
		"  --source BYTES       send BYTES bytes (byte i is i %% 251) to each client, then close\n"
		"  --http DIR           a small HTTP/1.0 and 1.1 server for the files under DIR (GET, HEAD;\n"
		"                       no symbolic link is followed, nothing outside DIR is served)\n"
		"  --backlog N          pending connections kept for accept (default 1024)\n"
		"  --threads N          N threads (1 to 64, default 1), each with its own queue of a\n"
		"                       multi-queue TUN device (IFF_MULTI_QUEUE), event loop and stack,\n"
		"                       all on the same --addr and port; the kernel keeps each flow on\n"
		"                       one queue. TUN only; not with --kernel, --tls or impairments.\n"
		"                       -v/--counters print each thread's counters, a block each\n"
		"  --pin                pin thread i to CPU i\n"
		"  -h, --help           show this help\n\n"
		"Runs until interrupted (Ctrl-C), which resets the connections still open.\n"
		"Example, after `ip tuntap add dev synack0 mode tun user $USER`,\n"
		"`ip addr add 10.1.0.1/24 dev synack0` and `ip link set synack0 up`:\n"
		"  synack serve --tun synack0 --addr 10.1.0.2/24 --echo   # then: ncat 10.1.0.2 7\n"
		"  synack serve --kernel --port 4433 --tls --cert cert.pem --key key.pem --http ~/www\n"
		"                                          # then: curl --cacert ca.pem "
		"https://localhost:4433/\n");
}

/* ---- connection bookkeeping ---- */

static void conn_link(struct server *srv, struct sconn *s)
{
	s->next = srv->conns;
	if (s->next)
		s->next->prev = s;
	srv->conns = s;
}

static void conn_unlink(struct server *srv, struct sconn *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		srv->conns = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* Frees what the connection holds but its transport. */
static void conn_free(struct sconn *s)
{
	if (s->file >= 0)
		close(s->file);
	synack_tls_stream_free(s->ts);
	synack_tls_free(s->tls);
	free(s->buf);
	free(s);
}

/* Ends the connection: a graceful close (everything read and sent) or an
 * abort (RST). */
static void conn_end(struct server *srv, struct sconn *s, bool graceful)
{
	if (s->failing)
		; /* counted when it failed */
	else if (graceful)
		srv->finished++;
	else
		srv->failed++;
	synack_tls_stream_free(s->ts); /* before its transport goes */
	s->ts = NULL;
	if (s->c && graceful)
		synack_tcp_close(s->c);
	else if (s->c)
		synack_tcp_abort(s->c);
	else if (graceful)
		close(s->sock);
	else
		kernel_abort(s->sock);
	conn_unlink(srv, s);
	if (srv->current == s)
		srv->current = NULL;
	conn_free(s);
	if (!srv->conns) /* idle: give the connections' memory back soon (idle_trim) */
		srv->trim_at = synack_clock_now() + SYNACK_MSEC(TRIM_IDLE_MS);
}

/* malloc_trim once the server has had no connection for TRIM_IDLE_MS:
 * trimming each time the count touches zero under load made the next
 * connections fault their pages back in (a tenth of the server's time
 * under wrk -c16 went to brk and page faults). */
static void idle_trim(struct server *srv)
{
	if (!srv->trim_at || (!srv->conns && synack_clock_now() < srv->trim_at))
		return;
	if (!srv->conns)
		malloc_trim(0);
	srv->trim_at = 0;
}

/* ---- the transport: synack or kernel TCP, with or without TLS ---- */

static ssize_t errno_result(ssize_t n)
{
	return n >= 0 ? n : errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t c_send(struct sconn *s, const void *p, size_t n)
{
	if (s->ts)
		return synack_tls_stream_send(s->ts, p, n);
	if (s->c)
		return synack_tcp_send(s->c, p, n);
	return errno_result(send(s->sock, p, n, MSG_NOSIGNAL));
}

/* Like synack_tcp_recv. Under TLS the peer's end without close_notify
 * counts as an end (0): what was received is served all the same. */
static ssize_t c_recv(struct sconn *s, void *p, size_t n)
{
	if (s->ts) {
		ssize_t r = synack_tls_stream_recv(s->ts, p, n);
		return r == -EPIPE ? 0 : r;
	}
	if (s->c)
		return synack_tcp_recv(s->c, p, n);
	return errno_result(recv(s->sock, p, n, 0));
}

static void c_shutdown_wr(struct sconn *s)
{
	if (s->ts)
		synack_tls_stream_close(s->ts); /* close_notify, then FIN */
	else if (s->c)
		synack_tcp_shutdown(s->c, SYNACK_SHUT_WR);
	else
		shutdown(s->sock, SHUT_WR);
}

/* Send buf[off..len); false on a connection error. */
static bool flush(struct sconn *s)
{
	while (s->off < s->len) {
		ssize_t n = c_send(s, s->buf + s->off, s->len - s->off);
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;
		s->off += (size_t)n;
	}
	s->off = s->len = 0;
	return true;
}

/* Read and drop everything readable; false on a connection error. */
static bool drain(struct sconn *s)
{
	uint8_t junk[4096];
	for (;;) {
		/* synack's TCP drops them where they are, no copy (MSG_TRUNC) */
		ssize_t n = s->c && !s->ts ? synack_tcp_recv_ex(s->c, NULL, SIZE_MAX, SYNACK_TCP_RECV_TRUNC)
					   : c_recv(s, junk, sizeof junk);
		if (n == -EAGAIN)
			return true;
		if (n == 0) {
			s->eof = true;
			return true;
		}
		if (n < 0)
			return false;
	}
}

static void finish_write(struct sconn *s)
{
	if (!s->wr_done && s->off == s->len) {
		c_shutdown_wr(s);
		s->wr_done = true;
	}
}

/* The buffer is taken when a connection has something to do and given
 * back when it holds nothing: an idle connection (and a handshake that
 * never completes, as under a SYN flood) costs no BUF bytes. */
static void buf_release(const struct server *srv, struct sconn *s)
{
	bool holds_request = srv->mode == M_HTTP && !s->responding && s->req_len;
	if (s->buf && s->off == s->len && !holds_request) {
		free(s->buf);
		s->buf = NULL;
		s->off = s->len = 0;
	}
}

/* ---- modes ---- */

static bool serve_echo(struct sconn *s)
{
	for (;;) {
		if (!flush(s))
			return false;
		if (s->len || s->eof)
			break;
		ssize_t n = c_recv(s, s->buf, BUF);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return false;
		if (n == 0)
			s->eof = true;
		s->len = (size_t)n;
	}
	if (s->eof)
		finish_write(s);
	return true;
}

/* --rr: the first read's bytes back, then FIN; the rest is dropped until
 * the peer's FIN (service_one ends the connection then). */
static bool serve_rr(struct sconn *s)
{
	if (!s->wr_done && !s->len) {
		ssize_t n = c_recv(s, s->buf, BUF);
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;
		s->eof = n == 0;
		s->len = (size_t)n;
	}
	if (!flush(s))
		return false;
	finish_write(s); /* once the response is out (off == len) */
	return !s->wr_done || s->eof || drain(s);
}

static bool serve_discard(struct sconn *s)
{
	if (!drain(s))
		return false;
	if (s->eof)
		finish_write(s);
	return true;
}

/* --source's bytes: byte i of the stream is i % 251. Sent straight from
 * this table (no per-connection buffer, no copy but the stack's own):
 * BUF bytes from any offset 0..250. */
static const uint8_t *pattern(void)
{
	static uint8_t p[BUF + 251];
	static bool made; /* first made by cmd_serve, before any thread starts */
	if (!made) {
		for (size_t i = 0; i < sizeof p; i++)
			p[i] = (uint8_t)(i % 251);
		made = true;
	}
	return p;
}
/* Send what `fill` produces (s->left bytes in all) as fast as the
 * connection takes it, then half-close. Used by --source and --http. */
static bool pump(struct sconn *s, bool (*fill)(struct sconn *s))
{
	if (!drain(s))
		return false;
	for (;;) {
		if (!flush(s))
			return false;
		if (s->len || !s->left)
			break;
		if (!fill(s))
			return false;
	}
	if (!s->len && !s->left)
		finish_write(s);
	return true;
}

static bool serve_source(struct sconn *s)
{
	if (!drain(s))
		return false;
	while (s->left) {
		size_t n = s->left < BUF ? (size_t)s->left : BUF;
		ssize_t w = c_send(s, pattern() + s->sent % 251, n);
		if (w == -EAGAIN)
			return true;
		if (w < 0)
			return false;
		s->left -= (size_t)w;
		s->sent += (size_t)w;
	}
	finish_write(s);
	return true;
}

/* ---- HTTP ---- */

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
	    {".html", "text/html"}, {".htm", "text/html"},	{".txt", "text/plain"},
	    {".css", "text/css"},   {".js", "text/javascript"}, {".json", "application/json"},
	    {".png", "image/png"},  {".jpg", "image/jpeg"},	{".svg", "image/svg+xml"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Every '/'-separated component of path is a name: not empty (so the
 * path is relative: "//etc/passwd" decodes to "/etc/passwd"), not "." or
 * "..". A trailing '/' (a directory's index) is allowed. */
static bool plain_components(const char *path)
{
	const char *p = path;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		p += *p == '/';
	}
	return true;
}

/* Decode the request target into a path relative to DIR; false if it is
 * not acceptable: not absolute, an empty or ".." component, NUL, an
 * encoded '/' ("%2f": RFC 3986 §2.2 makes it data, not a separator, and no
 * file name holds one), a bad escape. Where the path leads is checked when
 * the file is opened (open_beneath). */
static bool http_path(const char *target, size_t tlen, char *out, size_t cap)
{
	size_t o = 0;
	if (tlen == 0 || target[0] != '/')
		return false;
	for (size_t i = 1; i < tlen && target[i] != '?' && target[i] != '#'; i++) {
		int c = (unsigned char)target[i];
		if (c == '%') {
			int hi = i + 2 < tlen ? hexval(target[i + 1]) : -1,
			    lo = hi >= 0 ? hexval(target[i + 2]) : -1;
			if (lo < 0 || hi * 16 + lo == '/')
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!plain_components(out))
		return false;
	if (o == 0 || out[o - 1] == '/')
		snprintf(out + o, cap - o, "index.html");
	return true;
}

static void http_status(struct sconn *s, int code, const char *reason, bool head)
{
	s->len = (size_t)snprintf((char *)s->buf, BUF,
				  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
				  "Connection: close\r\nServer: synack\r\n\r\n%s%s",
				  code, reason, head ? 0 : strlen(reason) + 1, head ? "" : reason,
				  head ? "" : "\n");
	s->off = 0;
}

/* openat(2) of each component in turn, each a directory (O_PATH: search
 * permission is enough) but the last, none a symbolic link (O_NOFOLLOW):
 * for kernels without openat2 (before 5.6). */
static int walk_beneath(int dirfd, const char *path, int flags)
{
	char buf[1024], *save = NULL;
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return errno = ENAMETOOLONG, -1;
	int cur = dirfd;
	char *comp = strtok_r(buf, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		int fd = openat(cur, comp, next ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC : flags);
		int err = errno;
		if (cur != dirfd)
			close(cur);
		if (fd < 0)
			return errno = err, -1;
		cur = fd;
		comp = next;
	}
	return cur == dirfd ? (errno = EISDIR, -1) : cur;
}

/* Open path (relative, components checked by http_path) for reading, with
 * every component resolved under dirfd and none a symbolic link, so that
 * no link inside the document root leads out of it: openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS. O_NONBLOCK:
 * a FIFO under the root must not stall the event loop (open(2)). */
static int open_beneath(int dirfd, const char *path)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	struct open_how how = {
	    .flags = (uint64_t)flags,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
	return walk_beneath(dirfd, path, flags);
}

static void http_file(struct server *srv, struct sconn *s, const char *path, bool head)
{
	struct stat sb;
	int fd = open_beneath(srv->dirfd, path);
	if (fd < 0 && (errno == ELOOP || errno == EXDEV || errno == EACCES || errno == EPERM)) {
		http_status(s, 403, "Forbidden", head); /* a symbolic link, or no permission */
		return;
	}
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_status(s, 404, "Not Found", head);
		return;
	}
	s->len = (size_t)snprintf((char *)s->buf, BUF,
				  "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
				  "Connection: close\r\nServer: synack\r\n\r\n",
				  content_type(path), (long long)sb.st_size);
	s->off = 0;
	if (head) {
		close(fd);
		return;
	}
	s->file = fd;
	s->left = (uint64_t)sb.st_size;
}

/* Parse the request line of the complete head in buf. */
static void http_respond(struct server *srv, struct sconn *s)
{
	char *req = (char *)s->buf, path[1024];
	char *sp1 = memchr(req, ' ', s->req_len);
	char *sp2 = sp1 ? memchr(sp1 + 1, ' ', s->req_len - (size_t)(sp1 + 1 - req)) : NULL;
	char *eol = strstr(req, "\r\n");
	s->responding = true;
	if (!sp1 || !sp2 || sp2 > eol || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return http_status(s, 400, "Bad Request", false);
	bool get = sp1 - req == 3 && strncmp(req, "GET", 3) == 0;
	bool head = sp1 - req == 4 && strncmp(req, "HEAD", 4) == 0;
	if (!get && !head)
		return http_status(s, 405, "Method Not Allowed", false);
	if (!http_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), path, sizeof path))
		return http_status(s, 403, "Forbidden", head);
	http_file(srv, s, path, head);
}

/* Read the request head into buf; true once complete (or too long). */
static bool http_read_head(struct server *srv, struct sconn *s)
{
	while (!s->responding) {
		ssize_t n = c_recv(s, s->buf + s->req_len, REQ_MAX - 1 - s->req_len);
		if (n == -EAGAIN)
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			s->eof = true;
			s->responding = true;
			return true; /* nothing to answer */
		}
		s->req_len += (size_t)n;
		s->buf[s->req_len] = '\0';
		if (strstr((char *)s->buf, "\r\n\r\n") || strstr((char *)s->buf, "\n\n"))
			http_respond(srv, s);
		else if (s->req_len >= REQ_MAX - 1)
			http_status(s, 431, "Request Header Fields Too Large", false), s->responding = true;
	}
	return true;
}

static bool http_fill(struct sconn *s)
{
	size_t want = s->left < BUF ? (size_t)s->left : BUF;
	ssize_t n = read(s->file, s->buf, want);
	if (n <= 0)
		return false; /* the file shrank or failed: the length promise is broken */
	s->off = 0;
	s->len = (size_t)n;
	s->left -= (uint64_t)n;
	return true;
}

static bool serve_http(struct server *srv, struct sconn *s)
{
	if (!http_read_head(srv, s))
		return false;
	if (!s->responding)
		return true;
	return pump(s, http_fill);
}

/* ---- TLS ---- */

/* "ADDR port N" of the peer, kept from the start: a reset socket has no
 * peer name any more. */
static void peer_text(struct sconn *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", s->peer);
}

static void note_peer(struct sconn *s)
{
	if (s->c) {
		synack_endpoint peer;
		char a[64];
		synack_tcp_endpoints(s->c, NULL, &peer);
		snprintf(s->peer, sizeof s->peer, "%s port %u", synack_addr_format(&peer.addr, a, sizeof a),
			 peer.port);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[64], serv[16];
	if (getpeername(s->sock, (struct sockaddr *)&ss, &len) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(s->peer, sizeof s->peer, "a peer");
	else
		snprintf(s->peer, sizeof s->peer, "%s port %s", strncmp(host, "::ffff:", 7) ? host : host + 7,
			 serv);
}

static void set_deadline(struct server *srv, struct sconn *s, synack_time_t when)
{
	s->deadline = when;
	srv->any_deadline = true;
}

/* The engine failed (it queued an alert, or the peer sent one): send the
 * alert and FIN, then linger until the peer closes. */
static void tls_failed(struct server *srv, struct sconn *s, int err)
{
	char why[512], who[128];
	if (s->failing)
		return;
	s->failing = true;
	srv->tls_failed++;
	srv->failed++;
	set_deadline(srv, s, synack_clock_now() + SYNACK_SEC(LINGER_S));
	if (srv->verbose) {
		peer_text(s, who, sizeof who);
		fprintf(stderr, "synack: serve: TLS %s with %s failed: %s\n",
			s->hs_done ? "connection" : "handshake", who,
			tls_err_text(s->tls, err, why, sizeof why));
	}
}

/* Move the engine's bytes; false when the connection ended here (or
 * waits, failed, for the peer's close). */
/* The engine's key-log lines to --keylog; with -v, its messages to stderr. */
static void tls_log(struct server *srv, struct sconn *s)
{
	char who[160];
	tls_env_keylog(&srv->tls, s->tls);
	if (!srv->verbose)
		return;
	snprintf(who, sizeof who, "%s: ", s->peer);
	tls_env_trace(&srv->tls, s->tls, who);
}

static bool tls_step(struct server *srv, struct sconn *s)
{
	char text[256], who[128];
	synack_tls_stream_pump(s->ts);
	tls_log(srv, s);
	if (!s->hs_done && synack_tls_handshake_done(s->tls)) {
		s->hs_done = true;
		s->deadline = 0;
		if (srv->verbose) {
			peer_text(s, who, sizeof who);
			fprintf(stderr, "synack: serve: TLS with %s: %s\n", who,
				tls_summary(s->tls, text, sizeof text));
		}
	}
	if (synack_tls_error(s->tls))
		tls_failed(srv, s, synack_tls_error(s->tls));
	if (s->failing) {
		if (synack_tls_stream_error(s->ts) != synack_tls_error(s->tls))
			conn_end(srv, s, false); /* the transport failed too */
		else if (synack_tls_stream_write_done(s->ts) && synack_tls_stream_transport_eof(s->ts))
			conn_end(srv, s, true);
		return false;
	}
	int err = synack_tls_stream_error(s->ts);
	if ((err == -ECONNRESET || err == -EPIPE) && s->wr_done && synack_tls_stream_write_done(s->ts)) {
		/* The whole response and close_notify went out; a client that
		 * closes without reading close_notify makes its kernel send a
		 * RST (wrk, many HTTP clients): the exchange still completed. */
		conn_end(srv, s, true);
		return false;
	}
	if (err || (!s->hs_done && synack_tls_stream_transport_eof(s->ts))) {
		if (srv->verbose) {
			peer_text(s, who, sizeof who);
			fprintf(stderr, "synack: serve: %s: %s\n", who,
				err ? net_err_phrase(err) : "closed during the TLS handshake");
		}
		conn_end(srv, s, false);
		return false;
	}
	return s->hs_done;
}

/* ---- the server ---- */

static void service_one(struct server *srv, struct sconn *s, uint32_t ev)
{
	bool ok;
	if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)) {
		if (srv->verbose)
			fprintf(stderr, "synack: serve: connection failed: %s\n",
				net_err_phrase(synack_tcp_error(s->c)));
		conn_end(srv, s, false);
		return;
	}
	if (s->ts && !tls_step(srv, s))
		return;
	bool needs_buf =
	    srv->mode != M_SOURCE && srv->mode != M_DISCARD && !(srv->mode == M_RR && s->wr_done);
	if (!s->buf && needs_buf && !(s->buf = malloc(BUF))) {
		conn_end(srv, s, false);
		return;
	}
	switch (srv->mode) {
	case M_ECHO:
		ok = serve_echo(s);
		break;
	case M_DISCARD:
		ok = serve_discard(s);
		break;
	case M_SOURCE:
		ok = serve_source(s);
		break;
	case M_RR:
		ok = serve_rr(s);
		break;
	default:
		ok = serve_http(srv, s);
		break;
	}
	if (s->ts) {
		tls_log(srv, s);
		if (synack_tls_error(s->tls)) { /* a bad record (garbage) ... */
			tls_step(srv, s);
			return;
		}
	}
	if (ok)
		buf_release(srv, s);
	if (!ok)
		conn_end(srv, s, false);
	else if (s->wr_done && s->eof && (!s->ts || synack_tls_stream_write_done(s->ts)))
		conn_end(srv, s, true);
	else if (ev & SYNACK_EV_CLOSED)
		conn_end(srv, s, false);
	else if (s->ts && s->wr_done && !s->deadline)
		set_deadline(srv, s, synack_clock_now() + SYNACK_SEC(LINGER_S)); /* close_notify unanswered */
}

/* One readiness event of a connection. With TLS the stream is corked
 * meanwhile: what the engine and the application produce for this event
 * (the session ticket after the client's Finished, the response,
 * close_notify) leaves in one write, not one system call each. */
static void service(struct server *srv, struct sconn *s, uint32_t ev)
{
	if (!s->ts)
		return service_one(srv, s, ev);
	synack_tls_stream_cork(s->ts, true);
	srv->current = s;
	service_one(srv, s, ev);
	if (srv->current != s)
		return; /* conn_end freed it */
	srv->current = NULL;
	synack_tls_stream_cork(s->ts, false);
	if (s->wr_done && s->eof && synack_tls_stream_write_done(s->ts))
		conn_end(srv, s, true); /* the FIN the cork held was the last step */
}

/* A new connection on transport c or sock: its state, TLS engine. */
static struct sconn *conn_new(struct server *srv, synack_tcp *c, int sock)
{
	struct sconn *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->c = c;
	s->sock = sock;
	s->file = -1;
	s->left = srv->mode == M_SOURCE ? srv->source_bytes : 0;
	s->hs_done = !srv->tls.cfg;
	if (srv->tls.cfg) {
		s->tls = synack_tls_new(srv->tls.cfg, NULL);
		if (s->tls && srv->verbose)
			synack_tls_trace_enable(s->tls, true); /* -v: every TLS message */
		s->ts = !s->tls ? NULL
			: c	? synack_tls_stream_new_tcp(c, s->tls)
				: synack_tls_stream_new_fd(sock, s->tls);
		if (!s->ts) {
			synack_tls_free(s->tls);
			free(s);
			return NULL;
		}
		set_deadline(srv, s, synack_clock_now() + SYNACK_SEC(srv->to.hs_timeout_s));
	}
	conn_link(srv, s);
	srv->accepted++;
	note_peer(s);
	if (srv->verbose) {
		char who[128];
		peer_text(s, who, sizeof who);
		fprintf(stderr, "synack: serve: connection from %s\n", who);
	}
	return s;
}

static void accept_all(struct server *srv)
{
	synack_tcp *c;
	while (synack_tcp_accept(srv->listener, &c) == 0) {
		struct sconn *s = conn_new(srv, c, -1);
		if (!s) {
			synack_tcp_abort(c);
			continue;
		}
		synack_tcp_set_userdata(c, s);
		service(srv, s, 0);
	}
}

/* Every SCAN_MS: end the connections whose deadline passed (a handshake
 * not done in time: RST; a failed or closed one lingering: close). */
static void check_deadlines(struct server *srv)
{
	synack_time_t now = synack_clock_now();
	if (!srv->any_deadline || now < srv->next_scan)
		return;
	srv->next_scan = now + SYNACK_MSEC(SCAN_MS);
	srv->any_deadline = false;
	for (struct sconn *s = srv->conns, *next; s; s = next) {
		next = s->next;
		if (!s->deadline)
			continue;
		if (now < s->deadline) {
			srv->any_deadline = true;
			continue;
		}
		if (!s->hs_done && !s->failing) {
			char who[128];
			srv->timeouts++;
			if (srv->verbose) {
				peer_text(s, who, sizeof who);
				fprintf(stderr,
					"synack: serve: %s: TLS handshake not done after %llu s: reset\n",
					who, (unsigned long long)srv->to.hs_timeout_s);
			}
		}
		conn_end(srv, s, false);
	}
}

static int wait_ms(const struct server *srv)
{
	int ms = srv->any_deadline ? SCAN_MS : srv->trim_at ? TRIM_IDLE_MS : -1;
	return srv->stop_ms >= 0 && (ms < 0 || ms > srv->stop_ms) ? srv->stop_ms : ms;
}

static int run(struct server *srv)
{
	int ready[4];
	while (!net_stopping()) {
		uint32_t ev;
		synack_tcp *c;
		while ((c = synack_stack_next_event(srv->env.st, &ev))) {
			if (c == srv->listener)
				accept_all(srv);
			else if (synack_tcp_userdata(c))
				service(srv, synack_tcp_userdata(c), ev);
		}
		check_deadlines(srv);
		idle_trim(srv);
		if (net_env_run(&srv->env, wait_ms(srv), ready, 4) < 0)
			return CLI_FAIL;
	}
	return CLI_OK;
}

/* ---- --kernel: the OS's sockets, one epoll set ---- */

static void kernel_accept_all(struct server *srv)
{
	for (;;) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED && srv->verbose)
				fprintf(stderr, "synack: serve: accept: %s\n", strerror(errno));
			return;
		}
		struct sconn *s = conn_new(srv, NULL, fd);
		struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
		if (!s || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			if (s)
				conn_end(srv, s, false);
			else
				kernel_abort(fd);
			continue;
		}
		service(srv, s, 0);
	}
}

static int run_kernel(struct server *srv)
{
	struct epoll_event evs[64], l = {.events = EPOLLIN, .data.ptr = NULL};
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0 || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &l) < 0) {
		cli_error("serve", "epoll: %s", strerror(errno));
		return CLI_FAIL;
	}
	while (!net_stop) {
		int n = epoll_wait(srv->epfd, evs, 64, wait_ms(srv));
		if (n < 0 && errno != EINTR) {
			cli_error("serve", "epoll_wait: %s", strerror(errno));
			return CLI_FAIL;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr)
				service(srv, evs[i].data.ptr, 0);
			else
				kernel_accept_all(srv);
		}
		check_deadlines(srv);
		idle_trim(srv);
	}
	return CLI_OK;
}

/* Interrupted: reset every synchronized connection so that peers learn at
 * once that this end is gone (the stack is destroyed silently). */
static void reset_all(struct server *srv)
{
	static const int states[] = {SYNACK_TCP_SYN_RECEIVED, SYNACK_TCP_ESTABLISHED, SYNACK_TCP_FIN_WAIT_1,
				     SYNACK_TCP_FIN_WAIT_2,   SYNACK_TCP_CLOSE_WAIT,  SYNACK_TCP_CLOSING,
				     SYNACK_TCP_LAST_ACK};
	if (!srv->env.st)
		return;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		synack_tcp_drop_state(srv->env.st, states[i]);
}

static int set_mode(struct server *srv, enum mode m)
{
	if (srv->mode != M_NONE)
		return cli_error("serve", "give one of --echo, --discard, --source, --http"), CLI_BAD;
	srv->mode = m;
	return 0;
}

static int parse_one(struct server *srv, struct net_opts *no, int id, const char *val)
{
	uint64_t v;
	int r;
	switch (id) {
	case OPT_PORT:
		if (cli_parse_u64("serve", "port", val, 1, 65535, &v) < 0)
			return CLI_BAD;
		srv->port = (uint16_t)v;
		return 0;
	case OPT_BACKLOG:
		if (cli_parse_u64("serve", "backlog", val, 1, 65535, &v) < 0)
			return CLI_BAD;
		srv->backlog = (int)v;
		return 0;
	case OPT_ECHO:
		return set_mode(srv, M_ECHO);
	case OPT_RR:
		return set_mode(srv, M_RR);
	case OPT_THREADS:
		if (cli_parse_u64("serve", "threads", val, 1, MAX_THREADS, &v) < 0)
			return CLI_BAD;
		srv->threads = (unsigned)v;
		return 0;
	case OPT_PIN:
		srv->pin = true;
		return 0;
	case OPT_DISCARD:
		return set_mode(srv, M_DISCARD);
	case OPT_SOURCE:
		if (cli_parse_u64("serve", "source", val, 0, UINT64_MAX, &srv->source_bytes) < 0)
			return CLI_BAD;
		return set_mode(srv, M_SOURCE);
	case OPT_HTTP:
		if (srv->mode != M_NONE)
			return set_mode(srv, M_HTTP);
		srv->dirfd = open(val, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (srv->dirfd < 0)
			return cli_error("serve", "--http: cannot open directory '%s': %s", val,
					 strerror(errno)),
			       CLI_BAD;
		return set_mode(srv, M_HTTP);
	case NET_POSITIONAL:
		return cli_error("serve", "unexpected argument '%s' (see 'synack serve --help')", val),
		       CLI_BAD;
	default:
		r = net_opt("serve", no, id, val);
		if (r == 0)
			r = tls_opt("serve", &srv->to, id, val);
		return r < 0 ? CLI_BAD : 0;
	}
}

/* --kernel takes no link option; without it they are required. */
static int check_link(const char *cmd, const struct net_opts *no, bool kernel)
{
	if (!kernel)
		return net_opts_check(cmd, no);
	if (net_check_kernel_impair(cmd, no) < 0)
		return CLI_BAD;
	if (no->dev || no->naddr || no->nhost || no->ngw || no->mtu)
		return cli_error(cmd, "--kernel uses the OS's TCP sockets: leave out --tun, --tap, --addr, "
				      "--host-addr, --gateway and --mtu"),
		       CLI_BAD;
	return 0;
}

/* --threads N > 1: one queue of a multi-queue TUN device per thread. */
static int check_threads(const struct server *srv, const struct net_opts *no)
{
	if (srv->threads <= 1)
		return 0;
	if (srv->to.kernel)
		return cli_error("serve",
				 "--threads runs one synack stack per thread on a multi-queue TUN "
				 "device; with --kernel the OS's sockets serve: leave --threads out"),
		       CLI_BAD;
	if (no->kind == SYNACK_TAP)
		return cli_error("serve", "--threads needs a TUN device (--tun): multi-queue TAP is not "
					  "supported yet"),
		       CLI_BAD;
	if (srv->to.on)
		return cli_error("serve", "--threads with --tls is not supported yet (the TLS configuration "
					  "and its ticket keys are not shared between threads)"),
		       CLI_BAD;
	if (no->impair_given)
		return cli_error("serve", "--threads with impairments (--loss, --delay ...) is not supported "
					  "yet: leave one of them out"),
		       CLI_BAD;
	return 0;
}

static int parse(int argc, char **argv, struct server *srv, struct net_opts *no)
{
	struct cli_args a;
	const char *val;
	int id;
	cli_args_init(&a, argc, argv);
	while ((id = net_next(&a, opts, &val)) != CLI_END) {
		if (id == CLI_BAD)
			return CLI_USAGE;
		if (id == OPT_HELP) {
			cmd_serve_usage(stdout);
			return -1;
		}
		if (parse_one(srv, no, id, val) < 0)
			return CLI_USAGE;
	}
	if (check_link("serve", no, srv->to.kernel) < 0 || tls_opts_check("serve", &srv->to, true) < 0)
		return CLI_USAGE;
	if (srv->mode == M_NONE)
		return cli_error("serve", "give one of --echo, --rr, --discard, --source BYTES, --http DIR");
	if (check_threads(srv, no) < 0)
		return CLI_USAGE;
	srv->verbose = no->verbose;
	return 0;
}

static uint16_t default_port(const struct server *srv)
{
	enum mode m = srv->mode;
	return m == M_ECHO || m == M_RR ? 7 : m == M_DISCARD ? 9 : m == M_SOURCE ? 19 : srv->to.on ? 443 : 80;
}

static int start(struct server *srv)
{
	synack_endpoint local;
	char text[64];
	memset(&local, 0, sizeof local);
	local.port = srv->port ? srv->port : default_port(srv);
	int err = synack_tcp_listen(srv->env.st, &local, srv->backlog, &srv->listener);
	if (err < 0) {
		cli_error("serve", "cannot listen on port %u: %s", local.port, net_err_phrase(err));
		return CLI_FAIL;
	}
	const synack_stack_config *c = &srv->env.cfg;
	const synack_addr *shown = c->addr.family ? &c->addr : &c->addr6;
	if (srv->threads > 1 && srv->thread_index > 0)
		return 0; /* thread 0 speaks for all */
	char th[32] = "";
	if (srv->threads > 1)
		snprintf(th, sizeof th, ", %u threads", srv->threads);
	fprintf(stderr, "synack: serve: listening on %s port %u (%s, mtu %u%s%s)\n",
		synack_addr_format(shown, text, sizeof text), local.port,
		c->link == SYNACK_LINK_ETHERNET ? "tap" : "tun", c->mtu, srv->to.on ? ", TLS" : "", th);
	return 0;
}

static int start_kernel(struct server *srv)
{
	uint16_t port = srv->port ? srv->port : default_port(srv);
	srv->lfd = kernel_listen(port, srv->backlog);
	if (srv->lfd < 0) {
		cli_error("serve", "cannot listen on port %u: %s", port, net_err_phrase(srv->lfd));
		return CLI_FAIL;
	}
	fprintf(stderr, "synack: serve: listening on port %u (kernel sockets%s)\n", port,
		srv->to.on ? ", TLS" : "");
	return 0;
}

static void close_all(struct server *srv)
{
	while (srv->conns) {
		struct sconn *s = srv->conns;
		conn_unlink(srv, s);
		synack_tls_stream_free(s->ts);
		s->ts = NULL;
		if (!s->c)
			kernel_abort(s->sock); /* synack's: the stack, destroyed later, frees them */
		conn_free(s);
	}
}

/* glibc gives the top of the heap back whenever more than 128 KiB of it
 * is free: under load that is every few connections (64 KiB buffer,
 * engine), and the next ones take it back with brk and page faults.
 * idle_trim returns the memory once the server is idle instead. */
static void heap_policy(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 20);
}

static int serve_kernel(struct server *srv)
{
	heap_policy();
	int rc = start_kernel(srv);
	if (!rc)
		rc = run_kernel(srv);
	close_all(srv);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->lfd >= 0)
		close(srv->lfd);
	return rc;
}

static int serve_synack(struct server *srv, struct net_opts *no)
{
	int rc = net_env_open("serve", no, &srv->env);
	if (rc)
		return rc;
	heap_policy();
	rc = start(srv);
	if (!rc)
		rc = run(srv);
	reset_all(srv);
	net_env_trace(&srv->env); /* -v: the resets, before the summary */
	close_all(srv);
	return rc;
}

/* ---- --threads: one queue, loop and stack per thread ---- */

struct worker {
	struct server srv; /* a copy of the parsed one, with its own env */
	pthread_t th;
	char cmd[32]; /* "serve: thread I", the prefix of its messages */
	int rc;
	bool started;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = &w->srv;
	if (srv->pin) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(srv->thread_index, &set);
		int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
		if (err) {
			cli_error(w->cmd, "--pin: cannot pin to CPU %u: %s", srv->thread_index,
				  strerror(err));
			w->rc = CLI_FAIL;
		}
	}
	if (!w->rc)
		w->rc = start(srv);
	if (!w->rc)
		w->rc = run(srv);
	if (w->rc)
		net_stop_all(); /* one thread failed: all end */
	reset_all(srv);
	net_env_trace(&srv->env);
	close_all(srv);
	return NULL;
}

/* --pin: every CPU 0..n-1 must be one this process may run on. */
static int check_pin(unsigned n)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return cli_error("serve", "--pin: cannot read this process's CPUs: %s", strerror(errno)),
		       CLI_FAIL;
	for (unsigned i = 0; i < n; i++)
		if (i >= CPU_SETSIZE || !CPU_ISSET(i, &set))
			return cli_error("serve",
					 "--pin: CPU %u is not available to this process (%d CPUs allowed): "
					 "give fewer --threads or leave --pin out",
					 i, CPU_COUNT(&set)),
			       CLI_FAIL;
	return 0;
}

static void print_thread_summary(const struct worker *w)
{
	const struct server *s = &w->srv;
	fprintf(stderr, "synack: %s: %llu connections, %llu completed, %llu failed\n", w->cmd,
		(unsigned long long)s->accepted, (unsigned long long)s->finished,
		(unsigned long long)s->failed);
}

/* Open the queues and the stacks here, one after the other (their
 * messages in order), run the threads, and wait for them. */
static int start_workers(struct server *srv, const struct net_opts *no, synack_tun *tun, struct worker *w)
{
	int rc = 0;
	for (unsigned i = 0; i < srv->threads && !rc; i++) {
		w[i].srv = *srv;
		w[i].srv.thread_index = i;
		snprintf(w[i].cmd, sizeof w[i].cmd, "serve: thread %u", i);
		rc = net_env_open_queue(w[i].cmd, no, synack_tun_queue(tun, i), i == 0, &w[i].srv.env);
	}
	/* the workers take no signal: SIGINT and the rest reach this thread */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; i < srv->threads && !rc; i++) {
		int err = pthread_create(&w[i].th, NULL, worker_main, &w[i]);
		if (err) {
			cli_error("serve", "cannot start thread %u: %s", i, strerror(err));
			rc = CLI_FAIL;
			net_stop_all();
		}
		w[i].started = !err;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int serve_threads(struct server *srv, struct net_opts *no)
{
	synack_tun *tun = NULL;
	struct worker *w = calloc(srv->threads, sizeof *w);
	if (!w)
		return cli_error("serve", "out of memory"), CLI_FAIL;
	int rc = srv->pin ? check_pin(srv->threads) : 0;
	if (!rc)
		rc = net_tun_open("serve", no, srv->threads, &tun);
	heap_policy();
	srv->stop_ms = STOP_MS;
	if (!rc)
		rc = start_workers(srv, no, tun, w);
	for (unsigned i = 0; i < srv->threads; i++) {
		if (w[i].started)
			pthread_join(w[i].th, NULL);
		if (!rc)
			rc = w[i].rc;
	}
	for (unsigned i = 0; i < srv->threads; i++) {
		struct server *s = &w[i].srv;
		if (!s->env.st)
			continue;
		srv->accepted += s->accepted;
		srv->finished += s->finished;
		srv->failed += s->failed;
		if (srv->verbose || no->counters)
			print_thread_summary(&w[i]);
		net_env_close(&s->env);
	}
	synack_tun_close(tun);
	free(w);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	struct server srv;
	struct net_opts no;
	memset(&srv, 0, sizeof srv);
	memset(&no, 0, sizeof no);
	srv.dirfd = srv.lfd = srv.epfd = -1;
	srv.backlog = 1024;
	srv.to.hs_timeout_s = 10;
	srv.threads = 1;
	srv.stop_ms = -1;
	int rc = parse(argc, argv, &srv, &no);
	if (rc)
		goto out;
	net_catch_signals();
	rc = tls_env_open("serve", &srv.to, true, &srv.tls);
	if (rc)
		goto out;
	(void)pattern(); /* made here, before any thread reads it */
	rc = srv.to.kernel     ? serve_kernel(&srv)
	     : srv.threads > 1 ? serve_threads(&srv, &no)
			       : serve_synack(&srv, &no);
	if (srv.verbose)
		fprintf(
		    stderr,
		    "synack: serve: %llu connections, %llu completed, %llu failed (%llu TLS failures, %llu "
		    "handshake timeouts)\n",
		    (unsigned long long)srv.accepted, (unsigned long long)srv.finished,
		    (unsigned long long)srv.failed, (unsigned long long)srv.tls_failed,
		    (unsigned long long)srv.timeouts);
	if (!srv.to.kernel && srv.env.st)
		net_env_close(&srv.env);
	tls_env_close(&srv.tls);
out:
	if (srv.dirfd >= 0)
		close(srv.dirfd);
	return rc < 0 ? CLI_OK : rc;
}
