/* Bounded byte builder: every byte this stack writes toward the wire goes
 * through one (DESIGN.md, "Every write toward the wire is bounded").
 *
 * Implementation notes. The builder is a pointer, a capacity, a length and
 * a sticky overflow flag, as picotls's ptls_buffer_t and BearSSL's sticky
 * errors. A write that does not fit writes nothing and sets the flag; every
 * later write is then a no-op, so emitters write straight through and the
 * caller checks once, at the end, before anything leaves. Length-prefixed
 * vectors (TCP never needs them, TLS everywhere) reserve their prefix when
 * opened and back-patch it when closed, so nobody computes a length by
 * hand; a vector longer than its prefix can say is an overflow too. The
 * small writers are inline in base.h: every header field of every segment
 * passes through them. */
#include <string.h>

#include "base/base.h"

size_t bbuf_vec_open(struct bbuf *b, unsigned width)
{
	size_t mark = b->len;
	bbuf_zero(b, width);
	return mark;
}

void bbuf_vec_close(struct bbuf *b, size_t mark, unsigned width)
{
	if (b->overflow)
		return;
	size_t n = b->len - mark - width;
	if (width < sizeof(size_t) && n >> (8 * width)) {
		b->overflow = true;
		return;
	}
	for (unsigned i = 0; i < width; i++)
		b->p[mark + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

#ifdef SYNACK_DEBUG
#include <stdio.h>
#include <stdlib.h>

void synack_debug_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "synack: BUG at %s:%d: %s\n", file, line, what);
	abort();
}
#endif
