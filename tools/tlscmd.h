/* Shared by serve and connect: the TLS options (--tls, --cert, --ca ...),
 * the engine's configuration built from them with one-line errors, the
 * key log file, and --kernel: the OS's TCP sockets in place of synack's
 * stack (the TLS engine alone). Everything TLS goes through the public
 * headers synack/tls.h and synack/tls_stream.h. */
#ifndef SYNACK_TOOLS_TLSCMD_H
#define SYNACK_TOOLS_TLSCMD_H

#include <stdbool.h>
#include <stdio.h>

#include "synack/tls.h"
#include "synack/tls_stream.h"
#include "cli.h"

/* Option ids 40..59 (netcmd uses 1..9, the commands 10..39). */
enum {
	TOPT_TLS = 40,
	TOPT_CERT,
	TOPT_KEY,
	TOPT_CA,
	TOPT_CAPATH,
	TOPT_SNI,
	TOPT_ALPN,
	TOPT_CLIENT_CA,
	TOPT_INSECURE,
	TOPT_KEYLOG,
	TOPT_KERNEL,
	TOPT_HS_TIMEOUT,
	TOPT_TLS12,
	TOPT_TLS13,
};

/* clang-format off */
#define TLS_CLI_OPTS \
	{"tls", false, TOPT_TLS}, {"cert", true, TOPT_CERT}, {"key", true, TOPT_KEY}, \
	{"ca", true, TOPT_CA}, {"capath", true, TOPT_CAPATH}, {"sni", true, TOPT_SNI}, \
	{"alpn", true, TOPT_ALPN}, {"client-ca", true, TOPT_CLIENT_CA}, \
	{"insecure-no-verify", false, TOPT_INSECURE}, {"keylog", true, TOPT_KEYLOG}, \
	{"kernel", false, TOPT_KERNEL}, {"handshake-timeout", true, TOPT_HS_TIMEOUT}, \
	{"tls12", false, TOPT_TLS12}, {"tls13", false, TOPT_TLS13}
/* clang-format on */

#define TLS_USAGE_KERNEL                                                                                     \
	"  --kernel             use the OS's TCP sockets instead of synack's stack (no device,\n"            \
	"                       no --tun/--tap/--addr; the TLS engine alone)\n"

#define TLS_USAGE_SERVER                                                                                     \
	"  --tls                TLS on every connection (synack's engine; 1.3 or 1.2, the highest\n"         \
	"                       the client supports); needs --cert, --key\n"                                 \
	"  --cert FILE          our certificate chain (PEM, leaf first)\n"                                   \
	"  --key FILE           its private key (PEM)\n"                                                     \
	"  --alpn LIST          application protocols we accept, comma separated (h2,http/1.1)\n"            \
	"  --client-ca FILE     ask for a client certificate, required and verified against FILE\n"          \
	"  --keylog FILE        append the connections' secrets to FILE (NSS key log format)\n"              \
	"  --handshake-timeout S  drop a connection whose TLS handshake is not done after S\n"               \
	"                       seconds (default 10)\n"                                                      \
	"  --tls12, --tls13     pin the TLS version (default: either). TLS 1.2 is the full ECDHE\n"          \
	"                       handshake with extended master secret, tickets and session IDs\n"

#define TLS_USAGE_CLIENT                                                                                     \
	"  --tls                TLS over the connection (synack's engine: offers 1.3 and 1.2);\n"            \
	"                       the server's certificate is verified (default trust: the\n"                  \
	"                       system's store)\n"                                                           \
	"  --ca FILE            trust the CA certificates in FILE (PEM) instead\n"                           \
	"  --capath DIR         trust the CA certificates in DIR (hashed names, c_rehash) instead\n"         \
	"  --sni NAME           server name sent and checked (default: HOST)\n"                              \
	"  --alpn LIST          application protocols to offer, comma separated (h2,http/1.1)\n"             \
	"  --cert FILE, --key FILE  a client certificate and key, if the server asks\n"                      \
	"  --insecure-no-verify do NOT verify the server: anyone on the path can read and change\n"          \
	"                       the traffic\n"                                                               \
	"  --keylog FILE        append the connection's secrets to FILE (NSS key log format)\n"              \
	"  --tls12, --tls13     offer only that TLS version (default: both, 1.3 preferred)\n"

struct tls_opts {
	bool on, kernel, insecure;
	const char *cert, *key, *ca, *capath, *sni, *alpn, *client_ca, *keylog;
	uint64_t hs_timeout_s;
	uint16_t version; /* --tls12 / --tls13: pinned; 0: the default */
};

/* Apply a TLS or --kernel option: 1 if `id` was one, 0 if not, CLI_BAD
 * after a message. */
int tls_opt(const char *cmd, struct tls_opts *o, int id, const char *val);
/* After parsing: options that need --tls have it, a server has --cert and
 * --key, --ca and --capath are not both given ... 0 or CLI_BAD. */
int tls_opts_check(const char *cmd, const struct tls_opts *o, bool server);

/* What a command needs to run TLS connections. */
struct tls_env {
	synack_tls_config *cfg;
	FILE *keylog;
	const char *cmd;
};
/* Build the configuration (one line and CLI_FAIL on a bad file, a key
 * that does not match its certificate ...). Nothing to do without --tls. */
int tls_env_open(const char *cmd, const struct tls_opts *o, bool server, struct tls_env *e);
void tls_env_close(struct tls_env *e);
/* Append t's key-log lines to the --keylog file. */
void tls_env_keylog(struct tls_env *e, synack_tls *t);
/* -v: every TLS message t sent or received since the last call, a line
 * each on stderr ("synack: CMD: WHO TLS > ClientHello ... (in the clear)");
 * t must have tracing on (synack_tls_trace_enable). who may be "". */
void tls_env_trace(const struct tls_env *e, synack_tls *t, const char *who);
/* "sent unknown_ca: <detail>" for a TLS error (or the errno text). */
const char *tls_err_text(synack_tls *t, int err, char *buf, size_t cap);
/* "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519 ..." once the handshake is done. */
const char *tls_summary(synack_tls *t, char *buf, size_t cap);

/* --kernel: a listening socket on every address (IPv6 and IPv4) of port,
 * non-blocking; or -errno. */
int kernel_listen(uint16_t port, int backlog);
/* --kernel: a connected non-blocking socket to host (a name or literal)
 * port within timeout_ms, or a negative errno (-ETIMEDOUT, -ECONNREFUSED,
 * -EHOSTUNREACH; -ENOENT when the name does not resolve). */
int kernel_connect(const char *host, uint16_t port, int timeout_ms);
/* Close a kernel socket with a RST (SO_LINGER 0). */
void kernel_abort(int fd);

#endif
