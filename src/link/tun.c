/* Linux TUN/TAP link driver (include/synack/tun.h).
 *
 * Implementation notes
 *
 * Attach or create. TUNSETIFF on /dev/net/tun attaches to an existing
 * device if the caller may (its owner, or CAP_NET_ADMIN) and creates a
 * missing one if the caller has CAP_NET_ADMIN. We look the device up first
 * (if_nametoindex) so that a typo in the name is reported as "no such
 * device" instead of silently creating a device nobody routes to; creation
 * is only attempted when host addresses were asked for, which needs
 * CAP_NET_ADMIN anyway. A device of the other kind (a TAP when a TUN was
 * asked for) makes TUNSETIFF fail with EINVAL; /sys/class/net/NAME/tun_flags
 * tells us which kind it is, for a precise message.
 *
 * Configuring the kernel side goes through rtnetlink (RTM_NEWLINK for the
 * MTU and IFF_UP, RTM_NEWADDR for each address), one request at a time,
 * each acknowledged. IPv6 addresses get IFA_F_NODAD: the link is ours and a
 * tentative address would refuse connections for a second or two.
 *
 * Leaving no trace. A device synack created (not persistent) vanishes with
 * its descriptor. On a device that existed, the addresses synack added are
 * recorded (NLM_F_EXCL tells them from ones the device already had) and
 * deleted on close (RTM_DELADDR), and a changed MTU is put back. The
 * commands close on SIGINT/SIGTERM too; only SIGKILL leaves them behind.
 *
 * Frames. With IFF_NO_PI each read() returns exactly one frame and each
 * write() sends one; the descriptor is non-blocking.
 *
 * Offloads (cfg->offload, TUN only). IFF_VNET_HDR puts a virtio-net header
 * (struct virtio_net_hdr, virtio 1.x §5.1.6) in front of every frame both
 * ways; TUNSETOFFLOAD with TUN_F_CSUM and TUN_F_TSO4/6 tells the kernel we
 * take packets whose TCP checksum is left partial (NEEDS_CSUM: only the
 * pseudo-header sum is in the field; the data never left the host's
 * memory) and TCP segments up to 64 KiB (its GSO). The reader gets them
 * whole: synack_tun_read_flags() says SYNACK_RX_CSUM_OK and the stack takes
 * the large segment as one. The other way the kernel takes the same from
 * us whatever TUNSETOFFLOAD said: synack_tun_tx_meta() writes NEEDS_CSUM
 * and GSO headers, and the kernel delivers the large segment to its own
 * TCP as one (as after GRO) or cuts it when it forwards it. A kernel that
 * refuses IFF_VNET_HDR or the offloads leaves the plain mode; the header
 * fields are little-endian on this (little-endian) host, the default for a
 * TUN device. On close an existing device gets its offloads switched off:
 * the next user may not read virtio-net headers.
 *
 * Queues (cfg->queues > 1). IFF_MULTI_QUEUE makes every TUNSETIFF on the
 * same name attach one more descriptor to the device as a queue of its own
 * (Documentation/networking/tuntap.rst §3.3): the first call creates the
 * device if it is missing, the others attach. The flags (IFF_VNET_HDR)
 * and the virtio-net header size belong to the device, so every queue is
 * opened in the mode the first one got; a queue that cannot follow fails
 * the whole open. Each queue is a synack_tun of its own (descriptor,
 * statistics), so the per-frame functions take any of them; the first one
 * owns the others and the configuration to undo, and synack_tun_close()
 * on it closes them all. Which queue a packet from the kernel goes to is
 * the kernel's choice (drivers/net/tun.c, tun_automq_select_queue): the
 * queue that last wrote a packet of the same flow (its symmetric flow hash,
 * learned by tun_flow_update in tun_get_user, forgotten after 3 s idle),
 * else the flow hash scaled to the number of queues. A reply written on
 * the queue its flow came in on keeps the flow there. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>
#include <sys/uio.h>

#include "synack/tun.h"

/* A kernel-side address synack added to a device it did not create. */
struct added_addr {
	synack_addr addr;
	uint8_t plen;
};

struct synack_tun {
	int fd;
	int kind;
	int ifindex;
	uint16_t mtu;
	bool vnet;	  /* IFF_VNET_HDR: a virtio-net header on every frame */
	bool rx_offload;  /* TUNSETOFFLOAD succeeded (to be undone on an existing device) */
	uint32_t offload; /* SYNACK_OFFLOAD_* synack_tun_tx_meta takes */
	char name[IFNAMSIZ];
	synack_tun_stats stats;
	/* What to undo on close, on a device that existed before us (one we
	 * created goes away with its descriptor, addresses and all). */
	bool existed;
	uint16_t old_mtu; /* the MTU we replaced, or 0 */
	struct added_addr added[SYNACK_TUN_MAX_HOST_ADDRS];
	int nadded;
	/* Queues: the handle synack_tun_open() returned owns them all
	 * (queue[0] is itself); a queue's owner points to that handle. */
	struct synack_tun *owner;
	struct synack_tun **queue;
	unsigned nqueues;
	unsigned offload_flags; /* the TUNSETOFFLOAD value the device took, or 0 */
};

/* ---- addresses ---- */

int synack_prefix_parse(const char *text, synack_addr *addr, uint8_t *prefix_len)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (synack_addr_parse(buf, addr) < 0)
		return -EINVAL;
	unsigned max = addr->family == SYNACK_AF_INET ? 32 : 128;
	if (!slash) {
		*prefix_len = addr->family == SYNACK_AF_INET ? 24 : 64;
		return 0;
	}
	char *end;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	unsigned long v = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || v > max)
		return -EINVAL;
	*prefix_len = (uint8_t)v;
	return 0;
}

/* ---- rtnetlink ---- */

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	} u;
	uint8_t attrs[128];
};

static void nl_attr(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->nh.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Wait for the acknowledgement of request `seq`: 0 or the kernel's -errno. */
static int nl_wait_ack(int fd, uint32_t seq)
{
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0)
			return errno == EINTR ? nl_wait_ack(fd, seq) : -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error;
		}
	}
}

static int nl_talk(struct nl_req *r)
{
	static const struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->nh.nlmsg_seq = 1;
	int err = 0;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (const struct sockaddr *)&kernel, sizeof kernel) < 0)
		err = -errno;
	else
		err = nl_wait_ack(fd, 1);
	close(fd);
	return err;
}

static int link_up(int ifindex, uint16_t mtu)
{
	struct nl_req r;
	memset(&r, 0, sizeof r);
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof r.u.ifi);
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = ifindex;
	r.u.ifi.ifi_flags = IFF_UP;
	r.u.ifi.ifi_change = IFF_UP;
	if (mtu) {
		uint32_t m = mtu;
		nl_attr(&r, IFLA_MTU, &m, sizeof m);
	}
	return nl_talk(&r);
}

/* RTM_NEWADDR or RTM_DELADDR for a/plen on the device (rtnetlink(7)). */
static int addr_req(int ifindex, uint16_t type, uint16_t flags, const synack_addr *a, uint8_t plen)
{
	bool v4 = a->family == SYNACK_AF_INET;
	size_t alen = v4 ? 4 : 16;
	struct nl_req r;
	memset(&r, 0, sizeof r);
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof r.u.ifa);
	r.nh.nlmsg_type = type;
	r.nh.nlmsg_flags = flags;
	r.u.ifa.ifa_family = v4 ? AF_INET : AF_INET6;
	r.u.ifa.ifa_prefixlen = plen;
	r.u.ifa.ifa_flags = v4 ? 0 : IFA_F_NODAD;
	r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.u.ifa.ifa_index = (unsigned)ifindex;
	nl_attr(&r, IFA_LOCAL, a->bytes, alen);
	nl_attr(&r, IFA_ADDRESS, a->bytes, alen);
	return nl_talk(&r);
}

/* Add a host address; remember it if it is new. NLM_F_EXCL makes the
 * kernel answer EEXIST for an address the device already has (same local
 * address and prefix for IPv4, same address for IPv6): that one is the
 * user's, kept as it is and left in place on close. */
static int addr_add(synack_tun *t, const char *text)
{
	struct added_addr *n = &t->added[t->nadded];
	if (synack_prefix_parse(text, &n->addr, &n->plen) < 0)
		return -EINVAL;
	int err = addr_req(t->ifindex, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &n->addr, n->plen);
	if (err == -EEXIST)
		return 0;
	if (err == 0)
		t->nadded++;
	return err;
}

/* Undo configure() on a device that existed before: delete the addresses
 * we added and put the MTU back. Its IFF_UP stays: taking the device down
 * would make the kernel flush IPv6 addresses that were there before us. */
static void unconfigure(synack_tun *t)
{
	while (t->nadded > 0) {
		const struct added_addr *a = &t->added[--t->nadded];
		(void)addr_req(t->ifindex, RTM_DELADDR, 0, &a->addr, a->plen);
	}
	if (t->old_mtu)
		(void)link_up(t->ifindex, t->old_mtu);
	t->old_mtu = 0;
}

/* ---- the device ---- */

/* The IFF_* flags of an existing TUN/TAP device from sysfs, or -1 if the
 * device is not a TUN/TAP device at all. */
static int existing_flags(const char *name)
{
	char path[96];
	snprintf(path, sizeof path, "/sys/class/net/%s/tun_flags", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	unsigned flags = 0;
	int ok = fscanf(f, "%x", &flags);
	fclose(f);
	return ok == 1 ? (int)(flags & 0xffff) : -1;
}

/* The kind of an existing TUN/TAP device, or -1 if it is not one. */
static int existing_kind(const char *name)
{
	int flags = existing_flags(name);
	if (flags < 0)
		return -1;
	return (flags & IFF_TAP) ? SYNACK_TAP : SYNACK_TUN;
}

static unsigned want_queues(const synack_tun_config *cfg)
{
	return cfg->queues ? cfg->queues : 1;
}

static uint16_t device_mtu(const char *name)
{
	struct ifreq ifr;
	uint16_t mtu = 1500;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return mtu;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 && ifr.ifr_mtu <= 65535)
		mtu = (uint16_t)ifr.ifr_mtu;
	close(s);
	return mtu;
}

/* The device must be up (IFF_UP) for the kernel to send us anything. */
static bool device_up(const char *name)
{
	struct ifreq ifr;
	bool up = false;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return true; /* cannot tell: let the user find out */
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
		up = (ifr.ifr_flags & IFF_UP) != 0;
	close(s);
	return up;
}

/* Attaching turns the carrier on; the kernel starts its transmit queue
 * when it has processed that event (linkwatch), which shows as operstate
 * leaving "down". Frames it sends before then are dropped, so wait for it
 * (briefly: this normally takes well under a millisecond). */
static void wait_carrier(const char *name)
{
	char path[96], state[16];
	snprintf(path, sizeof path, "/sys/class/net/%s/operstate", name);
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(path, "r");
		if (!f)
			return;
		bool down = fgets(state, sizeof state, f) && strncmp(state, "down", 4) == 0;
		fclose(f);
		if (!down)
			return;
		usleep(5000);
	}
}

static int open_dev(const synack_tun_config *cfg, bool exists, bool vnet)
{
	bool mq = want_queues(cfg) > 1;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENXIO : (errno == EPERM ? -EACCES : -errno);
	unsigned features = 0;
	if (mq && (ioctl(fd, TUNGETFEATURES, &features) < 0 || !(features & IFF_MULTI_QUEUE))) {
		close(fd);
		return -EOPNOTSUPP; /* a kernel before 3.8 */
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", cfg->name);
	ifr.ifr_flags = (short)((cfg->kind == SYNACK_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
				(vnet ? IFF_VNET_HDR : 0) | (mq ? IFF_MULTI_QUEUE : 0));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;
		close(fd);
		if (err == EINVAL && exists)
			return -EMEDIUMTYPE;
		return -err;
	}
	/* plain frames: offloads an earlier owner of the device left on (one
	 * killed before its close) would hand us 64 KiB segments with partial
	 * checksums and no header to say so */
	if (!vnet && cfg->kind == SYNACK_TUN && exists)
		(void)ioctl(fd, TUNSETOFFLOAD, 0u);
	return fd;
}

/* cfg->offload: the virtio-net header and the kernel's offloads, or the
 * plain mode if this kernel refuses them (see the notes above). */
static int open_offload(synack_tun *t, const synack_tun_config *cfg, bool exists)
{
	int fd = open_dev(cfg, exists, true);
	if (fd == -EINVAL || fd == -EMEDIUMTYPE) /* no IFF_VNET_HDR here: plain */
		return open_dev(cfg, exists, false);
	if (fd < 0)
		return fd;
	/* the header's size belongs to the device and an earlier owner (QEMU
	 * uses 12) may have changed it: ours is struct virtio_net_hdr */
	int hsz = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hsz) < 0) {
		close(fd);
		return open_dev(cfg, exists, false);
	}
	t->vnet = true;
	t->offload = SYNACK_OFFLOAD_TX_CSUM | SYNACK_OFFLOAD_TSO;
	unsigned full = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	if (ioctl(fd, TUNSETOFFLOAD, full) == 0)
		t->offload_flags = full;
	else if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
		t->offload_flags = TUN_F_CSUM;
	t->rx_offload = t->offload_flags != 0;
	return fd;
}

/* Queue i > 0 of a multi-queue device: attach one more descriptor in the
 * mode the first queue got (the flags and the header size are the
 * device's). */
static int open_queue(synack_tun *t, const synack_tun_config *cfg, unsigned i)
{
	synack_tun *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->fd = open_dev(cfg, true, t->vnet);
	if (q->fd < 0) {
		int err = q->fd;
		free(q);
		return err;
	}
	int hsz = (int)sizeof(struct virtio_net_hdr);
	if (t->vnet && (ioctl(q->fd, TUNSETVNETHDRSZ, &hsz) < 0 ||
			(t->offload_flags && ioctl(q->fd, TUNSETOFFLOAD, t->offload_flags) < 0))) {
		int err = -errno;
		close(q->fd);
		free(q);
		return err;
	}
	q->kind = t->kind;
	q->vnet = t->vnet;
	q->offload = t->offload;
	q->owner = t;
	snprintf(q->name, sizeof q->name, "%s", t->name);
	t->queue[i] = q;
	t->nqueues = i + 1;
	return 0;
}

static int open_queues(synack_tun *t, const synack_tun_config *cfg)
{
	unsigned n = want_queues(cfg);
	t->owner = t;
	t->queue = calloc(n, sizeof *t->queue);
	if (!t->queue)
		return -ENOMEM;
	t->queue[0] = t;
	t->nqueues = 1;
	for (unsigned i = 1; i < n; i++) {
		int err = open_queue(t, cfg, i);
		if (err < 0)
			return err;
	}
	return 0;
}

/* What the other queues learn once the first knows the device. */
static void share_device(synack_tun *t)
{
	for (unsigned i = 1; i < t->nqueues; i++) {
		t->queue[i]->ifindex = t->ifindex;
		t->queue[i]->mtu = t->mtu;
	}
}

static int configure(synack_tun *t, const synack_tun_config *cfg)
{
	uint16_t before = device_mtu(t->name);
	int err = link_up(t->ifindex, cfg->mtu);
	if (!err && t->existed && cfg->mtu && cfg->mtu != before)
		t->old_mtu = before;
	for (int i = 0; !err && i < SYNACK_TUN_MAX_HOST_ADDRS; i++)
		if (cfg->host_addr[i])
			err = addr_add(t, cfg->host_addr[i]);
	return err == -EACCES ? -EPERM : err; /* netlink: missing CAP_NET_ADMIN */
}

static bool wants_host(const synack_tun_config *cfg)
{
	for (int i = 0; i < SYNACK_TUN_MAX_HOST_ADDRS; i++)
		if (cfg->host_addr[i])
			return true;
	return false;
}

static int check_config(const synack_tun_config *cfg)
{
	synack_addr a;
	uint8_t plen;
	if (!cfg->name || !cfg->name[0] || strlen(cfg->name) >= IFNAMSIZ || strchr(cfg->name, '/'))
		return -EINVAL;
	if (cfg->kind != SYNACK_TUN && cfg->kind != SYNACK_TAP)
		return -EINVAL;
	if (cfg->queues > SYNACK_TUN_MAX_QUEUES)
		return -EINVAL;
	for (int i = 0; i < SYNACK_TUN_MAX_HOST_ADDRS; i++)
		if (cfg->host_addr[i] && synack_prefix_parse(cfg->host_addr[i], &a, &plen) < 0)
			return -EINVAL;
	return 0;
}

int synack_tun_open(const synack_tun_config *cfg, synack_tun **out)
{
	*out = NULL;
	int err = check_config(cfg);
	if (err)
		return err;
	bool exists = if_nametoindex(cfg->name) != 0;
	if (!exists && !wants_host(cfg))
		return -ENODEV;
	if (exists && existing_kind(cfg->name) != cfg->kind)
		return -EMEDIUMTYPE;
	/* the other queue mode: TUNSETIFF would refuse it (EINVAL) */
	if (exists && want_queues(cfg) > 1 && !(existing_flags(cfg->name) & IFF_MULTI_QUEUE))
		return -EMEDIUMTYPE;
	synack_tun *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->kind = cfg->kind;
	t->existed = exists;
	snprintf(t->name, sizeof t->name, "%s", cfg->name);
	t->fd = cfg->offload && cfg->kind == SYNACK_TUN ? open_offload(t, cfg, exists)
							: open_dev(cfg, exists, false);
	if (t->fd < 0) {
		err = t->fd;
		free(t);
		return err;
	}
	if ((err = open_queues(t, cfg)) < 0) {
		synack_tun_close(t);
		return err;
	}
	t->ifindex = (int)if_nametoindex(t->name);
	if (wants_host(cfg) && (err = configure(t, cfg)) < 0) {
		synack_tun_close(t);
		return err;
	}
	if (!device_up(t->name)) {
		synack_tun_close(t);
		return -ENETDOWN;
	}
	wait_carrier(t->name);
	t->mtu = device_mtu(t->name);
	share_device(t);
	*out = t;
	return 0;
}

void synack_tun_close(synack_tun *t)
{
	if (!t || (t->owner && t->owner != t))
		return; /* a queue: its owner closes it */
	if (t->existed)
		unconfigure(t);
	if (t->fd >= 0 && t->existed && t->rx_offload)
		(void)ioctl(t->fd, TUNSETOFFLOAD, 0u); /* the next user may read no headers */
	for (unsigned i = 1; i < t->nqueues; i++) {
		close(t->queue[i]->fd);
		free(t->queue[i]);
	}
	free(t->queue);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

unsigned synack_tun_queues(const synack_tun *t)
{
	return t->nqueues ? t->nqueues : 1;
}

synack_tun *synack_tun_queue(synack_tun *t, unsigned i)
{
	if (i == 0)
		return t;
	return t->owner == t && i < t->nqueues ? t->queue[i] : NULL;
}

const char *synack_tun_strerror(int err, const char *name, int kind, char *buf, size_t len)
{
	const char *mode = kind == SYNACK_TAP ? "tap" : "tun";
	switch (err) {
	case -EACCES:
		snprintf(buf, len,
			 "no permission to open /dev/net/tun: run as root, or as root make it usable (`chmod "
			 "0666 /dev/net/tun`, its usual mode)");
		break;
	case -EPERM:
		snprintf(buf, len,
			 "no permission to use %s: run as root or create the device with `ip tuntap add dev "
			 "%s mode %s user $USER`",
			 name, name, mode);
		break;
	case -ENODEV:
		snprintf(buf, len,
			 "no such device %s: create it with `ip tuntap add dev %s mode %s user $USER` (or "
			 "give --host-addr as root)",
			 name, name, mode);
		break;
	case -EBUSY:
		snprintf(buf, len, "device %s is busy: another process has it open", name);
		break;
	case -EMEDIUMTYPE:
		if (existing_kind(name) == kind && (existing_flags(name) & IFF_MULTI_QUEUE))
			snprintf(buf, len,
				 "device %s is a multi-queue device (IFF_MULTI_QUEUE): open it with several "
				 "queues (serve --threads N), or use another device",
				 name);
		else if (existing_kind(name) == kind)
			snprintf(
			    buf, len,
			    "device %s exists without IFF_MULTI_QUEUE: several queues need one made with "
			    "`ip tuntap add dev %s mode %s multi_queue`, or let synack create it "
			    "(--host-addr)",
			    name, name, mode);
		else
			snprintf(buf, len,
				 "device %s is not a %s device (use --%s for it, or another device)", name,
				 kind == SYNACK_TAP ? "TAP" : "TUN", kind == SYNACK_TAP ? "tun" : "tap");
		break;
	case -EOPNOTSUPP:
		snprintf(buf, len,
			 "this kernel's TUN driver has no multi-queue devices (IFF_MULTI_QUEUE, Linux 3.8)");
		break;
	case -ENETDOWN:
		snprintf(buf, len, "device %s is down: `ip link set %s up` (or give --host-addr as root)",
			 name, name);
		break;
	case -ENXIO:
		snprintf(buf, len, "no /dev/net/tun: load the tun module (modprobe tun)");
		break;
	case -EINVAL:
		snprintf(buf, len, "bad device name or host address for %s", name);
		break;
	default:
		snprintf(buf, len, "%s: %s", name, strerror(-err));
		break;
	}
	return buf;
}

int synack_tun_fd(const synack_tun *t)
{
	return t->fd;
}
uint16_t synack_tun_mtu(const synack_tun *t)
{
	return t->mtu;
}
int synack_tun_ifindex(const synack_tun *t)
{
	return t->ifindex;
}

uint32_t synack_tun_offloads(const synack_tun *t)
{
	return t->offload;
}

/* What the kernel's virtio-net header says about a received frame. */
static uint32_t rx_flags(synack_tun *t, const struct virtio_net_hdr *h)
{
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		t->stats.rx_gso_frames++;
	if (h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return SYNACK_RX_CSUM_OK;
	return 0;
}

ssize_t synack_tun_read_flags(synack_tun *t, uint8_t *buf, size_t cap, uint32_t *flags)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = {{&h, sizeof h}, {buf, cap}};
	size_t hl = t->vnet ? sizeof h : 0;
	*flags = 0;
	for (;;) {
		ssize_t n = t->vnet ? readv(t->fd, iov, 2) : read(t->fd, buf, cap);
		if (n >= 0 && (size_t)n < hl) {
			t->stats.rx_errors++; /* the kernel always writes the header */
			return -EPROTO;
		}
		if (n >= 0) {
			n -= (ssize_t)hl;
			t->stats.rx_frames++;
			t->stats.rx_bytes += (uint64_t)n;
			if (t->vnet)
				*flags = rx_flags(t, &h);
			return n;
		}
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

ssize_t synack_tun_read(synack_tun *t, uint8_t *buf, size_t cap)
{
	uint32_t flags;
	return synack_tun_read_flags(t, buf, cap, &flags);
}

static int tx_iov(synack_tun *t, const struct iovec *iov, int n, size_t hl)
{
	for (;;) {
		ssize_t w = n == 1 ? write(t->fd, iov[0].iov_base, iov[0].iov_len) : writev(t->fd, iov, n);
		if (w >= 0) {
			t->stats.tx_frames++;
			t->stats.tx_bytes += (uint64_t)w - hl;
			return 0;
		}
		if (errno != EINTR) {
			t->stats.tx_errors++;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
	}
}

int synack_tun_tx(void *ctx, const uint8_t *frame, size_t len)
{
	synack_tun *t = ctx;
	struct virtio_net_hdr h = {.flags = 0, .gso_type = VIRTIO_NET_HDR_GSO_NONE};
	struct iovec iov[2] = {{&h, sizeof h}, {(void *)frame, len}};
	if (!t->vnet)
		return tx_iov(t, iov + 1, 1, 0);
	return tx_iov(t, iov, 2, sizeof h);
}

int synack_tun_tx_iov(void *ctx, const synack_iov *v, int n, const synack_tx_meta *m)
{
	synack_tun *t = ctx;
	struct virtio_net_hdr h = {.flags = 0, .gso_type = VIRTIO_NET_HDR_GSO_NONE};
	struct iovec iov[1 + 4];
	size_t start = m->csum_start;
	if (!t->vnet || n < 1 || n > 4 || start + 20 > v[0].len || (m->gso_size && !start)) {
		t->stats.tx_errors++;
		return -EINVAL; /* work this device cannot take: the stack's configuration is wrong */
	}
	const uint8_t *frame = v[0].base; /* the headers are all in the first piece */
	if (start) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = (uint16_t)start;
		h.csum_offset = m->csum_offset;
	}
	if (m->gso_size) {
		const uint8_t *tcp = frame + start;
		h.gso_type = (frame[0] >> 4) == 6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		if (tcp[13] & 0x80) /* CWR: on the first piece only (RFC 3168 §6.1.2) */
			h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		h.gso_size = m->gso_size;
		h.hdr_len = (uint16_t)(start + (size_t)(tcp[12] >> 4) * 4);
		if (h.hdr_len > v[0].len) {
			t->stats.tx_errors++;
			return -EINVAL;
		}
		t->stats.tx_gso_frames++;
	}
	iov[0] = (struct iovec){&h, sizeof h};
	for (int k = 0; k < n; k++)
		iov[1 + k] = (struct iovec){(void *)v[k].base, v[k].len};
	return tx_iov(t, iov, 1 + n, sizeof h);
}

int synack_tun_tx_meta(void *ctx, const uint8_t *frame, size_t len, const synack_tx_meta *m)
{
	synack_iov whole = {frame, len};
	return synack_tun_tx_iov(ctx, &whole, 1, m);
}

void synack_tun_get_stats(const synack_tun *t, synack_tun_stats *out)
{
	*out = t->stats;
}
