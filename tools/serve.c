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
 * --source sends byte i = i % 251 (a prime period, so a misplaced segment
 * shows), which a test can regenerate to check what arrived.
 *
 * --http never serves a file outside DIR: the decoded path must be made of
 * plain names (no "..", no encoded '/', not absolute), and it is opened with
 * openat2(2) RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, which refuses a
 * symbolic link in any component, not only the last as O_NOFOLLOW does
 * (or, on kernels without openat2, one O_NOFOLLOW openat per component). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "netcmd.h"

enum { OPT_HELP = NOPT_FIRST_FREE, OPT_PORT, OPT_ECHO, OPT_DISCARD, OPT_SOURCE, OPT_HTTP, OPT_BACKLOG };
enum mode { M_NONE, M_ECHO, M_DISCARD, M_SOURCE, M_HTTP };
enum { BUF = 65536, REQ_MAX = 8192 };

static const struct cli_opt opts[] = {
    NET_CLI_OPTS,
    {"help", false, OPT_HELP},
    {"port", true, OPT_PORT},
    {"echo", false, OPT_ECHO},
    {"discard", false, OPT_DISCARD},
    {"source", true, OPT_SOURCE},
    {"http", true, OPT_HTTP},
    {"backlog", true, OPT_BACKLOG},
    {NULL, false, 0},
};

struct server {
	struct net_env env;
	enum mode mode;
	uint16_t port;
	uint64_t source_bytes;
	int dirfd;
	int backlog;
	synack_tcp *listener;
	struct sconn *conns;
	uint64_t accepted, finished, failed;
};

struct sconn {
	synack_tcp *c;
	struct sconn *prev, *next; /* the server's open connections */
	uint8_t *buf;
	size_t off, len; /* pending output in buf[off..len) */
	uint64_t left;	 /* --source: bytes still to send; --http: file bytes */
	uint64_t sent;	 /* --source: bytes sent so far */
	int fd;		 /* --http: the file, or -1 */
	size_t req_len;	 /* --http: request bytes in buf while reading it */
	bool eof;	 /* peer's FIN read */
	bool wr_done;	 /* our FIN queued */
	bool responding; /* --http: request parsed */
};

void cmd_serve_usage(FILE *out)
{
	fprintf(out,
		"usage: synack serve (--tun|--tap) DEV --addr ADDR/PREFIX [--host-addr ADDR/PREFIX]\n"
		"                    [--port P] (--echo|--discard|--source BYTES|--http DIR)\n\n"
		"Serve TCP on synack's own address, many connections on one event loop.\n\n" NET_USAGE_OPTS
		"  --port P             port to listen on (default: 7 echo, 9 discard, 19 source, 80 http)\n"
		"  --echo               send back what is received\n"
		"  --discard            read and drop what is received\n"
		"  --source BYTES       send BYTES bytes (byte i is i %% 251) to each client, then close\n"
		"  --http DIR           a small HTTP/1.0 and 1.1 server for the files under DIR (GET, HEAD;\n"
		"                       no symbolic link is followed, nothing outside DIR is served)\n"
		"  --backlog N          pending connections kept for accept (default 1024)\n"
		"  -h, --help           show this help\n\n"
		"Runs until interrupted (Ctrl-C), which resets the connections still open.\n"
		"Example, after `ip tuntap add dev synack0 mode tun user $USER`,\n"
		"`ip addr add 10.1.0.1/24 dev synack0` and `ip link set synack0 up`:\n"
		"  synack serve --tun synack0 --addr 10.1.0.2/24 --echo   # then: ncat 10.1.0.2 7\n");
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

static void conn_free(struct sconn *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}

static void conn_end(struct server *srv, struct sconn *s, bool ok)
{
	if (ok) {
		synack_tcp_close(s->c);
		srv->finished++;
	} else {
		synack_tcp_abort(s->c);
		srv->failed++;
	}
	conn_unlink(srv, s);
	conn_free(s);
}

/* Send buf[off..len); false on a connection error. */
static bool flush(struct sconn *s)
{
	while (s->off < s->len) {
		ssize_t n = synack_tcp_send(s->c, s->buf + s->off, s->len - s->off);
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
		ssize_t n = synack_tcp_recv(s->c, junk, sizeof junk);
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
		synack_tcp_shutdown(s->c, SYNACK_SHUT_WR);
		s->wr_done = true;
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
		ssize_t n = synack_tcp_recv(s->c, s->buf, BUF);
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

static bool serve_discard(struct sconn *s)
{
	if (!drain(s))
		return false;
	if (s->eof)
		finish_write(s);
	return true;
}

static bool fill_pattern(struct sconn *s)
{
	size_t n = s->left < BUF ? (size_t)s->left : BUF;
	for (size_t i = 0; i < n; i++)
		s->buf[i] = (uint8_t)((s->sent + i) % 251);
	s->off = 0;
	s->len = n;
	s->left -= n;
	s->sent += n;
	return true;
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
	return pump(s, fill_pattern);
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
	s->fd = fd;
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
		ssize_t n = synack_tcp_recv(s->c, s->buf + s->req_len, REQ_MAX - 1 - s->req_len);
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
	ssize_t n = read(s->fd, s->buf, want);
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

/* ---- the server ---- */

static void service(struct server *srv, struct sconn *s, uint32_t ev)
{
	bool ok;
	if (ev & (SYNACK_EV_RESET | SYNACK_EV_ERROR)) {
		if (srv->env.verbose)
			fprintf(stderr, "synack: serve: connection failed: %s\n",
				net_err_phrase(synack_tcp_error(s->c)));
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
	default:
		ok = serve_http(srv, s);
		break;
	}
	if (!ok)
		conn_end(srv, s, false);
	else if (s->wr_done && s->eof)
		conn_end(srv, s, true);
	else if (ev & SYNACK_EV_CLOSED)
		conn_end(srv, s, false);
}

static void accept_all(struct server *srv)
{
	synack_tcp *c;
	while (synack_tcp_accept(srv->listener, &c) == 0) {
		struct sconn *s = calloc(1, sizeof *s);
		if (s)
			s->buf = malloc(BUF);
		if (!s || !s->buf) {
			free(s);
			synack_tcp_abort(c);
			continue;
		}
		s->c = c;
		s->fd = -1;
		s->left = srv->mode == M_SOURCE ? srv->source_bytes : 0;
		synack_tcp_set_userdata(c, s);
		conn_link(srv, s);
		srv->accepted++;
		if (srv->env.verbose) {
			synack_endpoint peer;
			char text[64];
			synack_tcp_endpoints(c, NULL, &peer);
			fprintf(stderr, "synack: serve: connection from %s port %u\n",
				synack_addr_format(&peer.addr, text, sizeof text), peer.port);
		}
		service(srv, s, 0);
	}
}

static int run(struct server *srv)
{
	int ready[4];
	while (!net_stop) {
		uint32_t ev;
		synack_tcp *c;
		while ((c = synack_stack_next_event(srv->env.st, &ev))) {
			if (c == srv->listener)
				accept_all(srv);
			else if (synack_tcp_userdata(c))
				service(srv, synack_tcp_userdata(c), ev);
		}
		if (net_env_run(&srv->env, -1, ready, 4) < 0)
			return CLI_FAIL;
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
		return net_opt("serve", no, id, val) < 0 ? CLI_BAD : 0;
	}
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
	if (net_opts_check("serve", no) < 0)
		return CLI_USAGE;
	if (srv->mode == M_NONE)
		return cli_error("serve", "give one of --echo, --discard, --source BYTES, --http DIR");
	return 0;
}

static uint16_t default_port(enum mode m)
{
	return m == M_ECHO ? 7 : m == M_DISCARD ? 9 : m == M_SOURCE ? 19 : 80;
}

static int start(struct server *srv)
{
	synack_endpoint local;
	char text[64];
	memset(&local, 0, sizeof local);
	local.port = srv->port ? srv->port : default_port(srv->mode);
	int err = synack_tcp_listen(srv->env.st, &local, srv->backlog, &srv->listener);
	if (err < 0) {
		cli_error("serve", "cannot listen on port %u: %s", local.port, net_err_phrase(err));
		return CLI_FAIL;
	}
	const synack_stack_config *c = &srv->env.cfg;
	const synack_addr *shown = c->addr.family ? &c->addr : &c->addr6;
	fprintf(stderr, "synack: serve: listening on %s port %u (%s, mtu %u)\n",
		synack_addr_format(shown, text, sizeof text), local.port,
		c->link == SYNACK_LINK_ETHERNET ? "tap" : "tun", c->mtu);
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct server srv;
	struct net_opts no;
	memset(&srv, 0, sizeof srv);
	memset(&no, 0, sizeof no);
	srv.dirfd = -1;
	srv.backlog = 1024;
	int rc = parse(argc, argv, &srv, &no);
	if (rc)
		goto out;
	net_catch_signals();
	rc = net_env_open("serve", &no, &srv.env);
	if (rc)
		goto out;
	rc = start(&srv);
	if (!rc)
		rc = run(&srv);
	if (srv.env.st)
		reset_all(&srv);
	net_env_trace(&srv.env); /* -v: the resets, before the summary */
	while (srv.conns) {
		struct sconn *s = srv.conns;
		conn_unlink(&srv, s);
		conn_free(s); /* the stack, destroyed below, frees the connections */
	}
	if (srv.env.verbose)
		fprintf(stderr, "synack: serve: %llu connections, %llu completed, %llu failed\n",
			(unsigned long long)srv.accepted, (unsigned long long)srv.finished,
			(unsigned long long)srv.failed);
	net_env_close(&srv.env);
out:
	if (srv.dirfd >= 0)
		close(srv.dirfd);
	return rc < 0 ? CLI_OK : rc;
}
