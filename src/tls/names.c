/* Names of alerts (RFC 8446 §6), cipher suites (§B.4), groups (§4.2.7),
 * signature schemes (§4.2.3), and the error strings of tls.h. */
#include <errno.h>
#include <string.h>

#include "tls/hs12.h"
#include "tls/tls_internal.h"

struct code_name {
	uint16_t code;
	const char *name;
};

static const char *lookup(const struct code_name *t, size_t n, unsigned code, const char *none)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return none;
}

struct alert_name {
	uint8_t code;
	const char *name, *sent, *received;
};
#define A(c, n)                                                                                              \
	{                                                                                                    \
		SYNACK_TLS_ALERT_##c, n, "sent " n, "received " n                                            \
	}
static const struct alert_name alerts[] = {
    A(CLOSE_NOTIFY, "close_notify"),
    A(UNEXPECTED_MESSAGE, "unexpected_message"),
    A(BAD_RECORD_MAC, "bad_record_mac"),
    A(RECORD_OVERFLOW, "record_overflow"),
    A(HANDSHAKE_FAILURE, "handshake_failure"),
    A(BAD_CERTIFICATE, "bad_certificate"),
    A(UNSUPPORTED_CERTIFICATE, "unsupported_certificate"),
    A(CERTIFICATE_REVOKED, "certificate_revoked"),
    A(CERTIFICATE_EXPIRED, "certificate_expired"),
    A(CERTIFICATE_UNKNOWN, "certificate_unknown"),
    A(ILLEGAL_PARAMETER, "illegal_parameter"),
    A(UNKNOWN_CA, "unknown_ca"),
    A(ACCESS_DENIED, "access_denied"),
    A(DECODE_ERROR, "decode_error"),
    A(DECRYPT_ERROR, "decrypt_error"),
    A(PROTOCOL_VERSION, "protocol_version"),
    A(INSUFFICIENT_SECURITY, "insufficient_security"),
    A(INTERNAL_ERROR, "internal_error"),
    A(INAPPROPRIATE_FALLBACK, "inappropriate_fallback"),
    A(USER_CANCELED, "user_canceled"),
    A(MISSING_EXTENSION, "missing_extension"),
    A(UNSUPPORTED_EXTENSION, "unsupported_extension"),
    A(UNRECOGNIZED_NAME, "unrecognized_name"),
    A(BAD_CERTIFICATE_STATUS_RESPONSE, "bad_certificate_status_response"),
    A(UNKNOWN_PSK_IDENTITY, "unknown_psk_identity"),
    A(CERTIFICATE_REQUIRED, "certificate_required"),
    A(NO_APPLICATION_PROTOCOL, "no_application_protocol"),
    {0xff, "unknown_alert", "sent unknown_alert", "received unknown_alert"},
};
#undef A

static const struct alert_name *alert_find(int alert)
{
	size_t i = 0;
	while (i + 1 < ARRAY_LEN(alerts) && alerts[i].code != alert)
		i++;
	return &alerts[i];
}

const char *synack_tls_alert_name(int alert)
{
	return alert_find(alert)->name;
}

static const struct tls_suite suites[] = {
    {SYNACK_TLS_AES_128_GCM_SHA256, CRYPTO_AES_128_GCM, CRYPTO_SHA256, "TLS_AES_128_GCM_SHA256"},
    {SYNACK_TLS_AES_256_GCM_SHA384, CRYPTO_AES_256_GCM, CRYPTO_SHA384, "TLS_AES_256_GCM_SHA384"},
    {SYNACK_TLS_CHACHA20_POLY1305_SHA256, CRYPTO_CHACHA20_POLY1305, CRYPTO_SHA256,
     "TLS_CHACHA20_POLY1305_SHA256"},
};

const struct tls_suite *tls_suite_find(uint16_t id)
{
	for (size_t i = 0; i < ARRAY_LEN(suites); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

const char *synack_tls_suite_name(uint16_t suite)
{
	const struct tls_suite *s = tls_suite_find(suite);
	if (s)
		return s->name;
	const struct hs12_suite *s12 = hs12_suite_find(suite); /* TLS 1.2 (hs12_msgs.c) */
	if (s12)
		return s12->name;
	if (suite == SYNACK_TLS_VERSION_13)
		return "TLSv1.3";
	return suite == SYNACK_TLS_VERSION_12 ? "TLSv1.2" : "unknown";
}

static const struct code_name groups[] = {
    {SYNACK_TLS_GROUP_SECP256R1, "secp256r1"},
    {SYNACK_TLS_GROUP_SECP384R1, "secp384r1"},
    {SYNACK_TLS_GROUP_X25519, "x25519"},
};

const char *synack_tls_group_name(uint16_t group)
{
	return lookup(groups, ARRAY_LEN(groups), group, "unknown");
}

static const struct code_name schemes[] = {
    {CRYPTO_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256"},
    {CRYPTO_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384"},
    {CRYPTO_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512"},
    {CRYPTO_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256"},
    {CRYPTO_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384"},
    {CRYPTO_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256"},
    {CRYPTO_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384"},
    {CRYPTO_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512"},
    {CRYPTO_ED25519, "ed25519"},
};

const char *synack_tls_sigscheme_name(uint16_t scheme)
{
	return lookup(schemes, ARRAY_LEN(schemes), scheme, "unknown");
}

bool tls_sigscheme_known(uint16_t scheme)
{
	return lookup(schemes, ARRAY_LEN(schemes), scheme, NULL) != NULL;
}

bool tls_group_known(uint16_t group)
{
	return lookup(groups, ARRAY_LEN(groups), group, NULL) != NULL;
}

int synack_tls_err_alert(int err)
{
	if (err <= -SYNACK_TLS_ERR_SENT_BASE && err > -(SYNACK_TLS_ERR_SENT_BASE + 256))
		return -err - SYNACK_TLS_ERR_SENT_BASE;
	if (err <= -SYNACK_TLS_ERR_RECEIVED_BASE && err > -(SYNACK_TLS_ERR_RECEIVED_BASE + 256))
		return -err - SYNACK_TLS_ERR_RECEIVED_BASE;
	return -1;
}

/* "sent handshake_failure", "received bad_certificate", or strerror(-err). */
const char *synack_tls_strerror(int err)
{
	int a = synack_tls_err_alert(err);
	if (a < 0)
		return err ? strerror(-err) : "success";
	const struct alert_name *n = alert_find(a);
	return err > -SYNACK_TLS_ERR_RECEIVED_BASE ? n->sent : n->received;
}
