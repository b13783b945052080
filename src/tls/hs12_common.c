/* What the TLS 1.2 client and server handshakes (client12.c, server12.c)
 * share: sending a message built in a bbuf, the Finished messages and the
 * ChangeCipherSpec that precedes ours (RFC 5246 §7.1, §7.4.9).
 *
 * Implementation notes
 *
 * The role decides everything that differs: our write keys are the
 * client's or the server's half of the key block, our Finished uses the
 * "client finished" or "server finished" label and the peer's the other.
 * verify_data covers every handshake message before the Finished (the
 * caller adds each message to the transcript where §7.4.9 puts it; the
 * received Finished is added here, after it verified). */
#include "tls/hs.h"
#include "tls/hs12.h"

#include <errno.h>

int hs12_send_msg(struct synack_tls *t, struct bbuf *b, const char *what)
{
	if (!bbuf_ok(b))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "%s does not fit", what);
	return hs_send(t, b->p, b->len);
}

/* §7.4.9: verify_data over every handshake message so far. */
static int finished_data(struct synack_tls *t, bool from_client, uint8_t out[TLS12_VERIFY_LEN])
{
	uint8_t th[CRYPTO_HASH_MAX];
	if (tls_transcript_hash(t, th) ||
	    tls12_verify_data(t->crypto, t->hs->suite12->hash, t->hs->master12, from_client, th, out))
		return tls_fail(t, SYNACK_TLS_ALERT_INTERNAL_ERROR, "Finished");
	return 0;
}

int hs12_send_finished(struct synack_tls *t)
{
	struct tls_hs *hs = t->hs;
	bool client = t->role == SYNACK_TLS_CLIENT;
	uint8_t vd[TLS12_VERIFY_LEN], buf[4 + TLS12_VERIFY_LEN];
	struct bbuf b = bbuf_make(buf, sizeof buf);
	int err = finished_data(t, client, vd);
	if (err || (err = tls_send_ccs(t)) ||
	    (err = tls12_set_keys(t, TLS_WRITE, hs->suite12->aead,
				  client ? hs->kb12.client_key : hs->kb12.server_key,
				  client ? hs->kb12.client_iv : hs->kb12.server_iv)))
		return err;
	bbuf_u8(&b, TLS_HS_FINISHED);
	size_t m = bbuf_vec_open(&b, 3);
	hs12_finished_build(&b, vd);
	bbuf_vec_close(&b, m, 3);
	if ((err = hs12_send_msg(t, &b, "Finished")))
		return err;
	HS_TRACE_OUT(t, b.p, b.len, "Finished");
	return 0;
}

int hs12_recv_finished(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	bool from_client = t->role == SYNACK_TLS_SERVER;
	uint8_t want[TLS12_VERIFY_LEN];
	int err = finished_data(t, from_client, want);
	if (err)
		return err;
	HS_TRACE_IN(t, msg, len, epoch, "Finished");
	int r = hs12_finished_verify(msg + 4, len - 4, want);
	if (r)
		return r == -EBADMSG
			   ? hs_decode_error(t, "Finished")
			   : tls_fail(t, SYNACK_TLS_ALERT_DECRYPT_ERROR, "%s Finished does not verify",
				      from_client ? "client" : "server");
	return hs_transcript(t, msg, len);
}
