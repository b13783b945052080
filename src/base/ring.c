/* Byte ring with lazy allocation. */
#include <errno.h>
#include <string.h>

#include "base/base.h"

static int ring_ensure(struct ring *r, struct mem *m, uint32_t cap)
{
	if (r->buf)
		return 0;
	if (cap == 0)
		return -EINVAL;
	r->buf = mem_alloc_raw(m, cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = cap;
	r->head = 0;
	return 0;
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
	if (n == 0 || ring_ensure(r, m, cap) < 0)
		return 0;
	n = MIN(n, r->cap - r->len);
	ring_copy_in(r, r->len, src, n);
	r->len += n;
	return n;
}

int ring_write_at(struct ring *r, struct mem *m, uint32_t cap, uint32_t off, const void *src, uint32_t n)
{
	int err = ring_ensure(r, m, cap);
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
	uint8_t *n = mem_alloc_raw(m, cap);
	if (!n)
		return -ENOMEM;
	uint32_t first = r->cap - r->head;
	memcpy(n, r->buf + r->head, first);
	memcpy(n + first, r->buf, r->head);
	mem_free(m, r->buf, r->cap);
	r->buf = n;
	r->cap = cap;
	r->head = 0;
	return 0;
}

void ring_free(struct ring *r, struct mem *m)
{
	mem_free(m, r->buf, r->cap);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}
