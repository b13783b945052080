/* synack: Linux TUN and TAP link drivers. They know frames only:
 *  - TUN (IFF_TUN | IFF_NO_PI) carries raw IP packets (SYNACK_LINK_RAW_IP);
 *  - TAP (IFF_TAP | IFF_NO_PI) carries Ethernet II frames (SYNACK_LINK_ETHERNET).
 *
 * Privileges. Attaching to a device that already exists and belongs to the
 * user (created once with `ip tuntap add dev NAME mode tun user USER`) needs
 * none. Creating a missing device, bringing it up, setting its MTU and
 * giving the kernel side an address need CAP_NET_ADMIN; synack_tun_open()
 * only tries those when host addresses are asked for. A device synack
 * creates is not persistent: it disappears when the descriptor is closed.
 * On a device that existed, synack_tun_close() deletes the host addresses
 * synack_tun_open() added (never one the device already had) and puts back
 * an MTU it changed; the device stays up.
 *
 * Queues. With synack_tun_config.queues = N > 1 the device is a
 * multi-queue one (IFF_MULTI_QUEUE): N descriptors of the same device,
 * each attached as its own queue, all in the same mode (offloads or
 * plain). synack_tun_open() returns queue 0; synack_tun_queue(t, i) gives
 * queue i, a synack_tun of its own for every per-frame function below
 * (read, tx, stats), to be used by one thread at a time: one stack, one
 * loop and one queue per thread, nothing shared. The kernel puts each flow
 * on one queue by its flow hash and keeps it on the queue its replies are
 * written to, so a flow's packets reach one stack (docs/API.md). The
 * queues belong to queue 0: synack_tun_close(queue 0) closes them all
 * (on another queue it does nothing). queues 0 or 1: one descriptor
 * without IFF_MULTI_QUEUE, as before.
 *
 * Errors are negative errno values; synack_tun_strerror() turns the ones
 * synack_tun_open() returns into a one-line explanation with the fix. */
#ifndef SYNACK_TUN_H
#define SYNACK_TUN_H

#include "synack/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_tun synack_tun;

enum synack_tun_kind { SYNACK_TUN = 0, SYNACK_TAP = 1 };

#define SYNACK_TUN_MAX_HOST_ADDRS 2
/* The kernel's limit on the queues of one device (MAX_TAP_QUEUES). */
#define SYNACK_TUN_MAX_QUEUES 256

typedef struct synack_tun_config {
	const char *name; /* device name, at most 15 bytes */
	int kind;	  /* enum synack_tun_kind */
	/* Addresses for the kernel side ("10.1.0.1/24", "fd00::1/64"); when
	 * any is given the device is created if missing, brought up, its MTU
	 * set (if mtu != 0) and the addresses added (CAP_NET_ADMIN). */
	const char *host_addr[SYNACK_TUN_MAX_HOST_ADDRS];
	uint16_t mtu; /* 0: keep the device's MTU */
	/* TUN only: take the kernel's offloads (a virtio-net header on every
	 * frame, IFF_VNET_HDR): received TCP segments of up to 64 KiB with
	 * their checksum vouched for (synack_tun_read_flags), and TSO and
	 * checksum offload for what synack sends (synack_tun_tx_meta and
	 * synack_tun_offloads for the stack's configuration). Falls back to
	 * the plain mode where the kernel refuses; synack_tun_offloads says. */
	bool offload;
	/* 0 or 1: one queue (no IFF_MULTI_QUEUE). 2..SYNACK_TUN_MAX_QUEUES:
	 * a multi-queue device with that many descriptors (see above). */
	unsigned queues;
} synack_tun_config;

/* Open (attach to, or create) the device; the descriptor is non-blocking.
 * Returns 0, or -ENODEV (no such device and no host address asked for),
 * -EACCES (not allowed to open /dev/net/tun), -EPERM (not allowed to use
 * the device, or to create or configure it: no CAP_NET_ADMIN),
 * -EBUSY (another process has the device open), -EMEDIUMTYPE (the device
 * exists but is a TAP where a TUN was asked for, or the reverse),
 * -ENETDOWN (the device is not up and no host address was asked for),
 * -EINVAL (bad name, host address or number of queues), -EOPNOTSUPP
 * (queues > 1 on a kernel without multi-queue TUN devices), or another
 * errno. -EMEDIUMTYPE also when the device exists in the other queue mode
 * (with IFF_MULTI_QUEUE where one queue was asked for, or the reverse);
 * synack_tun_strerror() tells which. A queue that cannot be attached
 * fails the whole open (nothing stays configured). On success the
 * kernel has started the device's transmit queue. */
SYNACK_API int synack_tun_open(const synack_tun_config *cfg, synack_tun **out);
/* Undo what synack_tun_open() configured (see above) and close, every
 * queue with it. Only for the handle synack_tun_open() returned. */
SYNACK_API void synack_tun_close(synack_tun *t);

/* The number of queues (1 for a single-queue device). */
SYNACK_API unsigned synack_tun_queues(const synack_tun *t);
/* Queue i of the device t (synack_tun_open()'s handle): t itself for
 * i = 0, NULL if i >= synack_tun_queues(t). Owned by t. */
SYNACK_API synack_tun *synack_tun_queue(synack_tun *t, unsigned i);

/* A one-line explanation of an error from synack_tun_open() (with the
 * command that fixes it where there is one), for the device named `name`. */
SYNACK_API const char *synack_tun_strerror(int err, const char *name, int kind, char *buf, size_t len);

SYNACK_API int synack_tun_fd(const synack_tun *t);
/* The device's MTU (the largest IP packet it carries). */
SYNACK_API uint16_t synack_tun_mtu(const synack_tun *t);
/* The device's interface index. */
SYNACK_API int synack_tun_ifindex(const synack_tun *t);

/* Read one frame (IP packet for TUN, Ethernet frame for TAP) into buf.
 * Returns its length, -EAGAIN when none is waiting, or another errno. */
SYNACK_API ssize_t synack_tun_read(synack_tun *t, uint8_t *buf, size_t cap);
/* The same with what the kernel did for the frame (enum synack_rx_flags,
 * for synack_stack_input_flags): with offloads, a TCP segment may be up to
 * 64 KiB and its checksum only partial; a reader that ignores the flags
 * must not open the device with offload. */
SYNACK_API ssize_t synack_tun_read_flags(synack_tun *t, uint8_t *buf, size_t cap, uint32_t *flags);
/* A synack_tx_fn: write one frame. ctx is the synack_tun. A frame the
 * kernel cannot take now is dropped (-EAGAIN/-ENOBUFS): TCP retransmits. */
SYNACK_API int synack_tun_tx(void *ctx, const uint8_t *frame, size_t len);
/* A synack_tx_meta_fn: one frame with offloaded work (a device opened
 * with offload; -EINVAL otherwise). */
SYNACK_API int synack_tun_tx_meta(void *ctx, const uint8_t *frame, size_t len, const synack_tx_meta *m);
/* The same for a frame in pieces (a synack_tx_iov_fn): one writev, the
 * data going from the stack's send buffer straight to the kernel. */
SYNACK_API int synack_tun_tx_iov(void *ctx, const synack_iov *v, int n, const synack_tx_meta *m);
/* The offloads (SYNACK_OFFLOAD_*) synack_tun_tx_meta takes: 0 in the
 * plain mode. For synack_stack_config.offload, with tx_meta =
 * synack_tun_tx_meta (and gso_max 65535 with TSO). */
SYNACK_API uint32_t synack_tun_offloads(const synack_tun *t);

typedef struct synack_tun_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_errors;
	uint64_t rx_errors;		       /* reads too short for the virtio-net header */
	uint64_t rx_gso_frames, tx_gso_frames; /* TCP segments larger than the MTU, each way */
} synack_tun_stats;
SYNACK_API void synack_tun_get_stats(const synack_tun *t, synack_tun_stats *out);

/* Parse "ADDR/PREFIX" (IPv4 or IPv6). Without "/PREFIX" the prefix is 24
 * for IPv4 and 64 for IPv6. Returns 0 or -EINVAL. */
SYNACK_API int synack_prefix_parse(const char *text, synack_addr *addr, uint8_t *prefix_len);

#ifdef __cplusplus
}
#endif
#endif
