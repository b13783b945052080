/* Shared between the files of src/crypto/ only: the concrete key and store
 * structs behind crypto.h's opaque types. Includes OpenSSL headers, so it
 * must never be included from outside src/crypto/ (DESIGN.md principle 5). */
#ifndef SYNACK_CRYPTO_INTERNAL_H
#define SYNACK_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

struct crypto_pkey {
	EVP_PKEY *pkey;
	int type;  /* EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_ED25519 ... */
	int curve; /* NID of the EC curve, else 0 */
	int bytes; /* RSA modulus length in bytes, else 0 */
};

struct crypto_store {
	X509_STORE *st;
};

/* Wraps p (taking ownership, also on failure); NULL when p is NULL or on
 * allocation failure. */
struct crypto_pkey *crypto_pkey_wrap(EVP_PKEY *p);
/* Copies at most cap - 1 bytes of msg, then the first libcrypto error of
 * the thread's queue, into why; clears the queue. why may be NULL. */
void crypto_set_why(char *why, size_t cap, const char *msg);

/* The table's X.509 entries (x509.c); see crypto.h. */
struct crypto_pkey *crypto_x509_pubkey(const uint8_t *der, size_t len);
int crypto_x509_subject(const uint8_t *der, size_t len, char *out, size_t cap);
int crypto_x509_verify(const struct crypto_store *store, const uint8_t *const *chain, const size_t *lens,
		       size_t n, const char *name, int64_t unix_time, bool server_auth, char *why,
		       size_t why_cap);

#endif
