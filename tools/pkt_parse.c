/* Parser for packetdrill-syntax scripts (see pkt_parse.h).
 *
 * Implementation notes.
 *
 * The lexer works on demand: `p->tok` always holds the next token (one token
 * of lookahead), and next() consumes it and lexes the one after. Whitespace,
 * `//` and block comments are skipped, and so are preprocessor lines
 * (`#ifdef NAME` ... `#else` ... `#endif`), which are only recognised as the
 * first thing on a line; text in a false branch is skipped line by line
 * without being lexed. A few parts of the grammar are not made of tokens:
 * TCP flags ("S.", "SEW", "-"), the text of an unknown TCP option ("FO
 * abcd", "md5 ...") and the note after a call's result ("(Operation now in
 * progress)"). For those the parser rewinds the lexer to the start of the
 * lookahead token and scans characters itself (scan_*), then lexes again.
 *
 * The grammar follows packetdrill's parser.y for the subset a TCP runner
 * needs: events are `TIME ACTION`, where TIME is `1.5`, `+0.1`, `*`, `a~b`,
 * `+a~+b` or `a...b`, and ACTION a TCP packet, a system call, a shell command
 * in backquotes or a `%{ code }%` block. Newlines are whitespace as in
 * packetdrill, except that an event must start on a new line: a token left
 * on the line of the previous event is an error ("expected end of line").
 *
 * Time ranges keep packetdrill's meaning: in "+a~+b" and "+a...b" both ends
 * are offsets from the same base (the previous event), so end_kind is
 * PKT_T_REL and end_us is b, not b after a. "a...b" with an absolute start is
 * absolute at both ends.
 *
 * Errors are sticky: the first one is formatted into p->err as
 * "path:line:col: expected ..., found ..." and every function returns -1
 * from then on. When the offending token is on a later line than the last
 * token consumed, the error is reported at the end of that last token and
 * the token described as "end of line". Memory is bounded by PKT_MAX_BYTES
 * of input, PKT_MAX_EVENTS events, MAX_DEPTH of nested expressions and
 * MAX_IFDEF of nested conditionals. */
#include "pkt_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/stack.h"

enum {
	MAX_IFDEF = 32,		 /* nested #ifdef */
	MAX_DEPTH = 16,		 /* nested [ ] and { } in call arguments */
	MAX_ITEMS = 4096,	 /* items in one argument list, array or struct */
	MAX_HDR = 256,		 /* header options */
	MAX_TIME_S = 1000000000, /* times are below this many seconds */
};

enum tok_kind {
	T_EOF,
	T_NUM,	    /* 12, 0x1f, 1.5 (is_dec set for a decimal point) */
	T_WORD,	    /* [A-Za-z_][A-Za-z0-9_]* */
	T_STRING,   /* "text": the span includes the quotes */
	T_SHELL,    /* `text`: the span includes the backquotes */
	T_CODE,	    /* %{ text }%: the span includes the delimiters */
	T_OPTION,   /* --name or --name=value */
	T_ELLIPSIS, /* ... */
	T_PUNCT,    /* any other single byte, in c */
};

struct tok {
	enum tok_kind kind;
	size_t start, end; /* byte span in the text */
	int line, col;	   /* position of the first byte */
	int c;		   /* T_PUNCT: the byte */
	uint64_t num;	   /* T_NUM without a decimal point */
	bool is_dec;	   /* T_NUM written with a decimal point */
	bool big;	   /* T_NUM too large for 64 bits */
};

struct cond {
	bool parent_active; /* the enclosing region is active */
	bool value;	    /* NAME is defined (inverted for #ifndef) */
	bool negate;	    /* #ifndef */
	bool in_else;
	int line, col;
};

struct parser {
	const char *name;
	const char *buf;
	size_t len;
	size_t pos;
	int line, col;
	bool bol;		 /* only blanks so far on the current line */
	struct tok tok;		 /* the lookahead */
	int prev_line, prev_col; /* end of the last consumed token */
	const char *const *defines;
	struct cond conds[MAX_IFDEF];
	int nconds;
	int depth; /* expression nesting */
	int ev_cap;
	struct pkt_script *s;
	char *err;
	size_t errlen;
	bool failed;
};

/* ---- errors ---- */

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = true;
	if (!p->err || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->name, line, col);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* True if the lookahead is on a later line than the last consumed token. */
static bool tok_on_new_line(const struct parser *p)
{
	return p->prev_line > 0 && p->tok.line > p->prev_line;
}

/* Describe the lookahead token for "found ..." into buf. */
static void describe(const struct parser *p, char *buf, size_t n)
{
	const struct tok *t = &p->tok;
	size_t w = t->end - t->start;

	if (t->kind == T_EOF)
		snprintf(buf, n, "end of file");
	else if (tok_on_new_line(p))
		snprintf(buf, n, "end of line");
	else if (t->kind == T_STRING)
		snprintf(buf, n, "a string");
	else if (t->kind == T_SHELL)
		snprintf(buf, n, "a shell command");
	else if (t->kind == T_CODE)
		snprintf(buf, n, "a code block");
	else if (t->kind == T_PUNCT && (t->c < 0x21 || t->c > 0x7e))
		snprintf(buf, n, "byte 0x%02x", (unsigned)t->c & 0xff);
	else
		snprintf(buf, n, "'%.*s%s'", (int)(w > 24 ? 24 : w), p->buf + t->start, w > 24 ? "..." : "");
}

/* "expected WHAT, found <lookahead>" at the lookahead (or the line's end). */
static int expected(struct parser *p, const char *what)
{
	char found[64];
	int line = p->tok.line, col = p->tok.col;

	describe(p, found, sizeof(found));
	if (tok_on_new_line(p)) {
		line = p->prev_line;
		col = p->prev_col;
	}
	return fail_at(p, line, col, "expected %s, found %s", what, found);
}

/* ---- characters ---- */

static int peekc(const struct parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->buf[p->pos + ahead] : -1;
}

static void adv(struct parser *p)
{
	if (p->pos >= p->len)
		return;
	if (p->buf[p->pos] == '\n') {
		p->line++;
		p->col = 1;
		p->bol = true;
	} else {
		p->col++;
	}
	p->pos++;
}

static void adv_n(struct parser *p, size_t n)
{
	while (n--)
		adv(p);
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void skip_blanks(struct parser *p)
{
	while (is_blank(peekc(p, 0)))
		adv(p);
}

static void skip_to_eol(struct parser *p)
{
	while (peekc(p, 0) != -1 && peekc(p, 0) != '\n')
		adv(p);
}

/* ---- preprocessor ---- */

static bool is_defined(const struct parser *p, const char *name, size_t n)
{
	for (const char *const *d = p->defines; d && *d; d++)
		if (strlen(*d) == n && memcmp(*d, name, n) == 0)
			return true;
	return false;
}

static bool region_active(const struct parser *p)
{
	const struct cond *c;

	if (p->nconds == 0)
		return true;
	c = &p->conds[p->nconds - 1];
	return c->parent_active && (c->in_else ? !c->value : c->value);
}

/* Scan a word at the current position; returns its length (0 if none). */
static size_t scan_word(struct parser *p, const char **w)
{
	size_t start = p->pos;

	*w = p->buf + p->pos;
	if (!is_alpha(peekc(p, 0)))
		return 0;
	while (is_alpha(peekc(p, 0)) || is_digit(peekc(p, 0)))
		adv(p);
	return p->pos - start;
}

/* After a directive: only blanks or a // comment may follow. */
static int directive_end(struct parser *p, bool active)
{
	skip_blanks(p);
	if (peekc(p, 0) == '/' && peekc(p, 1) == '/')
		skip_to_eol(p);
	if (peekc(p, 0) == -1 || peekc(p, 0) == '\n' || !active) {
		skip_to_eol(p);
		return 0;
	}
	return fail_at(p, p->line, p->col, "expected end of line after the directive, found '%c'",
		       peekc(p, 0) > 0x20 && peekc(p, 0) < 0x7f ? peekc(p, 0) : '?');
}

static int directive_if(struct parser *p, bool negate, int line, int col)
{
	const char *w;
	size_t n;
	struct cond *c;

	skip_blanks(p);
	n = scan_word(p, &w);
	if (n == 0 && region_active(p))
		return fail_at(p, p->line, p->col, "expected a name after #if%sdef", negate ? "n" : "");
	if (p->nconds == MAX_IFDEF)
		return fail_at(p, line, col, "#ifdef nested deeper than %d", MAX_IFDEF);
	c = &p->conds[p->nconds];
	c->parent_active = region_active(p);
	c->value = is_defined(p, w, n) != negate;
	c->negate = negate;
	c->in_else = false;
	c->line = line;
	c->col = col;
	p->nconds++;
	return directive_end(p, c->parent_active);
}

static int directive_else(struct parser *p, bool is_endif, int line, int col)
{
	const char *what = is_endif ? "#endif" : "#else";
	struct cond *c;
	bool was_active;

	if (p->nconds == 0)
		return fail_at(p, line, col, "%s without #ifdef or #ifndef", what);
	c = &p->conds[p->nconds - 1];
	was_active = c->parent_active;
	if (is_endif) {
		p->nconds--;
	} else {
		if (c->in_else)
			return fail_at(p, line, col, "#else after #else (the #ifdef is on line %d)", c->line);
		c->in_else = true;
	}
	return directive_end(p, was_active);
}

/* At a '#' first on its line: process the directive, consuming the line. */
static int directive(struct parser *p)
{
	int line = p->line, col = p->col;
	const char *w;
	size_t n;

	adv(p);
	n = scan_word(p, &w);
	if (n == 5 && memcmp(w, "ifdef", 5) == 0)
		return directive_if(p, false, line, col);
	if (n == 6 && memcmp(w, "ifndef", 6) == 0)
		return directive_if(p, true, line, col);
	if (n == 4 && memcmp(w, "else", 4) == 0)
		return directive_else(p, false, line, col);
	if (n == 5 && memcmp(w, "endif", 5) == 0)
		return directive_else(p, true, line, col);
	if (!region_active(p)) {
		skip_to_eol(p);
		return 0;
	}
	return fail_at(p, line, col, "expected #ifdef, #ifndef, #else or #endif, found '#%.*s'",
		       (int)(n > 24 ? 24 : n), w);
}

/* In a false branch: skip one line, or process it if it is a directive. */
static int skip_inactive_line(struct parser *p)
{
	skip_blanks(p);
	if (peekc(p, 0) == '#')
		return directive(p);
	skip_to_eol(p);
	if (peekc(p, 0) == '\n')
		adv(p);
	return 0;
}

/* ---- lexer ---- */

static int skip_block_comment(struct parser *p)
{
	int line = p->line, col = p->col;

	adv_n(p, 2);
	while (peekc(p, 0) != -1) {
		if (peekc(p, 0) == '*' && peekc(p, 1) == '/') {
			adv_n(p, 2);
			return 0;
		}
		adv(p);
	}
	return fail_at(p, line, col, "expected '*/' closing the comment, found end of file");
}

/* Skip blanks, newlines, comments and preprocessor lines. */
static int skip_space(struct parser *p)
{
	for (;;) {
		int c = peekc(p, 0);

		if (c == -1)
			return 0;
		if (!region_active(p)) {
			if (skip_inactive_line(p) < 0)
				return -1;
		} else if (is_blank(c) || c == '\n') {
			adv(p);
		} else if (c == '/' && peekc(p, 1) == '/') {
			skip_to_eol(p);
		} else if (c == '/' && peekc(p, 1) == '*') {
			if (skip_block_comment(p) < 0)
				return -1;
		} else if (c == '#' && p->bol) {
			if (directive(p) < 0)
				return -1;
		} else {
			return 0;
		}
	}
}

static void lex_number(struct parser *p, struct tok *t)
{
	uint64_t v = 0;
	bool hex = peekc(p, 0) == '0' && (peekc(p, 1) == 'x' || peekc(p, 1) == 'X') && is_xdigit(peekc(p, 2));
	unsigned base = hex ? 16 : 10;

	if (hex)
		adv_n(p, 2);
	while (hex ? is_xdigit(peekc(p, 0)) : is_digit(peekc(p, 0))) {
		int c = peekc(p, 0);
		unsigned d = is_digit(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);

		if (v > (UINT64_MAX - d) / base)
			t->big = true;
		v = v * base + d;
		adv(p);
	}
	t->num = v;
	if (!hex && peekc(p, 0) == '.' && is_digit(peekc(p, 1))) {
		t->is_dec = true;
		adv(p);
		while (is_digit(peekc(p, 0)))
			adv(p);
	}
}

/* Scan up to the closing delimiter `close` (1 or 2 bytes); multi_line
 * says whether newlines may occur inside. */
static int lex_delimited(struct parser *p, struct tok *t, const char *open, const char *close,
			 bool multi_line, const char *what)
{
	size_t cl = strlen(close);

	adv_n(p, strlen(open));
	for (;;) {
		int c = peekc(p, 0);

		if (c == -1 || (c == '\n' && !multi_line))
			return fail_at(p, t->line, t->col, "expected '%s' closing the %s, found end of %s",
				       close, what, c == -1 ? "file" : "line");
		if (c == (unsigned char)close[0] && (cl == 1 || peekc(p, 1) == (unsigned char)close[1])) {
			adv_n(p, cl);
			return 0;
		}
		if (c == '\\' && close[0] == '"' && peekc(p, 1) != -1 && peekc(p, 1) != '\n')
			adv(p);
		adv(p);
	}
}

/* "--name" or "--name=value" (value: up to a blank or newline). */
static void lex_option(struct parser *p)
{
	adv_n(p, 2);
	while (is_alpha(peekc(p, 0)) || is_digit(peekc(p, 0)) || peekc(p, 0) == '-')
		adv(p);
	if (peekc(p, 0) != '=')
		return;
	while (peekc(p, 0) != -1 && peekc(p, 0) != '\n' && !is_blank(peekc(p, 0)))
		adv(p);
}

static int lex_token(struct parser *p, struct tok *t)
{
	int c = peekc(p, 0), c1 = peekc(p, 1);

	if (c == -1) {
		t->kind = T_EOF;
	} else if (is_digit(c)) {
		t->kind = T_NUM;
		lex_number(p, t);
	} else if (is_alpha(c)) {
		t->kind = T_WORD;
		while (is_alpha(peekc(p, 0)) || is_digit(peekc(p, 0)))
			adv(p);
	} else if (c == '"') {
		t->kind = T_STRING;
		return lex_delimited(p, t, "\"", "\"", false, "string");
	} else if (c == '`') {
		t->kind = T_SHELL;
		return lex_delimited(p, t, "`", "`", false, "shell command");
	} else if (c == '%' && c1 == '{') {
		t->kind = T_CODE;
		return lex_delimited(p, t, "%{", "}%", true, "code block");
	} else if (c == '-' && c1 == '-' && is_alpha(peekc(p, 2))) {
		t->kind = T_OPTION;
		lex_option(p);
	} else if (c == '.' && c1 == '.' && peekc(p, 2) == '.') {
		t->kind = T_ELLIPSIS;
		adv_n(p, 3);
	} else {
		t->kind = T_PUNCT;
		t->c = c;
		adv(p);
	}
	return 0;
}

/* Lex the next token into p->tok. */
static int lex(struct parser *p)
{
	struct tok *t = &p->tok;

	if (p->failed)
		return -1;
	if (skip_space(p) < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	t->start = p->pos;
	t->line = p->line;
	t->col = p->col;
	p->bol = false;
	if (lex_token(p, t) < 0)
		return -1;
	t->end = p->pos;
	return 0;
}

/* Consume the lookahead. */
static int next(struct parser *p)
{
	p->prev_line = p->line;
	p->prev_col = p->col;
	/* p->line/col are just past the lookahead: the end of the consumed token. */
	return lex(p);
}

/* Move the lexer back to the start of the lookahead, for a raw scan. */
static void rewind_tok(struct parser *p)
{
	p->pos = p->tok.start;
	p->line = p->tok.line;
	p->col = p->tok.col;
}

/* After a raw scan: record where it ended and lex the next token. */
static int resume(struct parser *p)
{
	p->prev_line = p->line;
	p->prev_col = p->col;
	return lex(p);
}

static bool is_punct(const struct parser *p, int c)
{
	return p->tok.kind == T_PUNCT && p->tok.c == c;
}

static bool is_word(const struct parser *p, const char *w)
{
	size_t n = strlen(w);

	return p->tok.kind == T_WORD && p->tok.end - p->tok.start == n &&
	       memcmp(p->buf + p->tok.start, w, n) == 0;
}

/* Consume punctuation c or fail with "expected WHAT". */
static int expect_punct(struct parser *p, int c, const char *what)
{
	if (!is_punct(p, c))
		return expected(p, what);
	return next(p);
}

/* Copy the lookahead's text (without n_strip bytes at each end) into dst. */
static int tok_copy(struct parser *p, char *dst, size_t cap, size_t n_strip, const char *what)
{
	size_t n = p->tok.end - p->tok.start - 2 * n_strip;

	if (n >= cap)
		return fail_at(p, p->tok.line, p->tok.col, "%s longer than %zu characters", what, cap - 1);
	memcpy(dst, p->buf + p->tok.start + n_strip, n);
	dst[n] = '\0';
	return 0;
}

static char *dup_span(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int oom(struct parser *p)
{
	return fail_at(p, p->tok.line, p->tok.col, "out of memory");
}

/* ---- numbers ---- */

/* Consume an unsigned integer in [0, max] for WHAT. */
static int parse_uint(struct parser *p, uint64_t max, const char *what, uint64_t *out)
{
	char buf[96];

	if (p->tok.kind != T_NUM || p->tok.is_dec) {
		snprintf(buf, sizeof(buf), "%s (an integer)", what);
		return expected(p, buf);
	}
	if (p->tok.big || p->tok.num > max)
		return fail_at(p, p->tok.line, p->tok.col, "expected %s of at most %" PRIu64 ", found '%.*s'",
			       what, max,
			       (int)(p->tok.end - p->tok.start > 24 ? 24 : p->tok.end - p->tok.start),
			       p->buf + p->tok.start);
	*out = p->tok.num;
	return next(p);
}

static int parse_u32(struct parser *p, const char *what, uint32_t *out)
{
	uint64_t v;

	if (parse_uint(p, UINT32_MAX, what, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* An integer, possibly negative: "-1", "42", "0x02". */
static int parse_int(struct parser *p, const char *what, int64_t *out)
{
	bool neg = is_punct(p, '-');
	int line = p->tok.line, col = p->tok.col;
	uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t n;

	if (neg && next(p) < 0)
		return -1;
	if (p->tok.kind != T_NUM || p->tok.is_dec)
		return expected(p, what);
	n = p->tok.end - p->tok.start;
	if (p->tok.big || p->tok.num > max)
		return fail_at(p, line, col, "%s out of the 64-bit range, found '%s%.*s'", what,
			       neg ? "-" : "", (int)(n > 24 ? 24 : n), p->buf + p->tok.start);
	*out = neg ? (int64_t)(0 - p->tok.num) : (int64_t)p->tok.num;
	return next(p);
}

/* ---- header options ---- */

static int hdr_apply(struct parser *p, const struct pkt_header_opt *h, int line, int col)
{
	struct pkt_script *s = p->s;

	if (strcmp(h->name, "ip_version") == 0) {
		if (strcmp(h->value, "ipv4") == 0)
			s->ip_version = 4;
		else if (strcmp(h->value, "ipv6") == 0 || strcmp(h->value, "ipv4-mapped-ipv6") == 0)
			s->ip_version = 6;
		else
			return fail_at(p, line, col,
				       "expected --ip_version=ipv4, ipv6 or ipv4-mapped-ipv6, found '%s'",
				       h->value);
	} else if (strcmp(h->name, "tolerance_usecs") == 0) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(h->value, &end, 10);
		if (!is_digit((unsigned char)h->value[0]) || *end || errno || v > INT32_MAX)
			return fail_at(p, line, col, "expected --tolerance_usecs=MICROSECONDS, found '%s'",
				       h->value);
		s->tolerance_us = (int64_t)v;
	}
	return 0;
}

static int parse_header_opt(struct parser *p)
{
	struct pkt_script *s = p->s;
	const char *t = p->buf + p->tok.start + 2;
	size_t n = p->tok.end - p->tok.start - 2;
	const char *eq = memchr(t, '=', n);
	size_t nlen = eq ? (size_t)(eq - t) : n, vlen = eq ? n - nlen - 1 : 0;
	struct pkt_header_opt *h;

	if (s->nev > 0)
		return expected(p, "an event (header options come before the first event)");
	if (s->nhdr == MAX_HDR)
		return fail_at(p, p->tok.line, p->tok.col, "more than %d header options", MAX_HDR);
	if (nlen >= sizeof(h->name) || vlen >= sizeof(h->value))
		return fail_at(p, p->tok.line, p->tok.col, "header option too long");
	h = realloc(s->hdr, (size_t)(s->nhdr + 1) * sizeof(*h));
	if (!h)
		return oom(p);
	s->hdr = h;
	h = &s->hdr[s->nhdr++];
	memset(h, 0, sizeof(*h));
	memcpy(h->name, t, nlen);
	if (eq)
		memcpy(h->value, eq + 1, vlen);
	h->line = p->tok.line;
	if (hdr_apply(p, h, p->tok.line, p->tok.col) < 0)
		return -1;
	return next(p);
}

/* ---- time ---- */

/* A number of seconds ("1", "0.25") into microseconds. */
static int parse_seconds(struct parser *p, int64_t *us)
{
	const char *t = p->buf + p->tok.start;
	size_t n = p->tok.end - p->tok.start, i = 0;
	int64_t frac = 0, scale = 100000;

	if (p->tok.kind != T_NUM || (n > 1 && (t[1] == 'x' || t[1] == 'X')))
		return expected(p, "a time in seconds");
	if (p->tok.big || p->tok.num >= MAX_TIME_S)
		return fail_at(p, p->tok.line, p->tok.col, "time out of range (at most %d s)", MAX_TIME_S);
	while (i < n && t[i] != '.')
		i++;
	for (i++; i < n && scale > 0; i++, scale /= 10)
		frac += (t[i] - '0') * scale;
	*us = (int64_t)p->tok.num * 1000000 + frac;
	return next(p);
}

/* "[+]SECONDS" */
static int parse_time_point(struct parser *p, enum pkt_time_kind *kind, int64_t *us)
{
	*kind = PKT_T_ABS;
	if (is_punct(p, '+')) {
		*kind = PKT_T_REL;
		if (next(p) < 0)
			return -1;
	}
	return parse_seconds(p, us);
}

static int parse_time(struct parser *p, struct pkt_time *t)
{
	if (is_punct(p, '*')) {
		t->kind = PKT_T_ANY;
		return next(p);
	}
	if (p->tok.kind != T_NUM && !is_punct(p, '+'))
		return expected(p, "an event time ('1.5', '+0.1', '*')");
	if (parse_time_point(p, &t->kind, &t->us) < 0)
		return -1;
	if (!is_punct(p, '~') && p->tok.kind != T_ELLIPSIS)
		return 0;
	t->range = true;
	t->blocking = p->tok.kind == T_ELLIPSIS;
	if (next(p) < 0 || parse_time_point(p, &t->end_kind, &t->end_us) < 0)
		return -1;
	/* packetdrill shifts both ends of "+a...b" by the same base */
	if (t->blocking && t->kind == PKT_T_REL)
		t->end_kind = PKT_T_REL;
	if (t->end_kind == t->kind && t->end_us < t->us)
		return fail_at(p, p->prev_line, p->prev_col, "time range is backwards");
	return 0;
}

/* ---- packets ---- */

/* "[noecn]", "[ect0]", "[ect1]", "[ce]", "[ect01]" */
static int parse_ecn(struct parser *p, struct pkt_packet *pk)
{
	static const char *const tags[] = {"noecn", "ect0", "ect1", "ce", "ect01"};
	const char *what = "an ECN tag ([noecn], [ect0], [ect1], [ce] or [ect01])";
	size_t i;

	if (pk->ecn[0])
		return expected(p, "TCP flags (one ECN tag only)");
	if (next(p) < 0)
		return -1;
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (is_word(p, tags[i]))
			break;
	if (i == sizeof(tags) / sizeof(tags[0]))
		return expected(p, what);
	snprintf(pk->ecn, sizeof(pk->ecn), "[%s]", tags[i]);
	if (next(p) < 0)
		return -1;
	return expect_punct(p, ']', "']' closing the ECN tag");
}

static int flag_bit(int c)
{
	switch (c) {
	case 'S':
		return SYNACK_TCP_SYN;
	case 'F':
		return SYNACK_TCP_FIN;
	case 'R':
		return SYNACK_TCP_RST;
	case 'P':
		return SYNACK_TCP_PSH;
	case '.':
		return SYNACK_TCP_ACK;
	case 'U':
		return SYNACK_TCP_URG;
	case 'E':
		return SYNACK_TCP_ECE;
	case 'W':
		return SYNACK_TCP_CWR;
	default:
		return 0;
	}
}

/* Raw scan of "S.", "F.", "SEW", "." or "-". */
static int parse_flags(struct parser *p, struct pkt_packet *pk)
{
	const char *what = "TCP flags (S . F R P U E W, or -)";

	if (tok_on_new_line(p) || (p->tok.kind != T_WORD && !is_punct(p, '.') && !is_punct(p, '-')))
		return expected(p, what);
	rewind_tok(p);
	if (peekc(p, 0) == '-') {
		adv(p);
		return resume(p);
	}
	while (is_alpha(peekc(p, 0)) || is_digit(peekc(p, 0)) || peekc(p, 0) == '.') {
		int b = flag_bit(peekc(p, 0));

		if (!b)
			return fail_at(p, p->line, p->col, "expected %s, found '%c'", what, peekc(p, 0));
		pk->flags |= (uint8_t)b;
		adv(p);
	}
	return resume(p);
}

/* "start:end(len)" or "...(len)" */
static int parse_seq(struct parser *p, struct pkt_packet *pk)
{
	uint64_t len;

	if (p->tok.kind == T_ELLIPSIS) {
		if (next(p) < 0)
			return -1;
	} else {
		if (parse_u32(p, "a sequence number", &pk->seq_start) < 0 ||
		    expect_punct(p, ':', "':' in start:end(length)") < 0 ||
		    parse_u32(p, "an end sequence number", &pk->seq_end) < 0)
			return -1;
		pk->has_seq = true;
	}
	if (expect_punct(p, '(', "'(' in start:end(length)") < 0 ||
	    parse_uint(p, 65535, "a payload length", &len) < 0)
		return -1;
	pk->len = (uint32_t)len;
	if (pk->has_seq && pk->seq_end != (uint32_t)(pk->seq_start + pk->len))
		return fail_at(p, p->prev_line, p->prev_col,
			       "inconsistent sequence range: %" PRIu32 ":%" PRIu32 " is not %" PRIu32
			       " bytes",
			       pk->seq_start, pk->seq_end, pk->len);
	return expect_punct(p, ')', "')' in start:end(length)");
}

/* The text of an option we do not decode ("FO abcd", "md5 ..."). */
static int parse_opt_other(struct parser *p, struct pkt_opt *o)
{
	size_t start, n;

	rewind_tok(p);
	start = p->pos;
	while (peekc(p, 0) != -1 && peekc(p, 0) != '\n' && peekc(p, 0) != ',' && peekc(p, 0) != '>' &&
	       peekc(p, 0) != '<')
		adv(p);
	n = p->pos - start;
	while (n > 0 && is_blank((unsigned char)p->buf[start + n - 1]))
		n--;
	if (n >= sizeof(o->other))
		n = sizeof(o->other) - 1;
	o->kind = PKT_OPT_OTHER;
	memcpy(o->other, p->buf + start, n);
	o->other[n] = '\0';
	return resume(p);
}

static int parse_opt_sack(struct parser *p, struct pkt_opt *o)
{
	o->kind = PKT_OPT_SACK;
	if (next(p) < 0)
		return -1;
	do {
		uint32_t *b;

		if (o->nsack == 4)
			return expected(p, "',' or '>' (at most 4 SACK blocks)");
		b = o->sack[o->nsack];
		if (parse_u32(p, "a SACK block left edge", &b[0]) < 0 ||
		    expect_punct(p, ':', "':' in a SACK block") < 0 ||
		    parse_u32(p, "a SACK block right edge", &b[1]) < 0)
			return -1;
		o->nsack++;
	} while (p->tok.kind == T_NUM && !tok_on_new_line(p));
	return 0;
}

static int parse_opt_ts(struct parser *p, struct pkt_opt *o)
{
	o->kind = PKT_OPT_TS;
	if (next(p) < 0)
		return -1;
	if (!is_word(p, "val"))
		return expected(p, "'val' in 'TS val X ecr Y'");
	if (next(p) < 0 || parse_u32(p, "a TS value", &o->v1) < 0)
		return -1;
	if (!is_word(p, "ecr"))
		return expected(p, "'ecr' in 'TS val X ecr Y'");
	if (next(p) < 0)
		return -1;
	return parse_u32(p, "a TS echo reply", &o->v2);
}

/* synack: "raw HEX": option bytes as written (kind, length and all), even
 * malformed ones, e.g. "raw 0205" (an MSS of length 5). */
static int parse_opt_raw(struct parser *p, struct pkt_opt *o)
{
	const char *what = "hexadecimal bytes after 'raw' (e.g. raw 0204ffff)";

	o->kind = PKT_OPT_RAW;
	rewind_tok(p);
	adv_n(p, 3);
	while (is_blank(peekc(p, 0)))
		adv(p);
	while (is_xdigit(peekc(p, 0))) {
		int hi = peekc(p, 0), lo = peekc(p, 1);

		if (!is_xdigit(lo))
			return fail_at(p, p->line, p->col, "expected %s, found an odd number of digits",
				       what);
		if (o->nraw == sizeof(o->raw))
			return fail_at(p, p->line, p->col, "more than %zu raw option bytes", sizeof(o->raw));
		hi = is_digit(hi) ? hi - '0' : (hi | 0x20) - 'a' + 10;
		lo = is_digit(lo) ? lo - '0' : (lo | 0x20) - 'a' + 10;
		o->raw[o->nraw++] = (uint8_t)(hi << 4 | lo);
		adv_n(p, 2);
	}
	if (o->nraw && (peekc(p, 0) == ',' || peekc(p, 0) == '>' || is_blank(peekc(p, 0))))
		return resume(p);
	if (peekc(p, 0) == -1 || peekc(p, 0) == '\n')
		return fail_at(p, p->line, p->col, "expected %s, found end of line", what);
	return fail_at(p, p->line, p->col, "expected %s, found '%c'", what, peekc(p, 0));
}

/* One option keyword with the integer after it. */
static int parse_opt_num(struct parser *p, struct pkt_opt *o, enum pkt_opt_kind kind, uint64_t max,
			 const char *what)
{
	uint64_t v;

	o->kind = kind;
	if (next(p) < 0 || parse_uint(p, max, what, &v) < 0)
		return -1;
	o->v1 = (uint32_t)v;
	return 0;
}

static int parse_opt(struct parser *p, struct pkt_opt *o)
{
	if (p->tok.kind != T_WORD || tok_on_new_line(p))
		return expected(p, "a TCP option (nop, eol, mss, wscale, sackOK, sack, TS ...)");
	if (is_word(p, "nop") || is_word(p, "eol")) {
		o->kind = is_word(p, "nop") ? PKT_OPT_NOP : PKT_OPT_EOL;
		return next(p);
	}
	if (is_word(p, "sackOK")) {
		o->kind = PKT_OPT_SACKOK;
		return next(p);
	}
	if (is_word(p, "mss"))
		return parse_opt_num(p, o, PKT_OPT_MSS, 65535, "an MSS");
	if (is_word(p, "wscale"))
		return parse_opt_num(p, o, PKT_OPT_WSCALE, 255, "a window scale shift");
	if (is_word(p, "sack"))
		return parse_opt_sack(p, o);
	if (is_word(p, "TS"))
		return parse_opt_ts(p, o);
	if (is_word(p, "raw"))
		return parse_opt_raw(p, o);
	return parse_opt_other(p, o);
}

/* "<...>", "<>" or "<opt, opt ...>" */
static int parse_opts(struct parser *p, struct pkt_packet *pk)
{
	pk->has_opts = true;
	if (next(p) < 0)
		return -1;
	if (p->tok.kind == T_ELLIPSIS) {
		pk->opts_any = true;
		if (next(p) < 0)
			return -1;
		return expect_punct(p, '>', "'>' after '<...'");
	}
	if (is_punct(p, '>') && !tok_on_new_line(p))
		return next(p);
	for (;;) {
		if (pk->nopts == PKT_MAX_OPTS)
			return expected(p, "'>' (too many TCP options)");
		if (parse_opt(p, &pk->opts[pk->nopts++]) < 0)
			return -1;
		if (tok_on_new_line(p) || (!is_punct(p, ',') && !is_punct(p, '>')))
			return expected(p, "',' or '>' closing the TCP options");
		if (is_punct(p, '>'))
			return next(p);
		if (next(p) < 0)
			return -1;
	}
}

/* "ack N", "win N", "urg N" (each once). */
static int parse_pkt_field(struct parser *p, struct pkt_packet *pk)
{
	bool *has;
	uint32_t *v;
	uint64_t max = is_word(p, "ack") ? UINT32_MAX : 65535, x;
	const char *what = is_word(p, "ack")   ? "an ack number"
			   : is_word(p, "win") ? "a window"
					       : "an urgent pointer";

	if (is_word(p, "ack")) {
		has = &pk->has_ack;
		v = &pk->ack;
	} else if (is_word(p, "win")) {
		has = &pk->has_win;
		v = &pk->win;
	} else {
		has = &pk->has_urg;
		v = &pk->urg;
	}
	if (*has)
		return fail_at(p, p->tok.line, p->tok.col, "'%.3s' written twice in one packet",
			       p->buf + p->tok.start);
	*has = true;
	if (next(p) < 0 || parse_uint(p, max, what, &x) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* synack's inbound-only attributes: "sport N", "dport N", "badcsum". */
static int parse_pkt_attr(struct parser *p, struct pkt_packet *pk)
{
	bool csum = is_word(p, "badcsum"), src = is_word(p, "sport");
	bool *has = csum ? &pk->bad_csum : src ? &pk->has_sport : &pk->has_dport;
	const char *name = csum ? "badcsum" : src ? "sport" : "dport";
	uint64_t v;

	if (pk->dir != '<')
		return fail_at(p, p->tok.line, p->tok.col, "'%s' is for inbound packets ('<') only", name);
	if (*has)
		return fail_at(p, p->tok.line, p->tok.col, "'%s' written twice in one packet", name);
	*has = true;
	if (next(p) < 0)
		return -1;
	if (csum)
		return 0;
	if (parse_uint(p, 65535, "a port", &v) < 0)
		return -1;
	*(src ? &pk->sport : &pk->dport) = (uint16_t)v;
	return 0;
}

/* One IP field in "( ... )": "tos N", "ttl N" or "flowlabel N". */
static int parse_ip_field(struct parser *p, struct pkt_packet *pk)
{
	uint64_t v;
	bool tos = is_word(p, "tos"), ttl = is_word(p, "ttl");
	bool *has = tos ? &pk->has_tos : ttl ? &pk->has_ttl : &pk->has_flowlabel;

	if (!tos && !ttl && !is_word(p, "flowlabel"))
		return expected(p, "an IP field (tos, ttl or flowlabel)");
	if (*has)
		return fail_at(p, p->tok.line, p->tok.col, "an IP field written twice in one packet");
	*has = true;
	if (next(p) < 0 || parse_uint(p, tos || ttl ? 255 : 0xfffff, "an IP field value", &v) < 0)
		return -1;
	if (tos)
		pk->tos = (uint8_t)v;
	else if (ttl)
		pk->ttl = (uint8_t)v;
	else
		pk->flowlabel = (uint32_t)v;
	return 0;
}

/* "(tos 0x10)", "(ttl 64)", "(flowlabel 0x12345)", "(tos 0x10, ttl 64)" */
static int parse_ip_info(struct parser *p, struct pkt_packet *pk)
{
	if (next(p) < 0)
		return -1;
	for (;;) {
		if (tok_on_new_line(p) || parse_ip_field(p, pk) < 0)
			return p->failed ? -1 : expected(p, "an IP field (tos, ttl or flowlabel)");
		if (!is_punct(p, ','))
			return expect_punct(p, ')', "')' closing the IP fields");
		if (next(p) < 0)
			return -1;
	}
}

/* Is the lookahead '[' followed by a number ("[1:1461(1460)]")? */
static bool at_quoted_seq(const struct parser *p)
{
	size_t i = p->tok.end;

	if (!is_punct(p, '[') || tok_on_new_line(p))
		return false;
	while (i < p->len && is_blank((unsigned char)p->buf[i]))
		i++;
	return i < p->len && is_digit((unsigned char)p->buf[i]);
}

/* "[start:end(len)]": the TCP segment an ICMP error quotes. */
static int parse_quoted_seq(struct parser *p, struct pkt_packet *pk)
{
	if (pk->has_seq)
		return fail_at(p, p->tok.line, p->tok.col, "an ICMP line quotes one segment only");
	if (next(p) < 0 || parse_seq(p, pk) < 0)
		return -1;
	return expect_punct(p, ']', "']' closing the quoted segment");
}

/* A name or number of an ICMP type or code, as written. */
static int parse_icmp_word(struct parser *p, char *dst, size_t cap, const char *what)
{
	if (tok_on_new_line(p) || (p->tok.kind != T_WORD && p->tok.kind != T_NUM))
		return expected(p, what);
	if (tok_copy(p, dst, cap, 0, what) < 0)
		return -1;
	return next(p);
}

/* "icmp TYPE [CODE] [mtu N] [[start:end(len)]]" */
static int parse_icmp(struct parser *p, struct pkt_packet *pk)
{
	uint64_t v;

	pk->icmp = true;
	if (next(p) < 0 ||
	    parse_icmp_word(p, pk->icmp_type, sizeof(pk->icmp_type), "an ICMP type (unreachable ...)") < 0)
		return -1;
	if (!tok_on_new_line(p) && (p->tok.kind == T_NUM || (p->tok.kind == T_WORD && !is_word(p, "mtu"))) &&
	    parse_icmp_word(p, pk->icmp_code, sizeof(pk->icmp_code), "an ICMP code") < 0)
		return -1;
	if (is_word(p, "mtu") && !tok_on_new_line(p)) {
		pk->has_mtu = true;
		if (next(p) < 0 || parse_uint(p, 65535, "an MTU", &v) < 0)
			return -1;
		pk->mtu = (uint32_t)v;
	}
	if (at_quoted_seq(p))
		return parse_quoted_seq(p, pk);
	return 0;
}

static int parse_packet(struct parser *p, struct pkt_packet *pk)
{
	if (is_punct(p, '[') && parse_ecn(p, pk) < 0)
		return -1;
	if (!is_punct(p, '<') && !is_punct(p, '>'))
		return expected(p, "'<' or '>' (a packet's direction)");
	pk->dir = (char)p->tok.c;
	if (next(p) < 0)
		return -1;
	if (is_punct(p, '[') && !tok_on_new_line(p) && !at_quoted_seq(p) && parse_ecn(p, pk) < 0)
		return -1;
	if (is_punct(p, '(') && !tok_on_new_line(p) && parse_ip_info(p, pk) < 0)
		return -1;
	if (at_quoted_seq(p) && parse_quoted_seq(p, pk) < 0)
		return -1;
	if (is_word(p, "icmp") && !tok_on_new_line(p))
		return parse_icmp(p, pk);
	if (pk->has_seq)
		return expected(p, "'icmp' after a quoted segment");
	if (parse_flags(p, pk) < 0 || parse_seq(p, pk) < 0)
		return -1;
	while (!tok_on_new_line(p)) {
		if (is_word(p, "ack") || is_word(p, "win") || is_word(p, "urg")) {
			if (parse_pkt_field(p, pk) < 0)
				return -1;
		} else if (is_punct(p, '<') && !pk->has_opts) {
			if (parse_opts(p, pk) < 0)
				return -1;
		} else if (is_word(p, "sport") || is_word(p, "dport") || is_word(p, "badcsum")) {
			if (parse_pkt_attr(p, pk) < 0)
				return -1;
		} else {
			break;
		}
	}
	return 0;
}

/* ---- expressions (call arguments) ---- */

static void expr_free(struct pkt_expr *e)
{
	for (int i = 0; i < e->nitems; i++)
		expr_free(&e->items[i]);
	free(e->items);
	free(e->str);
	free(e->name);
	memset(e, 0, sizeof(*e));
}

static void exprs_free(struct pkt_expr *v, int n)
{
	for (int i = 0; i < n; i++)
		expr_free(&v[i]);
	free(v);
}

static int parse_expr(struct parser *p, struct pkt_expr *e);

/* Append a zeroed item to *v (of *n); NULL when out of memory or full. */
static struct pkt_expr *push_item(struct parser *p, struct pkt_expr **v, int *n)
{
	struct pkt_expr *nv;

	if (*n == MAX_ITEMS) {
		fail_at(p, p->tok.line, p->tok.col, "more than %d items in a list", MAX_ITEMS);
		return NULL;
	}
	nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
	if (!nv) {
		oom(p);
		return NULL;
	}
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	return &nv[(*n)++];
}

/* Is the lookahead a word followed by '=' on the same line ("l_onoff=1")? */
static bool at_member_name(const struct parser *p)
{
	size_t i = p->tok.end;

	if (p->tok.kind != T_WORD)
		return false;
	while (i < p->len && is_blank((unsigned char)p->buf[i]))
		i++;
	return i < p->len && p->buf[i] == '=';
}

static int parse_member(struct parser *p, struct pkt_expr *e, bool named)
{
	if (named && at_member_name(p)) {
		e->name = dup_span(p->buf + p->tok.start, p->tok.end - p->tok.start);
		if (!e->name)
			return oom(p);
		if (next(p) < 0 || next(p) < 0) /* the name, then '=' */
			return -1;
	}
	return parse_expr(p, e);
}

/* Items up to `close` (after the opening bracket); on failure frees them. */
static int parse_items(struct parser *p, int close, bool named, struct pkt_expr **v, int *n)
{
	const char *what = close == ')' ? "',' or ')'" : close == ']' ? "',' or ']'" : "',' or '}'";

	*v = NULL;
	*n = 0;
	if (is_punct(p, close))
		return next(p);
	for (;;) {
		struct pkt_expr *e = push_item(p, v, n);

		if (!e || parse_member(p, e, named) < 0)
			break;
		if (is_punct(p, close))
			return next(p);
		if (!is_punct(p, ',')) {
			expected(p, what);
			break;
		}
		if (next(p) < 0)
			break;
	}
	exprs_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

static int parse_list(struct parser *p, struct pkt_expr *e, enum pkt_expr_kind kind)
{
	int close = kind == PKT_X_ARRAY ? ']' : '}';
	int r;

	if (p->depth == MAX_DEPTH)
		return fail_at(p, p->tok.line, p->tok.col, "expressions nested deeper than %d", MAX_DEPTH);
	e->kind = kind;
	p->depth++;
	r = next(p);
	if (r == 0)
		r = parse_items(p, close, kind == PKT_X_STRUCT, &e->items, &e->nitems);
	p->depth--;
	return r;
}

/* Decode a string literal's escapes; the span includes the quotes. */
static char *decode_string(const char *s, size_t n)
{
	char *d = malloc(n);
	size_t i, o = 0;

	if (!d)
		return NULL;
	for (i = 1; i + 1 < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 2 < n) {
			c = s[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? '\0' : c;
		}
		d[o++] = c;
	}
	d[o] = '\0';
	return d;
}

static int parse_atom(struct parser *p, struct pkt_expr *e)
{
	const struct tok *t = &p->tok;

	if (t->kind == T_ELLIPSIS) {
		e->kind = PKT_X_ELLIPSIS;
		return next(p);
	}
	if (t->kind == T_NUM || is_punct(p, '-')) {
		e->kind = PKT_X_INT;
		return parse_int(p, "an integer", &e->num);
	}
	if (t->kind == T_WORD || t->kind == T_STRING) {
		e->kind = t->kind == T_WORD ? PKT_X_IDENT : PKT_X_STRING;
		e->str = t->kind == T_WORD ? dup_span(p->buf + t->start, t->end - t->start)
					   : decode_string(p->buf + t->start, t->end - t->start);
		if (!e->str)
			return oom(p);
		return next(p);
	}
	if (is_punct(p, '['))
		return parse_list(p, e, PKT_X_ARRAY);
	if (is_punct(p, '{'))
		return parse_list(p, e, PKT_X_STRUCT);
	return expected(p, "an expression (a number, '...', a name, a string, [ ] or { })");
}

/* atom ('|' atom)*: several operands become one PKT_X_OR. */
static int parse_expr(struct parser *p, struct pkt_expr *e)
{
	struct pkt_expr first = {0}, *it;

	if (parse_atom(p, &first) < 0) {
		expr_free(&first);
		return -1;
	}
	if (!is_punct(p, '|')) {
		char *name = e->name;

		*e = first;
		e->name = name;
		return 0;
	}
	e->kind = PKT_X_OR;
	it = push_item(p, &e->items, &e->nitems);
	if (!it) {
		expr_free(&first);
		return -1;
	}
	*it = first;
	while (is_punct(p, '|')) {
		if (next(p) < 0 || !(it = push_item(p, &e->items, &e->nitems)) || parse_atom(p, it) < 0)
			return -1;
	}
	return 0;
}

/* ---- calls ---- */

/* The parenthesised text after a result: "(Operation now in progress)". */
static int parse_note(struct parser *p, struct pkt_call *c)
{
	int line = p->tok.line, col = p->tok.col, level = 1;
	size_t start, n;

	rewind_tok(p);
	adv(p);
	start = p->pos;
	for (;;) {
		int ch = peekc(p, 0);

		if (ch == -1 || ch == '\n')
			return fail_at(p, line, col, "expected ')' closing the note, found end of %s",
				       ch == -1 ? "file" : "line");
		level += ch == '(' ? 1 : ch == ')' ? -1 : 0;
		if (level == 0)
			break;
		adv(p);
	}
	n = p->pos - start;
	while (n > 0 && is_blank((unsigned char)p->buf[start]))
		start++, n--;
	while (n > 0 && is_blank((unsigned char)p->buf[start + n - 1]))
		n--;
	if (n >= sizeof(c->note))
		n = sizeof(c->note) - 1;
	memcpy(c->note, p->buf + start, n);
	c->note[n] = '\0';
	adv(p);
	return resume(p);
}

/* "= RESULT [ERRNO] [(note)]" */
static int parse_result(struct parser *p, struct pkt_call *c)
{
	if (tok_on_new_line(p) || !is_punct(p, '='))
		return expected(p, "'=' and the call's result");
	if (next(p) < 0)
		return -1;
	if (p->tok.kind == T_ELLIPSIS && !tok_on_new_line(p)) {
		c->ret.kind = PKT_X_ELLIPSIS;
		if (next(p) < 0)
			return -1;
	} else {
		if (tok_on_new_line(p))
			return expected(p, "the call's result");
		c->ret.kind = PKT_X_INT;
		if (parse_int(p, "the call's result", &c->ret.num) < 0)
			return -1;
	}
	if (p->tok.kind == T_WORD && !tok_on_new_line(p)) {
		if (tok_copy(p, c->err, sizeof(c->err), 0, "an errno name") < 0 || next(p) < 0)
			return -1;
	}
	if (is_punct(p, '(') && !tok_on_new_line(p))
		return parse_note(p, c);
	return 0;
}

static int parse_call(struct parser *p, struct pkt_call *c)
{
	if (tok_copy(p, c->name, sizeof(c->name), 0, "a system call name") < 0 || next(p) < 0)
		return -1;
	if (tok_on_new_line(p) || !is_punct(p, '('))
		return expected(p, "'(' after the system call name");
	if (next(p) < 0 || parse_items(p, ')', false, &c->args, &c->nargs) < 0)
		return -1;
	return parse_result(p, c);
}

/* ---- events ---- */

static void event_free(struct pkt_event *e)
{
	exprs_free(e->call.args, e->call.nargs);
	e->call.args = NULL;
	e->call.nargs = 0;
	free(e->text);
	e->text = NULL;
}

/* The text of a shell command or code block (without delimiters). */
static int parse_text_event(struct parser *p, struct pkt_event *e)
{
	size_t strip = p->tok.kind == T_SHELL ? 1 : 2;
	const char *s = p->buf + p->tok.start + strip;
	size_t n = p->tok.end - p->tok.start - 2 * strip;

	e->kind = p->tok.kind == T_SHELL ? PKT_EV_SHELL : PKT_EV_CODE;
	if (e->kind == PKT_EV_CODE) {
		while (n > 0 && (is_blank((unsigned char)*s) || *s == '\n'))
			s++, n--;
		while (n > 0 && (is_blank((unsigned char)s[n - 1]) || s[n - 1] == '\n'))
			n--;
	}
	e->text = dup_span(s, n);
	if (!e->text)
		return oom(p);
	return next(p);
}

static int parse_action(struct parser *p, struct pkt_event *e)
{
	if (tok_on_new_line(p))
		return expected(p, "an action after the event time");
	if (e->time.blocking && p->tok.kind != T_WORD)
		return expected(p, "a system call after a blocking time 'a...b'");
	switch (p->tok.kind) {
	case T_WORD:
		e->kind = PKT_EV_CALL;
		return parse_call(p, &e->call);
	case T_SHELL:
	case T_CODE:
		return parse_text_event(p, e);
	case T_PUNCT:
		if (p->tok.c == '<' || p->tok.c == '>' || p->tok.c == '[') {
			e->kind = PKT_EV_PACKET;
			return parse_packet(p, &e->pkt);
		}
		break;
	default:
		break;
	}
	return expected(p, "a packet ('<' or '>'), a system call, a `shell command` or %{ code }%");
}

static struct pkt_event *new_event(struct parser *p)
{
	struct pkt_script *s = p->s;

	if (s->nev == PKT_MAX_EVENTS) {
		fail_at(p, p->tok.line, p->tok.col, "more than %d events", PKT_MAX_EVENTS);
		return NULL;
	}
	if (s->nev == p->ev_cap) {
		int cap = p->ev_cap ? p->ev_cap * 2 : 64;
		struct pkt_event *v;

		if (cap > PKT_MAX_EVENTS)
			cap = PKT_MAX_EVENTS;
		v = realloc(s->ev, (size_t)cap * sizeof(*v));
		if (!v) {
			oom(p);
			return NULL;
		}
		s->ev = v;
		p->ev_cap = cap;
	}
	memset(&s->ev[s->nev], 0, sizeof(s->ev[0]));
	return &s->ev[s->nev];
}

static int parse_event(struct parser *p)
{
	struct pkt_event *e = new_event(p);

	if (!e)
		return -1;
	e->line = p->tok.line;
	e->col = p->tok.col;
	if (parse_time(p, &e->time) < 0 || parse_action(p, e) < 0) {
		event_free(e);
		return -1;
	}
	p->s->nev++;
	if (p->tok.kind != T_EOF && !tok_on_new_line(p))
		return expected(p, "end of line after the event");
	return 0;
}

static int parse_script(struct parser *p)
{
	if (lex(p) < 0)
		return -1;
	while (p->tok.kind != T_EOF) {
		int r;

		p->prev_line = 0; /* a new line is expected here, not an error */
		r = p->tok.kind == T_OPTION ? parse_header_opt(p) : parse_event(p);
		if (r < 0)
			return -1;
	}
	if (p->nconds > 0) {
		const struct cond *c = &p->conds[p->nconds - 1];

		return fail_at(p, c->line, c->col, "expected #endif for this #if%sdef, found end of file",
			       c->negate ? "n" : "");
	}
	return 0;
}

/* ---- entry points ---- */

static int check_defines(const char *name, const char *const *defines, char *err, size_t errlen)
{
	int n = 0;

	for (const char *const *d = defines; d && *d; d++)
		n++;
	if (n <= PKT_MAX_DEFINES)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s:1:1: more than %d defines", name, PKT_MAX_DEFINES);
	return -1;
}

int pkt_parse_text(const char *name, const char *text, size_t len, const char *const *defines,
		   struct pkt_script *out, char *err, size_t errlen)
{
	struct parser p = {0};

	memset(out, 0, sizeof(*out));
	out->tolerance_us = 4000;
	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "<script>";
	if (check_defines(name, defines, err, errlen) < 0)
		return -1;
	if (len > PKT_MAX_BYTES) {
		if (err && errlen)
			snprintf(err, errlen, "%s:1:1: script larger than %d bytes", name, PKT_MAX_BYTES);
		return -1;
	}
	p = (struct parser){.name = name,
			    .buf = text,
			    .len = text ? len : 0,
			    .line = 1,
			    .col = 1,
			    .bol = true,
			    .defines = defines,
			    .s = out,
			    .err = err,
			    .errlen = errlen};
	out->path = dup_span(name, strlen(name));
	if (!out->path || parse_script(&p) < 0) {
		if (!out->path)
			fail_at(&p, 1, 1, "out of memory");
		pkt_script_free(out);
		return -1;
	}
	return 0;
}

/* Read at most PKT_MAX_BYTES + 1 bytes of f into a new buffer. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t want = cap - n, got;

		got = fread(buf + n, 1, want, f);
		n += got;
		if (got < want || n > PKT_MAX_BYTES)
			break;
		char *nb = cap > PKT_MAX_BYTES ? NULL : realloc(buf, cap * 2);

		if (!nb) {
			free(buf);
			return NULL;
		}
		buf = nb;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int pkt_parse_file(const char *path, const char *const *defines, struct pkt_script *out, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0;
	char *buf;
	int r, e;

	memset(out, 0, sizeof(*out));
	if (!f) {
		e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s:1:1: cannot open: %s", path, strerror(e));
		return -1;
	}
	buf = read_all(f, &len);
	e = errno;
	fclose(f);
	if (!buf) {
		if (err && errlen)
			snprintf(err, errlen, "%s:1:1: cannot read: %s", path, strerror(e));
		return -1;
	}
	r = pkt_parse_text(path, buf, len, defines, out, err, errlen);
	free(buf);
	return r;
}

void pkt_script_free(struct pkt_script *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nev; i++)
		event_free(&s->ev[i]);
	free(s->ev);
	free(s->hdr);
	free(s->path);
	memset(s, 0, sizeof(*s));
	s->tolerance_us = 4000;
}
