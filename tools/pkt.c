/* `synack pkt`: run packetdrill-syntax scripts against synack on virtual
 * time and print PASS/FAIL/SKIP per script (tools/pkt_run.c does the work).
 * An expected-failures file lists scripts known to fail, each with its
 * reason; such a failure prints XFAIL and is counted as skipped, while a
 * listed script that passes is a failure (take it off the list). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "pkt_parse.h"
#include "pkt_run.h"

enum { MAX_SCRIPTS = 4096, MAX_XFAIL = 1024 };

struct xfail {
	char *path; /* a suffix of the script path */
	char *reason;
};

struct pkt_cmd {
	struct pkt_run_opts run;
	bool parse_only;
	const char *defines[PKT_MAX_DEFINES + 1];
	int ndefines;
	char *scripts[MAX_SCRIPTS];
	int nscripts;
	struct xfail xf[MAX_XFAIL];
	int nxf;
	int passed, failed, skipped, xfailed, shell_applied, shell_skipped;
};

void cmd_pkt_usage(FILE *out)
{
	fprintf(out,
		"usage: synack pkt [OPTIONS] SCRIPT|DIR...\n\n"
		"Run packetdrill-syntax scripts against a fresh synack stack each, on virtual\n"
		"time. DIR means every *.pkt below it. One line per script: PASS, FAIL (with the\n"
		"script line, expected and actual), SKIP or XFAIL; then N passed, N failed, N skipped.\n\n"
		"options:\n"
		"  --profile NAME        synack (default) or freebsd: timers and limits of that stack\n"
		"  --strict              also compare windows and TCP options\n"
		"  --expected-failures F scripts known to fail, one per line: PATH-SUFFIX  REASON\n"
		"  --define NAME         take #ifdef NAME branches (default: STANDARD)\n"
		"  --parse-only          only parse the scripts and report syntax errors\n"
		"  --verbose             print each event as it runs, and each segment, state change\n"
		"                        and drop the stack traced, with flags and numbers as the\n"
		"                        script writes them: \"> S. seq 0 ack 1 win 65535\"\n"
		"  -h, --help            this help\n\n"
		"Backtick commands are never run: sysctls with a synack equivalent configure the\n"
		"stack (synack.tcp.FIELD=V sets any field of its TCP configuration), sockstat\n"
		"state counts and tcpdrop are emulated, the rest are counted. Code blocks may\n"
		"assert tcp_info fields, counters and events: see tests/pkt/README.md.\n"
		"Exit status: 0 all passed, 1 a script failed, 2 usage error.\n");
}

static int add_script(struct pkt_cmd *c, const char *path)
{
	if (c->nscripts == MAX_SCRIPTS)
		return cli_error("pkt", "more than %d scripts", MAX_SCRIPTS);
	c->scripts[c->nscripts] = strdup(path);
	if (!c->scripts[c->nscripts])
		return cli_error("pkt", "out of memory");
	c->nscripts++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct pkt_cmd *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return cli_error("pkt", "%s: %s", dir, strerror(errno));
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		char p[4096];
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			rc = add_dir(c, p);
		else if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".pkt"))
			rc = add_script(c, p);
	}
	closedir(d);
	return rc;
}

static int add_path(struct pkt_cmd *c, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return cli_error("pkt", "%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return add_script(c, path);
	int first = c->nscripts, rc = add_dir(c, path);
	qsort(c->scripts + first, (size_t)(c->nscripts - first), sizeof c->scripts[0], cmp_str);
	return rc;
}

static int load_xfail(struct pkt_cmd *c, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	if (!f)
		return cli_error("pkt", "%s: %s", file, strerror(errno));
	while (fgets(line, sizeof line, f) && c->nxf < MAX_XFAIL) {
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == 0)
			continue;
		char *end = p + strcspn(p, " \t\n");
		char *reason = end + strspn(end, " \t");
		reason[strcspn(reason, "\n")] = 0;
		*end = 0;
		c->xf[c->nxf].path = strdup(p);
		c->xf[c->nxf].reason = strdup(*reason ? reason : "(no reason given)");
		c->nxf++;
	}
	fclose(f);
	return 0;
}

static const struct xfail *xfail_for(const struct pkt_cmd *c, const char *path)
{
	size_t n = strlen(path);
	for (int i = 0; i < c->nxf; i++) {
		size_t k = strlen(c->xf[i].path);
		if (k <= n && !strcmp(path + n - k, c->xf[i].path) && (k == n || path[n - k - 1] == '/'))
			return &c->xf[i];
	}
	return NULL;
}

static const struct cli_opt pkt_opts[] = {
    {"profile", true, 1}, {"strict", false, 2},	    {"expected-failures", true, 3},
    {"define", true, 4},  {"parse-only", false, 5}, {"verbose", false, 6},
    {"help", false, 7},	  {NULL, false, 0},
};

static int parse_args(struct pkt_cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || !strcmp(argv[i], "-")) {
			int rc = add_path(c, argv[i]);
			if (rc)
				return rc;
			continue;
		}
		struct cli_args a;
		char *one[3] = {argv[0], argv[i], i + 1 < argc ? argv[i + 1] : NULL};
		cli_args_init(&a, one[2] ? 3 : 2, one);
		const char *val = NULL;
		int id = cli_next(&a, pkt_opts, &val);
		if (id == CLI_BAD)
			return CLI_USAGE;
		if (a.i > 2)
			i++; /* the option took the next argument as its value */
		switch (id) {
		case 1:
			if (!strcmp(val, "freebsd"))
				c->run.profile = PKT_PROFILE_FREEBSD;
			else if (!strcmp(val, "synack"))
				c->run.profile = PKT_PROFILE_SYNACK;
			else
				return cli_error("pkt", "--profile: unknown profile '%s' (synack, freebsd)",
						 val);
			break;
		case 2:
			c->run.strict = true;
			break;
		case 3:
			if (load_xfail(c, val))
				return CLI_USAGE;
			break;
		case 4:
			if (c->ndefines == PKT_MAX_DEFINES)
				return cli_error("pkt", "--define: at most %d names", PKT_MAX_DEFINES);
			c->defines[c->ndefines++] = val;
			break;
		case 5:
			c->parse_only = true;
			break;
		case 6:
			c->run.verbose = true;
			break;
		case 7:
			cmd_pkt_usage(stdout);
			return -1;
		default:
			break;
		}
	}
	if (!c->nscripts)
		return cli_error("pkt", "no script given (try --help)");
	return 0;
}

static void report(struct pkt_cmd *c, const char *path, const struct pkt_result *r)
{
	const struct xfail *x = xfail_for(c, path);
	c->shell_applied += r->shell_applied;
	c->shell_skipped += r->shell_skipped;
	if (r->status == PKT_SKIP) {
		printf("SKIP  %s: %s\n", path, r->msg);
		c->skipped++;
	} else if (r->status == PKT_FAIL && x) {
		printf("XFAIL %s: %s\n", path, x->reason);
		c->skipped++;
		c->xfailed++;
	} else if (r->status == PKT_FAIL) {
		printf("FAIL  %s:%d: %s\n", path, r->line, r->msg);
		c->failed++;
	} else if (x) {
		printf("FAIL  %s: passes but is listed as an expected failure (%s): take it off the list\n",
		       path, x->reason);
		c->failed++;
	} else {
		printf("PASS  %s\n", path);
		c->passed++;
	}
}

static void run_one(struct pkt_cmd *c, const char *path)
{
	struct pkt_script sc;
	struct pkt_result r;
	char err[512];
	memset(&r, 0, sizeof r);
	if (pkt_parse_file(path, c->defines, &sc, err, sizeof err) != 0) {
		printf("FAIL  %s\n", err);
		c->failed++;
		return;
	}
	if (c->parse_only) {
		printf("PASS  %s: %d events\n", path, sc.nev);
		c->passed++;
	} else {
		pkt_run_script(&sc, &c->run, &r);
		report(c, path, &r);
	}
	pkt_script_free(&sc);
}

int cmd_pkt(int argc, char **argv)
{
	struct pkt_cmd *c = calloc(1, sizeof *c);
	if (!c)
		return cli_error("pkt", "out of memory");
	int rc = parse_args(c, argc, argv);
	if (rc == 0) {
		if (!c->ndefines)
			c->defines[c->ndefines++] = "STANDARD";
		for (int i = 0; i < c->nscripts; i++)
			run_one(c, c->scripts[i]);
		if (c->shell_applied + c->shell_skipped)
			printf("backtick commands and code blocks: %d applied, %d skipped (never run)\n",
			       c->shell_applied, c->shell_skipped);
		if (c->xfailed)
			printf("%d expected failures (listed with reasons above)\n", c->xfailed);
		printf("%d passed, %d failed, %d skipped\n", c->passed, c->failed, c->skipped);
		rc = c->failed ? CLI_FAIL : CLI_OK;
	} else if (rc < 0) {
		rc = CLI_OK;
	}
	for (int i = 0; i < c->nscripts; i++)
		free(c->scripts[i]);
	for (int i = 0; i < c->nxf; i++) {
		free(c->xf[i].path);
		free(c->xf[i].reason);
	}
	free(c);
	return rc;
}
