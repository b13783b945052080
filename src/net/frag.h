/* src/net/frag.h: IPv4 and IPv6 fragment reassembly (RFC 791 section 3.2,
 * RFC 1122 section 3.3.2, RFC 8200 section 4.5, RFC 5722).
 *
 * A sans-I/O table independent of the stack object, so it can be tested
 * alone: time comes in as `now`, memory through the counted allocator, and
 * every discarded fragment is counted in exactly one SYNACK_DROP_* counter.
 *
 * Who counts what:
 *   - the fragment just offered to frag_input(): when it is refused, the
 *     return value is its SYNACK_DROP_* id and the CALLER counts it
 *     (stack_drop(), which also traces it);
 *   - fragments queued earlier and discarded later (timeout, eviction,
 *     whole-datagram discard after an overlap): the TABLE counts them in the
 *     counters array given at creation, one per fragment;
 *   - SYNACK_CNT_FRAG_REASSEMBLED (one per datagram completed): the table.
 *
 * Rules enforced here:
 *   - overlapping fragments discard the whole datagram (RFC 5722 section 4,
 *     RFC 8200 section 4.5); IPv4 does the same. An exact duplicate (same
 *     offset, length and bytes) is dropped alone and the datagram kept;
 *   - a fragment with the more-fragments flag whose length is zero or not a
 *     multiple of 8 is dropped (RFC 8200 section 4.5: the caller may send
 *     an ICMPv6 Parameter Problem, code 0, pointing at Payload Length);
 *   - a fragment ending beyond in->max_end (65,535 minus the headers that
 *     stay) is dropped (RFC 791 Total Length; RFC 8200 section 4.5: ICMPv6
 *     Parameter Problem pointing at the Fragment Offset is the caller's);
 *   - data beyond the end given by the last fragment, or two different
 *     last fragments, discard the whole datagram;
 *   - reassembly is abandoned a fixed time after the FIRST-arriving
 *     fragment (RFC 1122 3.3.2: fixed, not from TTL; RFC 8200: 60 s);
 *   - bounded memory: at most lim->max_datagrams in progress and
 *     lim->max_bytes allocated; the oldest datagram is evicted to make room;
 *     at most lim->max_frags fragments per datagram.
 *
 * Not done here (the caller's business): header validation, checking that
 * an IPv6 first fragment carries the whole header chain (RFC 8200 / RFC
 * 7112), ICMP messages and their rate limits, atomic-fragment policy
 * (an offset-0, no-more-fragments offer completes at once, RFC 6946). */
#ifndef SYNACK_NET_FRAG_H
#define SYNACK_NET_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "synack/stack.h"

/* Return values of frag_input() besides a SYNACK_DROP_* id (which are all
 * greater than SYNACK_DROP_FIRST_, hence never 0 or 1). */
enum { FRAG_QUEUED = 0, FRAG_DONE = 1 };

/* Largest header copy kept from the offset-0 fragment for ICMP Time
 * Exceeded (RFC 1122 3.3.2: "the first fragment header needs to be saved").
 * Longer headers are truncated to this many bytes. */
#define FRAG_HDR_SAVE 128

struct frag_limits {
	uint32_t max_datagrams;	  /* datagrams in progress at once (default 64) */
	size_t max_bytes;	  /* bytes allocated for reassembly, bookkeeping included (default 1 MiB) */
	uint32_t max_frags;	  /* fragments per datagram, 2..8192 (default 128) */
	synack_time_t timeout_v4; /* IPv4 reassembly timeout (default 30 s) */
	synack_time_t timeout_v6; /* IPv6 reassembly timeout (default 60 s, RFC 8200 4.5) */
};
void frag_limits_default(struct frag_limits *lim);

/* What identifies a datagram's fragments.
 * IPv4 (RFC 791): source, destination, protocol and the 16-bit
 * Identification. IPv6 (RFC 8200 4.5): source, destination and the 32-bit
 * Identification; `proto` is the Fragment header's Next Header and is NOT
 * matched: the value of the offset-0 fragment is reported in frag_done.
 * Addresses as synack_addr (unused bytes zero), family SYNACK_AF_INET or
 * SYNACK_AF_INET6 (must equal src.family). */
struct frag_key {
	uint8_t family;
	uint8_t proto;
	uint32_t id;
	synack_addr src, dst;
};

/* One fragment. Borrowed for the call only. */
struct frag_in {
	uint16_t offset;     /* Fragment Offset field as on the wire: 8-octet units (0..8191) */
	bool more;	     /* IPv4 MF / IPv6 M flag */
	const uint8_t *data; /* fragment data: after the IPv4 header / after the IPv6 Fragment header */
	size_t len;
	/* Largest offset*8 + len allowed: IPv4 65535 - IHL*4; IPv6 65535 minus
	 * the length of the extension headers before the Fragment header (the
	 * reassembled Payload Length must fit 16 bits). */
	size_t max_end;
	/* Bytes before `data` (IP header, IPv6 extension headers and Fragment
	 * header) of this fragment. Kept (up to FRAG_HDR_SAVE) from the offset-0
	 * fragment only, for ICMP Time Exceeded. May be NULL/0. */
	const uint8_t *hdr;
	size_t hdr_len;
	/* This fragment came in a link-layer multicast or broadcast frame.
	 * Kept from the offset-0 fragment: no ICMP error may answer it (RFC
	 * 4443 §2.4 (e.4), (e.5)). */
	bool l2_group;
};

/* A reassembled datagram, or an expired one (frag_expire). The pointers
 * stay valid until the next call on the table (frag_input, frag_expire,
 * frag_release, frag_table_destroy). */
struct frag_done {
	struct frag_key key; /* key.proto: IPv4 the key's; IPv6 the offset-0 fragment's Next Header */
	const uint8_t *data; /* frag_input: the whole reassembled data; frag_expire: fragment zero's data */
	size_t len;
	const uint8_t *hdr; /* the offset-0 fragment's saved headers (hdr_len may be 0) */
	size_t hdr_len;
	bool l2_group; /* the offset-0 fragment came in a link-layer group frame */
};

struct frag_table;

/* Create a table allocating through m (which must outlive it). `counters`
 * is an array of SYNACK_COUNTER_COUNT entries indexed by enum
 * synack_counter (the stack's st->counters) that the table increments.
 * Returns 0, -EINVAL for bad limits or -ENOMEM. */
int frag_table_create(struct mem *m, const struct frag_limits *lim, uint64_t *counters,
		      struct frag_table **out);
/* Free everything; datagrams still in progress are counted as
 * SYNACK_DROP_FRAG_TIMEOUT fragments. NULL is fine. */
void frag_table_destroy(struct frag_table *ft);

/* Offer one fragment arriving at `now`. Returns
 *   FRAG_QUEUED: kept, more are needed;
 *   FRAG_DONE:   *out describes the reassembled datagram (copied once, into
 *                its reassembly buffer; for an offset-0, no-more offer
 *                out->data is in->data itself);
 *   a SYNACK_DROP_* id: this fragment was not kept; the caller counts it.
 * A datagram whose deadline has passed is discarded (counted) before the
 * offer is matched; call frag_expire() first to learn about it. */
int frag_input(struct frag_table *ft, synack_time_t now, const struct frag_key *k, const struct frag_in *in,
	       struct frag_done *out);

/* Earliest reassembly deadline, SYNACK_TIME_NEVER when idle. */
synack_time_t frag_next_deadline(const struct frag_table *ft);

/* Discard datagrams whose deadline is <= now (their fragments counted as
 * SYNACK_DROP_FRAG_TIMEOUT). Returns 1 with *out filled for an expired
 * datagram whose fragment zero had arrived (RFC 1122 3.3.2 and RFC 8200
 * 4.5: send ICMP / ICMPv6 Time Exceeded, code 1, quoting out->hdr and the
 * start of out->data), 0 when nothing of that kind remains. Call it until
 * it returns 0. */
int frag_expire(struct frag_table *ft, synack_time_t now, struct frag_done *out);

/* Free the datagram last returned through *out now rather than at the next
 * call. */
void frag_release(struct frag_table *ft);

/* Introspection for counters, tests and `synack stats`. */
uint32_t frag_datagrams(const struct frag_table *ft); /* in progress */
size_t frag_bytes(const struct frag_table *ft);	      /* allocated, held datagram included */

#endif
