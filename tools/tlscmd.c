/* TLS options, configuration, key log and kernel sockets shared by serve
 * and connect (tools/tlscmd.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tlscmd.h"

static int set_once(const char *cmd, const char *opt, const char **slot, const char *val)
{
	if (*slot)
		return cli_error(cmd, "--%s given twice", opt), CLI_BAD;
	if (!val[0])
		return cli_error(cmd, "--%s: empty value", opt), CLI_BAD;
	*slot = val;
	return 1;
}

int tls_opt(const char *cmd, struct tls_opts *o, int id, const char *val)
{
	switch (id) {
	case TOPT_TLS:
		o->on = true;
		return 1;
	case TOPT_KERNEL:
		o->kernel = true;
		return 1;
	case TOPT_INSECURE:
		o->insecure = true;
		return 1;
	case TOPT_CERT:
		return set_once(cmd, "cert", &o->cert, val);
	case TOPT_KEY:
		return set_once(cmd, "key", &o->key, val);
	case TOPT_CA:
		return set_once(cmd, "ca", &o->ca, val);
	case TOPT_CAPATH:
		return set_once(cmd, "capath", &o->capath, val);
	case TOPT_SNI:
		return set_once(cmd, "sni", &o->sni, val);
	case TOPT_ALPN:
		return set_once(cmd, "alpn", &o->alpn, val);
	case TOPT_CLIENT_CA:
		return set_once(cmd, "client-ca", &o->client_ca, val);
	case TOPT_KEYLOG:
		return set_once(cmd, "keylog", &o->keylog, val);
	case TOPT_TLS12:
	case TOPT_TLS13:
		if (o->version)
			return cli_error(cmd, "give one of --tls12 and --tls13"), CLI_BAD;
		o->version = id == TOPT_TLS12 ? SYNACK_TLS_VERSION_12 : SYNACK_TLS_VERSION_13;
		return 1;
	case TOPT_HS_TIMEOUT:
		return cli_parse_u64(cmd, "handshake-timeout", val, 1, 3600, &o->hs_timeout_s) < 0 ? CLI_BAD
												   : 1;
	default:
		return 0;
	}
}

int tls_opts_check(const char *cmd, const struct tls_opts *o, bool server)
{
	const char *need = o->cert	  ? "--cert"
			   : o->key	  ? "--key"
			   : o->ca	  ? "--ca"
			   : o->capath	  ? "--capath"
			   : o->sni	  ? "--sni"
			   : o->alpn	  ? "--alpn"
			   : o->client_ca ? "--client-ca"
			   : o->insecure  ? "--insecure-no-verify"
			   : o->keylog	  ? "--keylog"
			   : o->version	  ? (o->version == SYNACK_TLS_VERSION_12 ? "--tls12" : "--tls13")
					  : NULL;
	if (!o->on && need)
		return cli_error(cmd, "%s needs --tls", need), CLI_BAD;
	if (!o->on)
		return 0;
	if (server && (!o->cert || !o->key))
		return cli_error(cmd, "--tls needs --cert FILE and --key FILE (the server's certificate)"),
		       CLI_BAD;
	if (!!o->cert != !!o->key)
		return cli_error(cmd, "give --cert and --key together"), CLI_BAD;
	if (server && (o->ca || o->capath || o->sni || o->insecure))
		return cli_error(cmd, "%s is a client option (a server verifies clients with --client-ca)",
				 o->ca	     ? "--ca"
				 : o->capath ? "--capath"
				 : o->sni    ? "--sni"
					     : "--insecure-no-verify"),
		       CLI_BAD;
	if (!server && o->client_ca)
		return cli_error(cmd, "--client-ca is a server option (a client trusts --ca or --capath)"),
		       CLI_BAD;
	if (o->ca && o->capath)
		return cli_error(cmd, "give --ca or --capath, not both"), CLI_BAD;
	if (o->insecure && (o->ca || o->capath))
		return cli_error(cmd, "--insecure-no-verify verifies nothing: leave out --ca/--capath"),
		       CLI_BAD;
	return 0;
}

/* ---- the configuration ---- */

static int config_fail(struct tls_env *e, const char *what, const char *file)
{
	cli_error(e->cmd, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		  synack_tls_config_error(e->cfg)[0] ? synack_tls_config_error(e->cfg) : "refused");
	return CLI_FAIL;
}

static int configure_client(struct tls_env *e, const struct tls_opts *o)
{
	if (o->insecure)
		synack_tls_config_INSECURE_no_verify(e->cfg);
	else if (o->ca && synack_tls_config_load_ca_file(e->cfg, o->ca) < 0)
		return config_fail(e, "--ca", o->ca);
	else if (o->capath && synack_tls_config_load_ca_dir(e->cfg, o->capath) < 0)
		return config_fail(e, "--capath", o->capath);
	else if (!o->ca && !o->capath && synack_tls_config_use_system_ca(e->cfg) < 0)
		return config_fail(e, "the system's trust store", NULL);
	return 0;
}

static int configure(struct tls_env *e, const struct tls_opts *o, bool server)
{
	if (o->cert && synack_tls_config_load_cert(e->cfg, o->cert, o->key) < 0)
		return config_fail(e, "--cert/--key", NULL);
	/* one event loop: the TLS 1.2 session-ID cache needs no lock here */
	if (server && synack_tls_config_set_session_cache(e->cfg, 1024) < 0)
		return config_fail(e, "session cache", NULL);
	if (server && o->client_ca) {
		if (synack_tls_config_load_ca_file(e->cfg, o->client_ca) < 0)
			return config_fail(e, "--client-ca", o->client_ca);
		synack_tls_config_request_client_cert(e->cfg, true);
	}
	if (!server && configure_client(e, o))
		return CLI_FAIL;
	if (o->version && synack_tls_config_set_versions(e->cfg, o->version, o->version) < 0)
		return config_fail(e, o->version == SYNACK_TLS_VERSION_12 ? "--tls12" : "--tls13", NULL);
	if (o->alpn && synack_tls_config_set_alpn(e->cfg, o->alpn) < 0)
		return config_fail(e, "--alpn", o->alpn);
	if (o->keylog) {
		synack_tls_config_set_keylog(e->cfg, true);
		e->keylog = fopen(o->keylog, "a");
		if (!e->keylog)
			return cli_error(e->cmd, "--keylog: cannot open '%s': %s", o->keylog,
					 strerror(errno)),
			       CLI_FAIL;
	}
	return 0;
}

int tls_env_open(const char *cmd, const struct tls_opts *o, bool server, struct tls_env *e)
{
	memset(e, 0, sizeof *e);
	e->cmd = cmd;
	if (!o->on)
		return 0;
	e->cfg = synack_tls_config_new(server ? SYNACK_TLS_SERVER : SYNACK_TLS_CLIENT);
	if (!e->cfg)
		return cli_error(cmd, "out of memory"), CLI_FAIL;
	int rc = configure(e, o, server);
	if (rc)
		tls_env_close(e);
	return rc;
}

void tls_env_close(struct tls_env *e)
{
	if (e->keylog)
		fclose(e->keylog);
	synack_tls_config_free(e->cfg);
	memset(e, 0, sizeof *e);
}

void tls_env_keylog(struct tls_env *e, synack_tls *t)
{
	char buf[2048];
	size_t n;
	if (!e->keylog || !t)
		return;
	bool any = false;
	while ((n = synack_tls_keylog(t, buf, sizeof buf)) > 0) {
		fwrite(buf, 1, n, e->keylog);
		any = true;
	}
	if (any)
		fflush(e->keylog);
}

static const char *keys_name(uint8_t keys)
{
	switch (keys) {
	case SYNACK_TLS_KEYS_PLAINTEXT:
		return "in the clear";
	case SYNACK_TLS_KEYS_EARLY:
		return "early keys";
	case SYNACK_TLS_KEYS_HANDSHAKE:
		return "handshake keys";
	default:
		return "application keys";
	}
}

void tls_env_trace(const struct tls_env *e, synack_tls *t, const char *who)
{
	synack_tls_trace_entry te[16];
	size_t n;
	while (t && (n = synack_tls_trace(t, te, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (!te[i].content) /* a key change: "write keys: handshake (...)" */
				fprintf(stderr, "synack: %s: %sTLS   %s\n", e->cmd, who, te[i].text);
			else
				fprintf(stderr, "synack: %s: %sTLS %s %s (%s)\n", e->cmd, who,
					te[i].sent ? ">" : "<", te[i].text, keys_name(te[i].keys));
		}
	}
}

const char *tls_err_text(synack_tls *t, int err, char *buf, size_t cap)
{
	const char *detail = t && synack_tls_err_alert(err) >= 0 ? synack_tls_error_detail(t) : NULL;
	if (err == -EPIPE)
		snprintf(buf, cap, "the peer closed the connection without close_notify");
	else if (detail && detail[0])
		snprintf(buf, cap, "%s: %s", synack_tls_strerror(err), detail);
	else
		snprintf(buf, cap, "%s", synack_tls_strerror(err));
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

const char *tls_summary(synack_tls *t, char *buf, size_t cap)
{
	synack_tls_info in;
	memset(&in, 0, sizeof in);
	synack_tls_get_info(t, &in);
	snprintf(buf, cap, "%s %s %s%s%s%s%s%s",
		 in.version == SYNACK_TLS_VERSION_13   ? "TLSv1.3"
		 : in.version == SYNACK_TLS_VERSION_12 ? "TLSv1.2"
						       : "TLS",
		 synack_tls_suite_name(in.suite), in.group ? synack_tls_group_name(in.group) : "psk",
		 in.hrr ? " (HelloRetryRequest)" : "", in.resumed ? " resumed" : "",
		 in.peer_verified ? ", peer verified" : ", peer not verified", in.alpn[0] ? ", ALPN " : "",
		 in.alpn);
	if (in.peer_subject[0]) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, ", subject %s", in.peer_subject);
	}
	return buf;
}

/* ---- kernel sockets ---- */

int kernel_listen(uint16_t port, int backlog)
{
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a6 = {
		    .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, backlog) == 0)
			return fd;
		close(fd);
	}
	/* no IPv6: IPv4 only */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a4, sizeof a4) < 0 || listen(fd, backlog) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One address: a connected non-blocking socket or -errno. */
static int try_connect(const struct addrinfo *ai, int64_t end)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : -errno;
	while (err == -EINPROGRESS || err == -EINTR) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int64_t left = end - now_ms();
		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (n > 0) {
			int so = 0;
			socklen_t len = sizeof so;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
			err = -so;
		}
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int kernel_connect(const char *host, uint16_t port, int timeout_ms)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res, *ai;
	char serv[8];
	snprintf(serv, sizeof serv, "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0)
		return -ENOENT;
	int64_t end = now_ms() + timeout_ms;
	int fd = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = try_connect(ai, end);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

void kernel_abort(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}
