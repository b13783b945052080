/* synack: basic public types shared by every header. */
#ifndef SYNACK_TYPES_H
#define SYNACK_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The export mark of the public API. The library is compiled with
 * -fvisibility=hidden: only functions declared with SYNACK_API are exported
 * by libsynack.so and stay global in libsynack.a; every internal name is
 * hidden (scripts/check-exports.sh checks both). */
#if defined(__GNUC__) || defined(__clang__)
#define SYNACK_API __attribute__((visibility("default")))
#else
#define SYNACK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Time is a monotonic count of microseconds supplied by the caller. The core
 * never reads a clock. SYNACK_TIME_NEVER means "no deadline". */
typedef int64_t synack_time_t;
#define SYNACK_TIME_NEVER INT64_MAX
#define SYNACK_USEC(x)	  ((synack_time_t)(x))
#define SYNACK_MSEC(x)	  ((synack_time_t)(x)*1000)
#define SYNACK_SEC(x)	  ((synack_time_t)(x)*1000000)

/* Address families (values independent of the host's AF_* constants). */
enum synack_family { SYNACK_AF_NONE = 0, SYNACK_AF_INET = 4, SYNACK_AF_INET6 = 6 };

/* An IPv4 or IPv6 address, in network byte order. For IPv4 only bytes[0..3]
 * are used and the rest are zero, so addresses can be compared with memcmp. */
typedef struct synack_addr {
	uint8_t family; /* enum synack_family */
	uint8_t bytes[16];
} synack_addr;

/* An address and a port (host byte order). */
typedef struct synack_endpoint {
	synack_addr addr;
	uint16_t port;
} synack_endpoint;

/* Randomness enters the core only through this source (DESIGN.md §1).
 * fill() must write exactly len bytes. */
typedef struct synack_rng {
	void (*fill)(void *ctx, void *buf, size_t len);
	void *ctx;
} synack_rng;

/* Where frames leave the stack: one frame of the link's kind per call (an IP
 * packet on raw-IP links, an Ethernet II frame on Ethernet links). The callee copies what it keeps; the
 * buffer is only valid during the call. Returns 0, or a negative errno if the frame was not sent (the stack
 * counts it and carries on: TCP retransmits). */
typedef int (*synack_tx_fn)(void *ctx, const uint8_t *frame, size_t len);

/* Offloads: work a link does for the stack, as a virtio-net device does
 * (the TUN driver with IFF_VNET_HDR, include/synack/tun.h). A stack whose
 * configuration names them hands such packets to its tx_meta function
 * (synack_stack_config) instead of tx, with a description of the work. */
enum synack_offload {
	/* The link completes the TCP checksum: the checksum field holds the
	 * pseudo-header sum (RFC 9293 §3.1), folded and not complemented, and
	 * the link adds the bytes from csum_start to the end of the packet. */
	SYNACK_OFFLOAD_TX_CSUM = 1u << 0,
	/* TCP segmentation offload: a TCP segment of up to gso_max bytes of IP
	 * packet whose payload the link cuts into gso_size pieces, each sent
	 * with a copy of the headers (sequence number, IP length and ID, and
	 * the checksums adjusted; FIN and PSH on the last piece only, CWR on
	 * the first). Needs TX_CSUM. Raw IP links only. */
	SYNACK_OFFLOAD_TSO = 1u << 1,
};
typedef struct synack_tx_meta {
	uint16_t gso_size;    /* TCP payload bytes per piece; 0: one packet as it is */
	uint16_t csum_start;  /* checksum to complete from this offset (the TCP header); 0: none */
	uint16_t csum_offset; /* its field's offset from csum_start (16 for TCP) */
} synack_tx_meta;
/* A tx function for packets with offloaded work (m says what); 0 or a
 * negative errno, as synack_tx_fn. */
typedef int (*synack_tx_meta_fn)(void *ctx, const uint8_t *frame, size_t len, const synack_tx_meta *m);
/* A piece of a frame handed over in pieces. */
typedef struct synack_iov {
	const uint8_t *base;
	size_t len;
} synack_iov;
/* Gather transmission: the frame is v[0..n) end to end (n <= 3: the
 * headers, then the data where it lies in the send buffer, in at most two
 * pieces), with offloaded work m (never NULL); the callee copies what it
 * keeps. 0 or a negative errno, as synack_tx_fn. */
typedef int (*synack_tx_iov_fn)(void *ctx, const synack_iov *v, int n, const synack_tx_meta *m);

/* What the link already did for a received packet
 * (synack_stack_input_flags). */
enum synack_rx_flags {
	/* The transport checksum is known good, or was never computed because
	 * the packet comes from the host's own memory (a virtio-net header's
	 * DATA_VALID or NEEDS_CSUM): the stack does not verify it. A received
	 * TCP segment may then also be larger than the MTU (the kernel's GSO
	 * or GRO). */
	SYNACK_RX_CSUM_OK = 1u << 0,
};

/* Optional allocator; NULL members mean malloc/free. */
typedef struct synack_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
} synack_allocator;

/* Build an IPv4 address from its four dotted-quad parts. */
SYNACK_API synack_addr synack_addr_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
/* Parse "10.0.0.1" (IPv6 text is accepted too). Returns 0 or -EINVAL. */
SYNACK_API int synack_addr_parse(const char *text, synack_addr *out);
/* Format into buf (at least 46 bytes). Returns buf. */
SYNACK_API char *synack_addr_format(const synack_addr *addr, char *buf, size_t len);
SYNACK_API int synack_addr_equal(const synack_addr *a, const synack_addr *b);

/* A small deterministic generator (xoshiro256**) for tests, simulations and
 * the demo: the same seed gives the same bytes. Not for production ISNs. */
typedef struct synack_prng {
	uint64_t s[4];
} synack_prng;
SYNACK_API void synack_prng_seed(synack_prng *p, uint64_t seed);
SYNACK_API uint64_t synack_prng_next(synack_prng *p);
/* A value uniform in [0, bound) (bound > 0). */
SYNACK_API uint64_t synack_prng_below(synack_prng *p, uint64_t bound);
/* A double uniform in [0, 1). */
SYNACK_API double synack_prng_unit(synack_prng *p);
/* synack_rng adapter: ctx is a synack_prng*. */
SYNACK_API void synack_prng_fill(void *ctx, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
