/* `synack ping`: ICMP or ICMPv6 echo requests from synack's own address,
 * replies as the stack recorded them (synack_stack_ping_reply). Output in
 * the format of iputils ping. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netcmd.h"

enum { OPT_HELP = NOPT_FIRST_FREE, OPT_COUNT, OPT_SIZE, OPT_INTERVAL, OPT_WAIT };
enum { SENT_SLOTS = 1024 };
#define MAX_SECONDS 3600.0 /* for -i and -W: an hour */

static const struct cli_opt opts[] = {
    NET_CLI_OPTS,
    {"help", false, OPT_HELP},
    {"count", true, OPT_COUNT},
    {"size", true, OPT_SIZE},
    {"interval", true, OPT_INTERVAL},
    {"wait", true, OPT_WAIT},
    {NULL, false, 0},
};

static const char *const shorts[][2] = {
    {"-c", "--count"}, {"-s", "--size"}, {"-i", "--interval"}, {"-W", "--wait"}, {NULL, NULL},
};

struct pinger {
	struct net_env env;
	synack_addr dst;
	char dst_text[64];
	uint64_t count; /* 0: until interrupted */
	uint64_t size;
	synack_time_t interval, wait; /* microseconds */
	uint16_t id;
	uint64_t sent, received;
	synack_time_t sent_at[SENT_SLOTS];
	double rtt_min, rtt_max, rtt_sum;
};

void cmd_ping_usage(FILE *out)
{
	fprintf(out,
		"usage: synack ping (--tun|--tap) DEV --addr ADDR/PREFIX [--host-addr ADDR/PREFIX]\n"
		"                   [-c COUNT] [-s SIZE] [-i INTERVAL] [-W WAIT] HOST\n\n"
		"Send ICMP (or ICMPv6) echo requests from synack's own address to HOST.\n\n" NET_USAGE_OPTS
		"  -c, --count N        stop after N requests (default: until interrupted)\n"
		"  -s, --size N         payload bytes per request (default 56)\n"
		"  -i, --interval S     seconds between requests, 0.01 to 3600 (default 1)\n"
		"  -W, --wait S         seconds to wait for the last reply, 0 to 3600 (default 2)\n"
		"  -h, --help           show this help\n\n"
		"Exit status: 0 if any reply came back, 1 if none did (timeout).\n");
}

static void note_reply(struct pinger *p, const synack_ping_reply *r)
{
	char from[64];
	if (r->id != p->id || !synack_addr_equal(&r->from, &p->dst))
		return;
	synack_time_t at = p->sent_at[r->seq % SENT_SLOTS];
	double ms = at ? (double)(r->time - at) / 1000.0 : 0;
	p->received++;
	p->rtt_sum += ms;
	if (p->received == 1 || ms < p->rtt_min)
		p->rtt_min = ms;
	if (ms > p->rtt_max)
		p->rtt_max = ms;
	printf("%u bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n", (unsigned)r->len + 8,
	       synack_addr_format(&r->from, from, sizeof from), r->seq, r->ttl, ms);
	fflush(stdout);
}

static int send_one(struct pinger *p)
{
	uint16_t seq = (uint16_t)(p->sent + 1);
	synack_time_t now = synack_clock_now();
	synack_stack_poll(p->env.st, now); /* the stack's clock is the send time */
	int err = synack_stack_ping(p->env.st, &p->dst, p->id, seq, (size_t)p->size);
	if (err == -EMSGSIZE) {
		fprintf(stderr, "synack: ping: -s %llu is too large (at most 65507)\n",
			(unsigned long long)p->size);
		return CLI_FAIL;
	}
	if (err < 0 && err != -EAGAIN && err != -ENOBUFS) {
		fprintf(stderr, "synack: ping: %s: %s\n", p->dst_text, net_err_phrase(err));
		return CLI_FAIL;
	}
	p->sent_at[seq % SENT_SLOTS] = now;
	p->sent++;
	return 0;
}

static int ms_until(synack_time_t t)
{
	synack_time_t d = t - synack_clock_now();
	return d <= 0 ? 0 : (int)(d / 1000) + 1;
}

static int run(struct pinger *p)
{
	synack_time_t next = synack_clock_now(), end = SYNACK_TIME_NEVER;
	int ready[4];
	printf("PING %s: %llu data bytes\n", p->dst_text, (unsigned long long)p->size);
	while (!net_stop) {
		synack_ping_reply r;
		uint32_t ev;
		while (synack_stack_next_event(p->env.st, &ev))
			;
		while (synack_stack_ping_reply(p->env.st, &r) == 0)
			note_reply(p, &r);
		if (p->count && p->received >= p->count)
			break;
		synack_time_t now = synack_clock_now();
		if (now >= end)
			break;
		if (now >= next && (!p->count || p->sent < p->count)) {
			int rc = send_one(p);
			if (rc)
				return rc;
			next = now + p->interval;
			if (p->count && p->sent == p->count)
				end = now + p->wait;
			continue;
		}
		synack_time_t wake = next < end ? next : end;
		if (net_env_run(&p->env, ms_until(wake), ready, 4) < 0)
			return CLI_FAIL;
	}
	return 0;
}

static int summary(const struct pinger *p)
{
	unsigned long long s = p->sent, r = p->received;
	printf("\n--- %s ping statistics ---\n", p->dst_text);
	printf("%llu packets transmitted, %llu received, %.0f%% packet loss\n", s, r,
	       s ? 100.0 * (double)(s - r) / (double)s : 0.0);
	if (r)
		printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", p->rtt_min, p->rtt_sum / (double)r,
		       p->rtt_max);
	fflush(stdout);
	if (!r && s) {
		fprintf(stderr, "synack: ping: timeout: no reply from %s\n", p->dst_text);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* Seconds in [min, MAX_SECONDS], kept in microseconds. */
static int parse_seconds(const char *opt, const char *val, double min, synack_time_t *out)
{
	double s;
	if (cli_parse_double("ping", opt, val, min, MAX_SECONDS, &s) < 0)
		return CLI_BAD;
	*out = (synack_time_t)llround(s * 1e6);
	return 0;
}

static int parse_one(struct pinger *p, struct net_opts *no, int id, const char *val, const char **host)
{
	switch (id) {
	case OPT_COUNT:
		return cli_parse_u64("ping", "count", val, 1, UINT32_MAX, &p->count) < 0 ? CLI_BAD : 0;
	case OPT_SIZE:
		return cli_parse_u64("ping", "size", val, 0, 65507, &p->size) < 0 ? CLI_BAD : 0;
	case OPT_INTERVAL:
		return parse_seconds("interval", val, 0.01, &p->interval);
	case OPT_WAIT:
		return parse_seconds("wait", val, 0, &p->wait);
	case NET_POSITIONAL:
		if (*host)
			return cli_error("ping", "unexpected argument '%s' (one HOST)", val), CLI_BAD;
		*host = val;
		return 0;
	default:
		return net_opt("ping", no, id, val) < 0 ? CLI_BAD : 0;
	}
}

static int parse(int argc, char **argv, struct pinger *p, struct net_opts *no)
{
	struct cli_args a;
	const char *val, *host = NULL;
	int id;
	net_short_opts(argc, argv, shorts);
	cli_args_init(&a, argc, argv);
	while ((id = net_next(&a, opts, &val)) != CLI_END) {
		if (id == CLI_BAD)
			return CLI_USAGE;
		if (id == OPT_HELP) {
			cmd_ping_usage(stdout);
			return -1;
		}
		if (parse_one(p, no, id, val, &host) < 0)
			return CLI_USAGE;
	}
	if (net_opts_check("ping", no) < 0)
		return CLI_USAGE;
	if (!host)
		return cli_error("ping", "missing HOST");
	if (net_parse_host("ping", "HOST", host, &p->dst) < 0 || net_check_dest("ping", no, &p->dst) < 0)
		return CLI_USAGE;
	synack_addr_format(&p->dst, p->dst_text, sizeof p->dst_text);
	return 0;
}

int cmd_ping(int argc, char **argv)
{
	static struct pinger p;
	struct net_opts no;
	memset(&p, 0, sizeof p);
	memset(&no, 0, sizeof no);
	p.size = 56;
	p.interval = SYNACK_SEC(1);
	p.wait = SYNACK_SEC(2);
	int rc = parse(argc, argv, &p, &no);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	net_catch_signals();
	rc = net_env_open("ping", &no, &p.env);
	if (rc)
		return rc;
	if (net_check_route(&p.env, &p.dst)) {
		net_env_close(&p.env);
		return CLI_FAIL;
	}
	p.id = (uint16_t)getpid();
	rc = run(&p);
	if (!rc)
		rc = summary(&p);
	net_env_close(&p.env);
	return rc;
}
