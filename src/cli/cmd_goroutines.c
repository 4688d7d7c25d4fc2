/*
 * goscope goroutines: a goroutine dump of a running Go process, taken
 * from outside without stopping or signalling it — what SIGQUIT would
 * print, minus the arguments, and the process keeps running.
 */
#include "cli.h"

#include "../collect/gsample.h"
#include "../proc/syscalls.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define GR_MAX_INLINE 16

static void gr_usage(FILE *out)
{
	fprintf(out, "usage: goscope goroutines PID\n"
		     "  prints every goroutine with its state, wait reason and Go stack,\n"
		     "  read from outside (the process is not stopped or signalled)\n");
}

/* The state as goroutine dumps name it, or the wait reason. */
static void gr_state(struct gsample *s, const struct gsample_g *g, char *buf, size_t len)
{
	static const char *names[] = { "idle", "runnable", "running", "syscall", "waiting",
				       "moribund", "dead", "enqueue", "copystack", "preempted" };
	size_t rl;
	const char *r;
	long nr;
	int tid;

	switch (g->status) {
	case GS_WAITING:
		r = gsample_reason(s, g->waitreason, &rl);
		if (rl)
			snprintf(buf, len, "%.*s", (int)rl, r);
		else
			snprintf(buf, len, "waiting");
		return;
	case GS_SYSCALL:
		tid = gsample_tid(s, g->m);
		if (tid && syscalls_current(s->pid, tid, &nr) && syscalls_name(nr))
			snprintf(buf, len, "syscall: %s", syscalls_name(nr));
		else
			snprintf(buf, len, "syscall");
		return;
	default:
		snprintf(buf, len, "%s", g->status < 10 ? names[g->status] : "unknown");
	}
}

void cli_print_stack(FILE *out, struct gobin *gb, uint64_t bias, const uint64_t *pcs, int n)
{
	struct pclntab_frame fr[GR_MAX_INLINE];

	for (int i = 0; i < n; i++) {
		int k = pclntab_symbolize(gb->pcln, pcs[i] - bias - 1, fr, GR_MAX_INLINE);

		if (k == 0) {
			fprintf(out, "?()\n\t?:0 pc=0x%" PRIx64 "\n", pcs[i]);
			continue;
		}
		for (int j = 0; j < k; j++) {
			fprintf(out, "%s(%s)\n\t%s:%d", fr[j].func, fr[j].inlined ? "..." : "",
				fr[j].file, fr[j].line);
			if (!fr[j].inlined)
				fprintf(out, " pc=0x%" PRIx64, pcs[i]);
			fputc('\n', out);
		}
	}
}

int cmd_goroutines(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_target t;
	struct gsample s;
	struct gsample_g *gs;
	uint64_t pcs[GSAMPLE_MAX_DEPTH];
	char err[512], state[64];
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			gr_usage(stdout);
			return 0;
		}
		gr_usage(stderr);
		return 2;
	}
	if (optind != argc - 1) {
		cli_error("goroutines takes exactly one PID");
		return 2;
	}
	if (cli_target_open(argv[optind], &t) != 0)
		return 1;
	if (!t.proc.pid) {
		cli_error("goroutines needs a running process (a PID), not a file");
		cli_target_close(&t);
		return 2;
	}
	if (gsample_open(&s, t.proc.pid, t.gb, t.bias, err, sizeof(err)) != 0) {
		cli_error("pid %d: %s", (int)t.proc.pid, err);
		cli_target_close(&t);
		return 1;
	}
	if (gsample_snapshot(&s, &gs, &n) != 0) {
		cli_error("pid %d: cannot read its goroutines (it exited?)", (int)t.proc.pid);
		gsample_close(&s);
		cli_target_close(&t);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		int d = 0;

		gr_state(&s, &gs[i], state, sizeof(state));
		printf("goroutine %" PRIu64 " gp=0x%" PRIx64 " [%s]:\n", gs[i].goid, gs[i].gaddr,
		       state);
		if (gs[i].status != GS_RUNNING)
			d = gsample_unwind(&s, &gs[i], pcs, GSAMPLE_MAX_DEPTH);
		if (d > 0)
			cli_print_stack(stdout, t.gb, t.bias, pcs, d);
		else if (gs[i].status == GS_RUNNING)
			printf("\t(running on a thread: no saved stack)\n");
		else
			printf("\t(stack changed while being read)\n");
		printf("\n");
	}
	gsample_close(&s);
	cli_target_close(&t);
	return 0;
}
