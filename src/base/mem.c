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
