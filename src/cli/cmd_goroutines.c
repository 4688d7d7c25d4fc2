/*
 * goscope goroutines: a goroutine dump of a running Go process, taken
 * from outside without stopping or signalling it — what SIGQUIT would
 * print, minus the arguments, and the process keeps running.
 */
#include "cli.h"

#include "../collect/gsample.h"
#include "../core/opts.h"
#include "../core/target.h"
#include "../proc/names.h"
#include "../proc/syscalls.h"
#include "../report/stack.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The state as goroutine dumps name it, or the wait reason. */
static void gr_state(struct gsample *s, const struct gsample_g *g, char *buf, size_t len)
{
	char nb[32];
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
		if (tid && syscalls_current(s->pid, tid, &nr) && nr >= 0)
			snprintf(buf, len, "syscall: %s", names_syscall((uint32_t)nr, nb, sizeof(nb)));
		else
			snprintf(buf, len, "syscall");
		return;
	default:
		snprintf(buf, len, "%s", names_gstatus(g->status));
	}
}

int cmd_goroutines(int argc, char **argv)
{
	static const struct opt none[] = { { NULL } };
	static const struct opt *const tables[] = { none, NULL };
	static const struct opts_cmd cmd = {
		"goroutines", "PID",
		"Prints every goroutine with its state, wait reason and Go stack, read from\n"
		"outside (the process is not stopped or signalled).",
		NULL,
	};
	struct opts_rest rest;
	struct target t;
	struct gsample s;
	struct gsample_g *gs;
	uint64_t pcs[GSAMPLE_MAX_DEPTH];
	char err[600], state[64];
	long long pid;
	pid_t tid_of;
	size_t n;
	int rc = opts_parse(&cmd, tables, argc, argv, &rest);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (rest.argc != 1) {
		cli_error("goroutines takes exactly one PID");
		return 2;
	}
	if (opts_parse_int(rest.argv[0], 1, 4194304, &pid, err, sizeof(err)) != 0) {
		cli_error("goroutines needs a running process (a PID), not '%s'", rest.argv[0]);
		return 2;
	}
	if (target_open((pid_t)pid, NULL, &t, &tid_of, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		return 1;
	}
	if (tid_of)
		fprintf(stderr, "goscope: goroutines: %d is a thread of pid %d (%s): dumping the process\n",
			(int)tid_of, (int)t.pid, t.name);
	if (gsample_open(&s, t.pid, t.gb, t.bias, err, sizeof(err)) != 0) {
		cli_error("pid %d: %s", (int)t.pid, err);
		gsample_close(&s);
		target_close(&t);
		return 1;
	}
	if (gsample_snapshot(&s, &gs, &n) != 0) {
		cli_error("pid %d: cannot read its goroutines (it exited?)", (int)t.pid);
		gsample_close(&s);
		target_close(&t);
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
			stack_print_dump(stdout, t.gb, t.bias, pcs, (size_t)d, 0);
		else if (gs[i].status == GS_RUNNING)
			printf("\t(running on a thread: no saved stack)\n");
		else
			printf("\t(stack changed while being read)\n");
		printf("\n");
	}
	gsample_close(&s);
	target_close(&t);
	return 0;
}
