/* The `synack` command: a table of subcommands and the small option parser
 * they share (tools/cli.h). Each subcommand lives in its own file. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack/synack.h"
#include "cli.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static void help_usage(FILE *out);
static void version_usage(FILE *out);

/* Later subcommands (pkt, serve, connect, ping, bench) go here. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
	const char *summary;
} commands[] = {
    {"demo", cmd_demo, cmd_demo_usage, "draw a TCP connection between two stacks as a ladder diagram"},
    {"pkt", cmd_pkt, cmd_pkt_usage, "run packetdrill-syntax scripts against synack on virtual time"},
    {"serve", cmd_serve, cmd_serve_usage, "serve TCP (echo, discard, source, http) over a TUN/TAP device"},
    {"connect", cmd_connect, cmd_connect_usage, "connect over a TUN/TAP device, like nc"},
    {"ping", cmd_ping, cmd_ping_usage, "send ICMP echo requests over a TUN/TAP device"},
    {"help", cmd_help, help_usage, "show this help, or a subcommand's: synack help CMD"},
    {"version", cmd_version, version_usage, "print the version"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: synack COMMAND [OPTIONS]\n\n"
		     "synack is a userspace TCP/IP stack; this command drives it.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'synack COMMAND --help' for a command's options.\n"
		     "Exit status: 0 success, 1 the command did not complete, 2 usage error.\n");
}

static void help_usage(FILE *out)
{
	fprintf(out, "usage: synack help [COMMAND]\n\nShow the list of commands, or COMMAND's options.\n");
}

static void version_usage(FILE *out)
{
	fprintf(out, "usage: synack version\n\nPrint synack's version.\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return CLI_OK;
	}
	if (argc > 2)
		return cli_error("help", "too many arguments");
	const struct command *c = find_command(argv[1]);
	if (!c)
		return cli_error("help", "unknown command '%s' (see 'synack help')", argv[1]);
	c->usage(stdout);
	return CLI_OK;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		version_usage(stdout);
		return CLI_OK;
	}
	if (argc > 1)
		return cli_error("version", "unexpected argument '%s'", argv[1]);
	printf("synack %s\n", SYNACK_VERSION);
	return CLI_OK;
}

/* Standard output's fate: an earlier write may have failed (ferror) or
 * the last one may fail at close ("synack demo >/dev/full"). 0 or an errno
 * value. A closed stdout (">&-") is an error only if something was to be
 * written to it (gnulib's close_stream does the same). */
static int close_stdout(void)
{
	bool pending = __fpending(stdout) != 0, failed = ferror(stdout) != 0;
	errno = 0;
	if (fclose(stdout) != 0 && (pending || errno != EBADF))
		return errno ? errno : EIO;
	return failed ? EIO : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	else if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		name = "version";
	const struct command *c = find_command(name);
	if (!c) {
		if (name[0] == '-')
			return cli_error(NULL, "unknown option '%s' (see 'synack --help')", name);
		return cli_error(NULL, "unknown command '%s' (see 'synack --help')", name);
	}
	int rc = c->run(argc - 1, argv + 1);
	int err = close_stdout();
	if (err && rc == CLI_OK) {
		fprintf(stderr, "synack: %s: writing standard output: %s\n", c->name, strerror(err));
		rc = CLI_FAIL;
	}
	return rc;
}

/* ---- helpers shared by subcommands (cli.h) ---- */

int cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("synack: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

void cli_args_init(struct cli_args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	a->cmd = argc > 0 ? argv[0] : "?";
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

/* The option's value: after '=' or the next argument. */
static int opt_value(struct cli_args *a, const struct cli_opt *o, const char *eq, const char **val)
{
	if (!o->has_arg) {
		if (eq)
			cli_error(a->cmd, "option '--%s' takes no value", o->name);
		return eq ? CLI_BAD : o->id;
	}
	if (eq) {
		*val = eq + 1;
		return o->id;
	}
	if (a->i >= a->argc) {
		cli_error(a->cmd, "option '--%s' needs a value", o->name);
		return CLI_BAD;
	}
	*val = a->argv[a->i++];
	return o->id;
}

int cli_next(struct cli_args *a, const struct cli_opt *opts, const char **val)
{
	*val = NULL;
	if (a->i >= a->argc)
		return CLI_END;
	const char *arg = a->argv[a->i++];
	if (strcmp(arg, "-h") == 0)
		arg = "--help";
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		cli_error(a->cmd, "unexpected argument '%s' (see 'synack %s --help')", arg, a->cmd);
		return CLI_BAD;
	}
	const char *name = arg + 2, *eq = strchr(name, '=');
	const struct cli_opt *o = find_opt(opts, name, eq ? (size_t)(eq - name) : strlen(name));
	if (!o) {
		cli_error(a->cmd, "unknown option '%.*s' (see 'synack %s --help')",
			  eq ? (int)(eq - arg) : (int)strlen(arg), arg, a->cmd);
		return CLI_BAD;
	}
	return opt_value(a, o, eq, val);
}

/* The option's name as printed: "--interval", or "PORT" for a positional
 * argument (a name in capitals). */
static const char *dashes(const char *opt)
{
	return opt[0] >= 'A' && opt[0] <= 'Z' ? "" : "--";
}

static bool all_digits(const char *s)
{
	return s[0] && strspn(s, "0123456789") == strlen(s);
}

int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	/* Digits only: strtoull alone would take " 1", "+1", "-1" (as
	 * 2^64 - 1) and, with base 0, "0x10". */
	if (!all_digits(text)) {
		cli_error(cmd, "%s%s: '%s' is not a non-negative decimal integer", dashes(opt), opt, text);
		return CLI_BAD;
	}
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	if (errno == ERANGE || v < min || v > max) {
		cli_error(cmd, "%s%s: %s is out of range [%llu, %llu]", dashes(opt), opt, text,
			  (unsigned long long)min, (unsigned long long)max);
		return CLI_BAD;
	}
	*out = v;
	return 0;
}

/* DIGITS [. DIGITS] [(e|E) [+|-] DIGITS], or . DIGITS ..., with a leading
 * '-' only if `neg` is set: the plain decimal subset of strtod's syntax
 * (C11 7.22.1.3), without its hexadecimal floats, "inf", "nan", leading
 * white space and '+' sign. */
static bool decimal_syntax(const char *s, bool neg)
{
	const char *digits = "0123456789";
	if (neg && *s == '-')
		s++;
	size_t ip = strspn(s, digits), fp = 0;
	s += ip;
	if (*s == '.') {
		fp = strspn(++s, digits);
		s += fp;
	}
	if (ip + fp == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s += s[1] == '+' || s[1] == '-' ? 2 : 1;
		size_t ep = strspn(s, digits);
		if (ep == 0)
			return false;
		s += ep;
	}
	return *s == '\0';
}

int cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out)
{
	if (!decimal_syntax(text, min < 0)) {
		cli_error(cmd, "%s%s: '%s' is not a decimal number", dashes(opt), opt, text);
		return CLI_BAD;
	}
	errno = 0;
	double v = strtod(text, NULL);
	/* ERANGE: overflow to HUGE_VAL, or underflow (a nonzero value too
	 * small to represent); neither is the number the user wrote. */
	if (errno == ERANGE || !isfinite(v) || v < min || v > max) {
		cli_error(cmd, "%s%s: %s is out of range [%g, %g]", dashes(opt), opt, text, min, max);
		return CLI_BAD;
	}
	*out = v;
	return 0;
}

bool cli_want_color(FILE *f, bool disable)
{
	const char *nc = getenv("NO_COLOR");
	if (disable || (nc && nc[0]))
		return false;
	return isatty(fileno(f)) == 1;
}
