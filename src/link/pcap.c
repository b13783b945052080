/* A pcap writer: the classic libpcap file format (magic 0xa1b2c3d4 in host
 * byte order, version 2.4, microsecond timestamps), LINKTYPE_RAW (101): each
 * record is one raw IPv4 or IPv6 packet, as the stack sends it.
 *
 * Errors are sticky: the first failure to write is kept, every later call
 * returns it, and synack_pcap_close() reports it (a failed buffered write
 * may only show when the file is flushed at close). */
#include "synack/link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define PCAP_MAGIC	   0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN	   65535u
#define LINKTYPE_RAW	   101u
#define USEC_PER_SEC	   1000000

struct synack_pcap {
	FILE *f;
	int err; /* first error, 0 if none */
};

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_record_header {
	uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

static int errno_or_eio(void)
{
	return errno ? -errno : -EIO;
}

/* Write all of buf or record the error. */
static int put(synack_pcap *p, const void *buf, size_t len)
{
	if (p->err)
		return p->err;
	errno = 0;
	if (len && fwrite(buf, len, 1, p->f) != 1)
		p->err = errno_or_eio();
	return p->err;
}

static int put_file_header(synack_pcap *p)
{
	struct pcap_file_header h = {
	    .magic = PCAP_MAGIC,
	    .version_major = PCAP_VERSION_MAJOR,
	    .version_minor = PCAP_VERSION_MINOR,
	    .snaplen = PCAP_SNAPLEN,
	    .linktype = LINKTYPE_RAW,
	};
	return put(p, &h, sizeof(h));
}

int synack_pcap_open(const char *path, synack_pcap **out)
{
	if (!path || !out)
		return -EINVAL;
	synack_pcap *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->f = fopen(path, "wbe");
	if (!p->f) {
		int err = errno_or_eio();
		free(p);
		return err;
	}
	int err = put_file_header(p);
	if (err < 0) {
		fclose(p->f);
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

int synack_pcap_write(synack_pcap *p, synack_time_t when, const uint8_t *frame, size_t len)
{
	if (!p || (!frame && len))
		return -EINVAL;
	if (when < 0)
		when = 0;
	size_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	struct pcap_record_header h = {
	    .ts_sec = (uint32_t)(when / USEC_PER_SEC), /* wraps in 2106, as the format does */
	    .ts_usec = (uint32_t)(when % USEC_PER_SEC),
	    .incl_len = (uint32_t)incl,
	    .orig_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len,
	};
	int err = put(p, &h, sizeof(h));
	return err < 0 ? err : put(p, frame, incl);
}

int synack_pcap_close(synack_pcap *p)
{
	if (!p)
		return 0;
	int err = p->err;
	errno = 0;
	if (fflush(p->f) != 0 && !err)
		err = errno_or_eio();
	errno = 0;
	if (fclose(p->f) != 0 && !err)
		err = errno_or_eio();
	free(p);
	return err;
}

/* Records the frame at *clock (0 without a clock), then forwards it. A
 * capture error never stops the frame: it stays sticky in the pcap and is
 * reported by synack_pcap_close(). */
int synack_pcap_tap_tx(void *tap, const uint8_t *frame, size_t len)
{
	synack_pcap_tap *t = tap;
	if (!t || !t->inner)
		return -EINVAL;
	if (t->pcap)
		(void)synack_pcap_write(t->pcap, t->clock ? *t->clock : 0, frame, len);
	return t->inner(t->inner_ctx, frame, len);
}
