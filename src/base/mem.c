/* Counted allocator. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void mem_init(struct mem *m, const synack_allocator *a)
{
	memset(m, 0, sizeof *m);
	if (a)
		m->a = *a;
}

void *mem_alloc_raw(struct mem *m, size_t size)
{
	void *p = m->a.alloc ? m->a.alloc(m->a.ctx, size) : malloc(size);
	if (!p)
		return NULL;
	m->bytes += size;
	m->blocks++;
	return p;
}

void *mem_alloc(struct mem *m, size_t size)
{
	void *p = mem_alloc_raw(m, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void *mem_buf_get(struct mem *m, size_t size, size_t *got)
{
	size_t best = m->ncache;
	for (size_t i = 0; i < m->ncache; i++) /* the smallest that fits, at most twice the size */
		if (m->cache[i].size >= size && m->cache[i].size / 2 <= size &&
		    (best == m->ncache || m->cache[i].size < m->cache[best].size))
			best = i;
	if (best < m->ncache) {
		void *p = m->cache[best].p;
		*got = m->cache[best].size;
		m->cached -= *got;
		m->cache[best] = m->cache[--m->ncache];
		return p;
	}
	*got = size;
	return mem_alloc_raw(m, size);
}

void mem_buf_put(struct mem *m, void *p, size_t size)
{
	if (!p)
		return;
	if (size < MEM_CACHE_MIN || size > MEM_CACHE_BYTES) {
		mem_free(m, p, size);
		return;
	}
	/* room: give back the smallest kept ones while they are smaller */
	while (m->ncache == MEM_CACHE_SLOTS || m->cached + size > MEM_CACHE_BYTES) {
		size_t small = 0;
		for (size_t i = 1; i < m->ncache; i++)
			if (m->cache[i].size < m->cache[small].size)
				small = i;
		if (m->cache[small].size >= size) {
			mem_free(m, p, size);
			return;
		}
		mem_free(m, m->cache[small].p, m->cache[small].size);
		m->cached -= m->cache[small].size;
		m->cache[small] = m->cache[--m->ncache];
	}
	m->cache[m->ncache].p = p;
	m->cache[m->ncache].size = size;
	m->ncache++;
	m->cached += size;
}

void mem_buf_drain(struct mem *m)
{
	while (m->ncache > 0) {
		m->ncache--;
		mem_free(m, m->cache[m->ncache].p, m->cache[m->ncache].size);
	}
	m->cached = 0;
}

void mem_free(struct mem *m, void *p, size_t size)
{
	if (!p)
		return;
	m->bytes -= size;
	m->blocks--;
	if (m->a.free)
		m->a.free(m->a.ctx, p, size);
	else
		free(p);
}
