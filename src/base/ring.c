/* Byte ring with lazy allocation that grows with use: the buffer is taken
 * when the first byte comes, at the size the bytes need (a power of two,
 * at least RING_FIRST), doubles as more come, up to the caller's limit,
 * and goes when the ring is empty. A connection that moves a few bytes
 * takes a few KiB, not its whole buffer (issue 12: a 256 KiB allocation
 * per connection and direction made the allocator grow and trim the heap
 * for every short connection). A ring that ran dry and fills again takes
 * the size it had at once: a stream that drains between bursts must not
 * grow (and copy) from a few KiB each time. */
#include <errno.h>
#include <string.h>

#include "base/base.h"

enum { RING_FIRST = 4096 };

/* The allocation for `need` bytes (at most `limit`): a power of two from
 * RING_FIRST; past `limit`, the limit rounded up to a quarter of that
 * power of two. Auto-tuning raises a limit in small steps: a ring sized
 * to the limit exactly grew (and copied what it held) at every one of
 * them, a few hundred times over a bulk transfer. */
static uint32_t ring_size(uint32_t need, uint32_t limit)
{
	uint64_t size = RING_FIRST;
	need = MIN(need, limit); /* a hint from a larger limit */
	while (size < need)
		size *= 2;
	if (size <= limit)
		return (uint32_t)size;
	uint64_t q = size / 4;
	return (uint32_t)MIN(size, ((uint64_t)limit + q - 1) / q * q);
}

/* Room for `need` bytes from the head, within `limit`: allocate or grow.
 * 0, -EINVAL (no limit) or -ENOMEM (what there is stays). */
static int ring_ensure(struct ring *r, struct mem *m, uint32_t limit, uint32_t need)
{
	if (limit == 0)
		return -EINVAL;
	need = MIN(need, limit);
	if (!r->buf) {
		size_t got;
		r->buf = mem_buf_get(m, ring_size(MAX(need, r->hint), limit), &got);
		if (!r->buf)
			return -ENOMEM;
		r->cap = (uint32_t)got;
		r->head = 0;
		return 0;
	}
	if (need <= r->cap)
		return 0;
	return ring_grow(r, m, ring_size(MAX(need, r->cap < UINT32_MAX / 2 ? 2 * r->cap : need), limit));
}

static void ring_copy_in(struct ring *r, uint32_t off, const uint8_t *src, uint32_t n)
{
	uint32_t pos = (r->head + off) % r->cap;
	uint32_t first = MIN(n, r->cap - pos);
	memcpy(r->buf + pos, src, first);
	memcpy(r->buf, src + first, n - first);
}

uint32_t ring_push(struct ring *r, struct mem *m, uint32_t cap, const void *src, uint32_t n)
{
	if (n == 0 || cap <= r->len)
		return 0;
	if (ring_ensure(r, m, cap, r->len + MIN(n, cap - r->len)) < 0 && !r->buf)
		return 0;
	n = MIN(n, MIN(cap, r->cap) - r->len);
	ring_copy_in(r, r->len, src, n);
	r->len += n;
	return n;
}

int ring_write_at(struct ring *r, struct mem *m, uint32_t cap, uint32_t off, const void *src, uint32_t n)
{
	if ((uint64_t)off + n > cap)
		return -ERANGE;
	int err = ring_ensure(r, m, cap, off + n);
	if (err)
		return err;
	if ((uint64_t)off + n > r->cap)
		return -ERANGE;
	ring_copy_in(r, off, src, n);
	return 0;
}

void ring_peek(const struct ring *r, uint32_t off, void *dst, uint32_t n)
{
	uint8_t *out = dst;
	uint32_t pos = (r->head + off) % r->cap;
	uint32_t first = MIN(n, r->cap - pos);
	memcpy(out, r->buf + pos, first);
	memcpy(out + first, r->buf, n - first);
}

uint32_t ring_view(const struct ring *r, uint32_t off, const uint8_t **p)
{
	*p = NULL;
	if (off >= r->len)
		return 0;
	uint32_t pos = (r->head + off) % r->cap;
	*p = r->buf + pos;
	return MIN(r->len - off, r->cap - pos);
}

void ring_consume(struct ring *r, struct mem *m, uint32_t n, bool keep)
{
	if (n > r->len)
		n = r->len;
	r->len -= n;
	if (r->cap)
		r->head = (r->head + n) % r->cap;
	if (r->len == 0 && !keep)
		ring_free(r, m);
}

int ring_grow(struct ring *r, struct mem *m, uint32_t cap)
{
	if (!r->buf || cap <= r->cap)
		return 0;
	size_t got;
	uint8_t *n = mem_buf_get(m, cap, &got);
	if (!n)
		return -ENOMEM;
	cap = (uint32_t)got;
	uint32_t first = r->cap - r->head;
	memcpy(n, r->buf + r->head, first);
	memcpy(n + first, r->buf, r->head);
	mem_buf_put(m, r->buf, r->cap);
	r->buf = n;
	r->cap = cap;
	r->head = 0;
	return 0;
}

void ring_free(struct ring *r, struct mem *m)
{
	if (r->buf)
		r->hint = r->cap;
	mem_buf_put(m, r->buf, r->cap);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}
