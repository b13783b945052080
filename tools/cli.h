/* The `synack` command: shared helpers for subcommands (tools/synack.c) and
 * the entry points of each subcommand (one file each: tools/demo.c ...).
 *
 * Conventions every subcommand follows:
 *  - `synack CMD --help` prints usage on stdout and exits 0;
 *  - a bad option or argument prints ONE line "synack: CMD: ..." on stderr
 *    and exits CLI_USAGE (2);
 *  - exit CLI_FAIL (1) means the command ran but did not do what it was
 *    asked (a timeout, a refused connection ...), with a one-line reason. */
#ifndef SYNACK_TOOLS_CLI_H
#define SYNACK_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* One "--name" option of a subcommand. id must be > 0. */
struct cli_opt {
	const char *name; /* without the leading "--" */
	bool has_arg;	  /* takes a value: "--name V" or "--name=V" */
	int id;
};

/* A walk over a subcommand's arguments (argv[0] is the subcommand name). */
struct cli_args {
	int argc;
	char **argv;
	int i;
	const char *cmd; /* for error messages: "synack: CMD: ..." */
};

enum { CLI_END = 0, CLI_BAD = -1 };

void cli_args_init(struct cli_args *a, int argc, char **argv);
/* The next option: its id (value in *val, or NULL), CLI_END when the
 * arguments are exhausted, or CLI_BAD after printing a one-line error
 * (unknown option, missing or unexpected value, positional argument).
 * "-h" is accepted as "--help" if the table has a "help" entry. */
int cli_next(struct cli_args *a, const struct cli_opt *opts, const char **val);

/* Print "synack: CMD: <message>" on stderr; returns CLI_USAGE. */
int cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The one way a command-line number is read. On error both print ONE line
 * "synack: CMD: --OPT: ..." (or "OPT: ..." when OPT is a positional name in
 * capitals, "PORT") and return CLI_BAD; 0 on success.
 *
 * cli_parse_u64: decimal digits only (no sign, no white space, no "0x"),
 * in [min, max]. */
int cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
		  uint64_t *out);
/* cli_parse_double: a plain decimal number, DIGITS[.DIGITS][e[+-]DIGITS]
 * (a leading '-' only when min < 0), in [min, max]. Refused: hexadecimal
 * ("0x10", "0x1p3"), "inf", "nan", white space, '+', trailing bytes, and
 * anything out of range, including what overflows or underflows a double
 * ("1e300" for a time, "1e-400"). */
int cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out);

/* Whether to colour output going to f: a terminal and NO_COLOR unset or
 * empty (https://no-color.org), unless `disable` is set. */
bool cli_want_color(FILE *f, bool disable);

/* Subcommands. Each takes its own argv (argv[0] = its name). */
int cmd_demo(int argc, char **argv);
void cmd_demo_usage(FILE *out);
int cmd_pkt(int argc, char **argv);
void cmd_pkt_usage(FILE *out);
int cmd_serve(int argc, char **argv);
void cmd_serve_usage(FILE *out);
int cmd_connect(int argc, char **argv);
void cmd_connect_usage(FILE *out);
int cmd_ping(int argc, char **argv);
void cmd_ping_usage(FILE *out);

#endif
