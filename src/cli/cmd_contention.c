/*
 * goscope contention: parked goroutines grouped by the channel, mutex or
 * semaphore they wait on, sampled from outside. Glue: options, the
 * session, a timer that takes a snapshot, the report in the chosen format
 * (collect/contention, report/contention).
 */
#include "cli.h"

#include "../collect/contention.h"
#include "../collect/holders.h"
#include "../core/session.h"
#include "../report/contention.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { CT_TOP, CT_FOLDED, CT_PPROF };

struct contention_cmd {
	struct contention c;
	struct holders *h; /* --holders */
	bool holders;
	double freq;
	int fmt;
	long long top;
};

static int contention_cmd_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct contention_cmd *cc = s->arg;
	struct contention_target *ct;

	ct = contention_add(&cc->c, t->pid, t->gb, t->bias, t->name, err, errlen);
	t->priv = ct;
	if (ct && cc->h && holders_add(cc->h, t->pid, t->gb, t->exe, err, errlen) != 0) {
		contention_remove(&cc->c, ct);
		return -1;
	}
	if (ct && !ct->sema_ok)
		fprintf(stderr, "goscope: contention: pid %d: channels only (%s)\n", (int)t->pid,
			ct->sema_why);
	return ct ? 0 : -1;
}

static void contention_cmd_drop(struct session *s, struct target *t)
{
	struct contention_cmd *cc = s->arg;

	if (t->priv)
		contention_remove(&cc->c, t->priv);
	if (cc->h)
		holders_remove(cc->h, t->pid);
}

static void contention_cmd_release(pid_t pid, uint64_t sema, const uint64_t *pcs, int depth,
				   uint64_t count, void *arg)
{
	contention_add_release(arg, pid, sema, pcs, depth, count);
}

static int contention_cmd_sample(struct session *s, void *arg)
{
	(void)s;
	contention_sample(arg, session_now());
	return 0;
}

static int contention_cmd_start(struct session *s, char *err, size_t errlen)
{
	struct contention_cmd *cc = s->arg;

	(void)err;
	(void)errlen;
	contention_sample(&cc->c, session_now()); /* the window's first snapshot */
	return 0;
}

static int contention_cmd_report(struct session *s, bool last)
{
	struct contention_cmd *cc = s->arg;
	int rc = 0;

	(void)last;
	contention_sample(&cc->c, session_now()); /* the window's last snapshot */
	if (cc->h)
		holders_each(cc->h, contention_cmd_release, &cc->c);
	if (cc->fmt == CT_PPROF) {
		if (contention_write_pprof(&cc->c, s->o->out) != 0) {
			session_error(s, "cannot write %s: %s", s->o->out, strerror(errno));
			rc = -1;
		}
	} else if (s->o->json) {
		contention_print_json(s->out, &cc->c);
	} else if (cc->fmt == CT_FOLDED) {
		contention_print_folded(s->out, &cc->c);
	} else {
		contention_print_top(s->out, &cc->c, (size_t)cc->top);
	}
	contention_reset(&cc->c, session_now());
	if (cc->h)
		holders_clear(cc->h);
	return rc;
}

int cmd_contention(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"contention",
		"[-p PID ...] [-d SEC] [-i SEC] [-F HZ] [-f top|folded|pprof] [-o FILE] [--json]\n"
		"                          [--holders]",
		"Parked goroutines grouped by what they wait on: channels (capacity, length,\n"
		"senders and receivers) and sync.Mutex, RWMutex, WaitGroup and semaphores\n"
		"(from the runtime's semaphore table); the most waited-on objects first.",
		"Sampling only (process_vm_readv, the target never stops). -f pprof -o FILE\n"
		"writes a contention profile (contentions/count, delay/nanoseconds) for\n"
		"go tool pprof.",
	};
	static const struct session_ops ops = {
		.take = contention_cmd_take,
		.drop = contention_cmd_drop,
		.start = contention_cmd_start,
		.report = contention_cmd_report,
	};
	static const char *const formats[] = { "top", "folded", "pprof", NULL };
	static struct session_opts so;
	static struct contention_cmd cc = { .freq = 49, .top = 10 };
	static const struct opt own[] = {
		{ "freq", 'F', OPT_DOUBLE, &cc.freq, "HZ", "snapshots per second (default 49)",
		  .min = 1, .max = 1000 },
		{ "format", 'f', OPT_CHOICE, &cc.fmt, "FMT",
		  "top (default), folded (flamegraph.pl), pprof (needs -o)", .choices = formats },
		{ "top", 'n', OPT_INT, &cc.top, "N", "objects shown by -f top (default 10; 0: all)",
		  .min = 0, .max = 1e9 },
		{ "holders", 0, OPT_FLAG, &cc.holders, NULL,
		  "also who releases contended mutexes and semaphores (a uprobe; amd64)" },
		{ NULL },
	};
	struct session s;
	int rc;

	rc = session_parse(&cmd, &so, SESSION_OPTS_ALL & ~SESSION_OPT_VERBOSE, own, argc, argv,
			   NULL);
	if (rc >= 0)
		return rc;
	if (cc.fmt == CT_PPROF && !so.out) {
		cli_error("contention: -f pprof writes a binary profile: give a file with -o FILE");
		return 2;
	}
	if (cc.fmt == CT_PPROF && so.interval > 0) {
		cli_error("contention: -f pprof writes one profile: it cannot be combined with -i");
		return 2;
	}
	contention_init(&cc.c);
	rc = 1;
	if (cc.holders) {
		char err[512];

		cc.h = holders_open(err, sizeof(err));
		if (!cc.h) {
			cli_error("contention: %s", err);
			goto out;
		}
	}
	if (session_init(&s, "contention", &so, &ops, &cc) != 0)
		goto out;
	if (session_open_targets(&s) == 0 &&
	    session_add_timer(&s, 1.0 / cc.freq, contention_cmd_sample, &cc.c) == 0)
		rc = session_run(&s);
	session_free(&s);
out:
	holders_close(cc.h);
	contention_free(&cc.c);
	return rc;
}
