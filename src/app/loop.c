/* The event loop for real links (include/synack/loop.h).
 *
 * Implementation notes
 *
 * One epoll set holds the link descriptor, a timerfd and the caller's
 * descriptors; epoll_event.data.u64 carries what each one is (high 32
 * bits) and the caller's tag (low 32 bits). The timerfd is armed with an
 * absolute CLOCK_MONOTONIC time equal to the stack's next deadline, which
 * is why synack_clock_now() reads the same clock: a deadline computed by
 * the stack in microseconds is a point on the timerfd's clock. It is
 * re-armed only when the deadline changes (most calls change nothing).
 *
 * Link input is drained up to FRAMES_PER_ROUND frames per call so that a
 * flood cannot starve the caller's events; epoll is level-triggered, so
 * what is left is seen at the next call.
 *
 * With an impairer (synack_loop_set_impairer) the timer is armed at the
 * earlier of the stack's and the impairer's deadlines, link frames go to
 * the impairer, and due copies are flushed (TX to the link, RX to the
 * stack) before the stack's timers run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "synack/loop.h"

enum { SRC_LINK = 1, SRC_TIMER = 2, SRC_WATCH = 3 };
enum { FRAMES_PER_ROUND = 256, MAX_EVENTS = 32, MAX_ALWAYS = 8 };

struct synack_loop {
	synack_stack *st;
	int epfd, tfd, link_fd;
	synack_link_read_fn rd;
	synack_link_read_flags_fn rdf; /* or NULL */
	void *rd_ctx;
	uint8_t *buf;
	size_t cap;
	synack_time_t armed;	   /* deadline the timerfd is set to */
	int always_fd[MAX_ALWAYS]; /* descriptors epoll refused: always ready */
	int always_tag[MAX_ALWAYS];
	int nalways;
	uint64_t frames_in;
	synack_impairer *im; /* or NULL */
};

synack_time_t synack_clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (synack_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void synack_os_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no randomness at all: nothing safe to do */
		}
		p += n;
		len -= (size_t)n;
	}
}

synack_rng synack_os_rng(void)
{
	return (synack_rng){.fill = synack_os_random, .ctx = NULL};
}

void synack_random_mac(uint8_t mac[6])
{
	synack_os_random(NULL, mac, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
}

static int ep_add(int epfd, int fd, uint32_t src, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)src << 32) | tag};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int synack_loop_create(synack_stack *st, int link_fd, synack_link_read_fn rd, void *rd_ctx, size_t frame_cap,
		       synack_loop **out)
{
	*out = NULL;
	synack_loop *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->st = st;
	l->link_fd = link_fd;
	l->rd = rd;
	l->rd_ctx = rd_ctx;
	l->cap = frame_cap;
	l->armed = SYNACK_TIME_NEVER;
	l->buf = malloc(frame_cap);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int err = (!l->buf || l->epfd < 0 || l->tfd < 0) ? -ENOMEM : 0;
	if (!err)
		err = ep_add(l->epfd, link_fd, SRC_LINK, 0);
	if (!err)
		err = ep_add(l->epfd, l->tfd, SRC_TIMER, 0);
	if (err) {
		synack_loop_destroy(l);
		return err;
	}
	*out = l;
	return 0;
}

void synack_loop_destroy(synack_loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l->buf);
	free(l);
}

int synack_loop_watch(synack_loop *l, int fd, int tag)
{
	int err = ep_add(l->epfd, fd, SRC_WATCH, (uint32_t)tag);
	if (err != -EPERM)
		return err;
	if (l->nalways == MAX_ALWAYS)
		return -ENOSPC;
	l->always_fd[l->nalways] = fd;
	l->always_tag[l->nalways++] = tag;
	return 0;
}

int synack_loop_unwatch(synack_loop *l, int fd)
{
	for (int i = 0; i < l->nalways; i++) {
		if (l->always_fd[i] != fd)
			continue;
		l->nalways--;
		l->always_fd[i] = l->always_fd[l->nalways];
		l->always_tag[i] = l->always_tag[l->nalways];
		return 0;
	}
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

uint64_t synack_loop_frames_in(const synack_loop *l)
{
	return l->frames_in;
}

static synack_time_t next_deadline(const synack_loop *l)
{
	synack_time_t dl = synack_stack_next_deadline(l->st);
	synack_time_t di = synack_impairer_next_deadline(l->im);
	return di < dl ? di : dl;
}

/* Flush the impairer's due copies, then run the stack's due timers. */
static void run_due(synack_loop *l, synack_time_t now)
{
	if (l->im)
		synack_impairer_flush(l->im, now);
	if (synack_stack_next_deadline(l->st) <= now)
		synack_stack_poll(l->st, now);
}

/* Run what is due, then set the timerfd to the next deadline. */
static void arm_timer(synack_loop *l)
{
	synack_time_t dl = next_deadline(l);
	if (dl != SYNACK_TIME_NEVER && dl <= synack_clock_now()) {
		run_due(l, synack_clock_now());
		dl = next_deadline(l);
	}
	if (dl == l->armed)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof its);
	if (dl != SYNACK_TIME_NEVER) {
		its.it_value.tv_sec = dl / 1000000;
		its.it_value.tv_nsec = (long)(dl % 1000000) * 1000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* zero would disarm */
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed = dl;
}

static void stack_rx(void *ctx, const uint8_t *frame, size_t len, synack_time_t now)
{
	synack_stack_input(ctx, frame, len, now);
}

void synack_loop_set_impairer(synack_loop *l, synack_impairer *im)
{
	l->im = im;
	if (im)
		synack_impairer_set_rx(im, stack_rx, l->st);
}

void synack_loop_set_read_flags(synack_loop *l, synack_link_read_flags_fn rdf)
{
	l->rdf = rdf;
}

static int drain_link(synack_loop *l)
{
	for (int i = 0; i < FRAMES_PER_ROUND; i++) {
		uint32_t flags = 0;
		ssize_t n =
		    l->rdf ? l->rdf(l->rd_ctx, l->buf, l->cap, &flags) : l->rd(l->rd_ctx, l->buf, l->cap);
		if (n == -EAGAIN)
			return 0;
		if (n == -EPROTO)
			continue; /* one malformed read (counted by the link), not the end */
		if (n < 0)
			return (int)n;
		l->frames_in++;
		if (l->im)
			synack_impairer_rx(l->im, l->buf, (size_t)n, synack_clock_now());
		else
			synack_stack_input_flags(l->st, l->buf, (size_t)n, flags, synack_clock_now());
	}
	return 0;
}

static void clear_timer(synack_loop *l)
{
	uint64_t expirations;
	if (read(l->tfd, &expirations, sizeof expirations) < 0) {
		/* EAGAIN: already cleared */
	}
	l->armed = -1; /* expired: re-arm even if the deadline is unchanged */
}

int synack_loop_run_once(synack_loop *l, int timeout_ms, int *ready, int max)
{
	struct epoll_event evs[MAX_EVENTS];
	arm_timer(l);
	if (l->nalways)
		timeout_ms = 0;
	int n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	int nready = 0, err = 0;
	for (int i = 0; i < n; i++) {
		uint32_t src = (uint32_t)(evs[i].data.u64 >> 32);
		if (src == SRC_LINK)
			err = drain_link(l);
		else if (src == SRC_TIMER)
			clear_timer(l);
		else if (nready < max)
			ready[nready++] = (int)(uint32_t)evs[i].data.u64;
	}
	run_due(l, synack_clock_now());
	for (int i = 0; i < l->nalways && nready < max; i++)
		ready[nready++] = l->always_tag[i];
	return err < 0 ? err : nready;
}
