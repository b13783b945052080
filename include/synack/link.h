/* synack: links that carry frames. They know frames only, never stacks.
 *  - the in-memory link: two ports joined on a virtual clock, with seeded,
 *    reproducible impairments in each direction;
 *  - a pcap writer (LINKTYPE_RAW: raw IPv4/IPv6) and a tap that records
 *    every frame a tx function sends. */
#ifndef SYNACK_LINK_H
#define SYNACK_LINK_H

#include "synack/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_impair {
	double loss;		     /* probability a frame is lost */
	double duplicate;	     /* probability a frame is delivered twice */
	double reorder;		     /* probability a frame is held back by reorder_delay */
	double corrupt;		     /* probability one random bit of the frame flips */
	synack_time_t delay;	     /* one-way propagation delay */
	synack_time_t jitter;	     /* extra uniform random delay in [0, jitter] */
	synack_time_t reorder_delay; /* extra delay of a reordered frame */
	uint64_t rate_bps;	     /* serialisation bandwidth, bits/s; 0 = unlimited */
	uint32_t queue_limit;	     /* frames in flight before tail drop; 0 = 4096 */
	/* Gilbert-Elliott burst loss (the in-memory link and the fault-injection
	 * decorator, include/synack/impair.h): a two-state chain stepped once
	 * per frame; in the bad state a frame is lost with loss_in_bad, in the
	 * good state with `loss`. Off while p_good_to_bad is 0 (and then the
	 * link draws exactly the random numbers it drew before these existed,
	 * so recorded seeds replay). */
	double p_good_to_bad;
	double p_bad_to_good;
	double loss_in_bad;
} synack_impair;

typedef struct synack_memlink synack_memlink;

/* Called by synack_memlink_deliver() for each frame that arrives at a port. */
typedef void (*synack_rx_fn)(void *ctx, const uint8_t *frame, size_t len, synack_time_t now);
/* The same with what the link did for the frame (enum synack_rx_flags). */
typedef void (*synack_rx_flags_fn)(void *ctx, const uint8_t *frame, size_t len, uint32_t flags,
				   synack_time_t now);

typedef struct synack_link_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted, queue_drops, bytes;
} synack_link_stats;

/* Impairments are per direction: [0] for frames sent by port 0 (towards port
 * 1), [1] for port 1 towards port 0. NULL means a perfect link with no delay. */
SYNACK_API int synack_memlink_create(uint64_t seed, const synack_impair *dir0, const synack_impair *dir1,
				     synack_memlink **out);
SYNACK_API void synack_memlink_destroy(synack_memlink *l);
/* Who receives frames arriving at port `port` (0 or 1). */
SYNACK_API void synack_memlink_attach(synack_memlink *l, int port, synack_rx_fn rx, void *ctx);
/* The same, for a receiver that takes the frames' flags (offloads). */
SYNACK_API void synack_memlink_attach_flags(synack_memlink *l, int port, synack_rx_flags_fn rxf, void *ctx);
/* The tx function and its ctx for sending from port `port`:
 *   cfg.tx = synack_memlink_tx; cfg.tx_ctx = synack_memlink_port(l, 0); */
SYNACK_API void *synack_memlink_port(synack_memlink *l, int port);
SYNACK_API int synack_memlink_tx(void *port, const uint8_t *frame, size_t len);
/* A synack_tx_meta_fn (SYNACK_OFFLOAD_TX_CSUM and _TSO), as the kernel's
 * loopback: the frame travels as it is, and a receiver attached with
 * synack_memlink_attach_flags gets SYNACK_RX_CSUM_OK for a partial
 * checksum, since memory has nothing to verify it against; on a direction
 * that corrupts frames the checksum is completed before the damage and
 * verified as usual. A TSO segment arrives whole (as after GRO). */
SYNACK_API int synack_memlink_tx_meta(void *port, const uint8_t *frame, size_t len, const synack_tx_meta *m);
/* The same for a frame in pieces (a synack_tx_iov_fn): one copy, into the
 * link's frame. */
SYNACK_API int synack_memlink_tx_iov(void *port, const synack_iov *v, int n, const synack_tx_meta *m);
/* Set the link's clock (frames sent now are stamped with it). */
SYNACK_API void synack_memlink_set_time(synack_memlink *l, synack_time_t now);
/* Deliver every frame due at or before now (sets the clock first). Returns
 * the number delivered. Frames sent by receivers during delivery are queued
 * and delivered in a later call (or this one, if due and zero-delay). */
SYNACK_API size_t synack_memlink_deliver(synack_memlink *l, synack_time_t now);
SYNACK_API synack_time_t synack_memlink_next_deadline(const synack_memlink *l);
SYNACK_API size_t synack_memlink_in_flight(const synack_memlink *l);
SYNACK_API void synack_memlink_stats(const synack_memlink *l, int port, synack_link_stats *out);

typedef struct synack_pcap synack_pcap;
/* Create/truncate path and write a pcap header (LINKTYPE_RAW = 101,
 * microsecond timestamps). Returns 0 or a negative errno. */
SYNACK_API int synack_pcap_open(const char *path, synack_pcap **out);
SYNACK_API int synack_pcap_write(synack_pcap *p, synack_time_t when, const uint8_t *frame, size_t len);
SYNACK_API int synack_pcap_close(synack_pcap *p);
/* Record every frame sent on the memory link (time of sending). */
SYNACK_API void synack_memlink_set_pcap(synack_memlink *l, synack_pcap *p);

/* A tap decorating any tx function: records, then forwards. */
typedef struct synack_pcap_tap {
	synack_tx_fn inner;
	void *inner_ctx;
	synack_pcap *pcap;
	const synack_time_t *clock; /* where the current time is read */
} synack_pcap_tap;
SYNACK_API int synack_pcap_tap_tx(void *tap, const uint8_t *frame, size_t len);

#ifdef __cplusplus
}
#endif
#endif
