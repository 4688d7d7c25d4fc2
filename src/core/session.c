/*
 * session: the event loop, targets, signals and window every tracing
 * command runs in (see session.h).
 */
#include "session.h"

#include "../proc/discover.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* How often targets are checked for exit and exec. */
#define SESSION_CHECK_NS 250000000ull

const struct opt *session_opt_table(struct session_opts *o, unsigned which)
{
	static struct opt tab[8];
	size_t n = 0;

	if (which & SESSION_OPT_PID)
		tab[n++] = (struct opt){ "pid", 'p', OPT_PID, &o->pids, "PID",
					 "trace this process (repeatable); default: every Go process" };
	if (which & SESSION_OPT_DURATION)
		tab[n++] = (struct opt){ "duration", 'd', OPT_DOUBLE, &o->duration, "SEC",
					 "stop after SEC seconds (default: until Ctrl-C)",
					 .min = 0.001, .max = SESSION_MAX_SECONDS };
	if (which & SESSION_OPT_INTERVAL)
		tab[n++] = (struct opt){ "interval", 'i', OPT_DOUBLE, &o->interval, "SEC",
					 "print a report every SEC seconds",
					 .min = SESSION_MIN_INTERVAL, .max = SESSION_MAX_SECONDS };
	if (which & SESSION_OPT_OUTPUT)
		tab[n++] = (struct opt){ "output", 'o', OPT_STR, &o->out, "FILE",
					 "write the report to FILE (replaced)" };
	if (which & SESSION_OPT_JSON)
		tab[n++] = (struct opt){ "json", 0, OPT_FLAG, &o->json, NULL,
					 "JSON lines: one object per row, then a summary" };
	if (which & SESSION_OPT_VERBOSE)
		tab[n++] = (struct opt){ "verbose", 'v', OPT_FLAG, &o->verbose, NULL,
					 "show libbpf's own messages" };
	tab[n] = (struct opt){ NULL };
	return tab;
}

int session_parse(const struct opts_cmd *cmd, struct session_opts *so, unsigned which,
		  const struct opt *own, int argc, char **argv, struct opts_rest *rest)
{
	const struct opt *const tables[] = { session_opt_table(so, which), own, NULL };
	int rc = opts_parse(cmd, tables, argc, argv, rest);

	return rc == 0 ? -1 : rc > 0 ? 0 : 2;
}

uint64_t session_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void session_error(const struct session *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "goscope: %s: ", s->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int session_init(struct session *s, const char *cmd, const struct session_opts *o,
		 const struct session_ops *ops, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->o = o;
	s->ops = ops;
	s->arg = arg;
	s->out = stdout;
	s->max_targets = OPTS_MAX_PIDS;
	s->discovery = o->pids.n == 0;
	s->epfd = s->sigfd = -1;
	if (o->out) {
		s->out = fopen(o->out, "we");
		if (!s->out) {
			s->out = stdout;
			session_error(s, "cannot write %s: %s", o->out, strerror(errno));
			return -1;
		}
	}
	s->cache = target_cache_new();
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked here, read by the loop: no race between a check and a sleep. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!s->cache || s->epfd < 0 || s->sigfd < 0) {
		session_error(s, "cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	ev.data.u32 = UINT32_MAX;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev);
	return 0;
}

static struct target *session_push(struct session *s, const struct target *t)
{
	struct target *nt;

	if (s->ntargets == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct target **v = realloc(s->targets, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->targets = v;
		s->cap = cap;
	}
	nt = malloc(sizeof(*nt));
	if (!nt)
		return NULL;
	*nt = *t;
	if (t->raw_name >= t->exe && t->raw_name < t->exe + sizeof(t->exe))
		nt->raw_name = nt->exe + (t->raw_name - t->exe); /* it points into exe: the copy's */
	s->targets[s->ntargets++] = nt;
	return nt;
}

/* Offer T to the command; 0 if taken (T is then the session's). */
static int session_take(struct session *s, struct target *t, char *err, size_t errlen)
{
	struct target *nt = session_push(s, t);

	if (!nt) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (s->ops->take && s->ops->take(s, nt, err, errlen) != 0) {
		s->ntargets--;
		free(nt);
		return -1;
	}
	return 0;
}

struct target *session_find(const struct session *s, pid_t pid)
{
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i]->pid == pid)
			return s->targets[i];
	return NULL;
}

static struct target *session_find_alive(const struct session *s, pid_t pid)
{
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i]->pid == pid && s->targets[i]->state == TARGET_ALIVE)
			return s->targets[i];
	return NULL;
}

size_t session_alive(const struct session *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ntargets; i++)
		n += s->targets[i]->state == TARGET_ALIVE;
	return n;
}

/* Look for Go processes not traced yet; QUIET: no note per skipped one. */
static size_t session_discover(struct session *s, bool quiet, size_t *found)
{
	pid_t *pids = calloc(s->max_targets + 1, sizeof(*pids));
	size_t taken = 0;
	long k;

	*found = 0;
	if (!pids)
		return 0;
	k = discover_go_pids(pids, s->max_targets);
	if (k < 0) {
		free(pids);
		return 0;
	}
	if ((size_t)k > s->max_targets && !quiet)
		fprintf(stderr, "goscope: %ld Go processes, tracing the first %zu\n", k,
			s->max_targets);
	*found = (size_t)k > s->max_targets ? s->max_targets : (size_t)k;
	for (size_t i = 0; i < *found; i++) {
		struct target t;
		char err[600];

		if (session_find_alive(s, pids[i]) || session_alive(s) >= s->max_targets)
			continue;
		if (target_open(pids[i], s->cache, &t, NULL, err, sizeof(err)) != 0) {
			if (s->ops->skipped)
				s->ops->skipped(s, pids[i], err);
			continue;
		}
		t.discovered = true;
		if (session_take(s, &t, err, sizeof(err)) != 0) {
			if (!quiet)
				fprintf(stderr, "goscope: skipping pid %d (%s): %s\n",
					(int)t.pid, t.name, err);
			target_close(&t);
			continue;
		}
		taken++;
	}
	free(pids);
	return taken;
}

int session_open_targets(struct session *s)
{
	char err[600];

	if (s->discovery) {
		size_t found, taken = session_discover(s, s->quiet_targets, &found);

		if (found == 0 && !s->keep_running) {
			session_error(s, "no Go processes found (give one with -p PID)");
			return -1;
		}
		if (taken == 0 && !s->keep_running) {
			session_error(s, "none of the %zu Go processes found can be traced", found);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < s->o->pids.n; i++) {
		struct target t;
		pid_t tid_of;

		if (target_open(s->o->pids.pid[i], s->cache, &t, &tid_of, err, sizeof(err)) != 0) {
			session_error(s, "%s", err);
			return -1;
		}
		if (tid_of)
			fprintf(stderr, "goscope: %s: %d is a thread of pid %d (%s): tracing the process\n",
				s->cmd, (int)tid_of, (int)t.pid, t.name);
		if (session_find(s, t.pid)) {
			target_close(&t); /* -p TID -p PID: one target */
			continue;
		}
		if (session_take(s, &t, err, sizeof(err)) != 0) {
			session_error(s, "pid %d (%s): %s", (int)t.pid, t.name, err);
			target_close(&t);
			return -1;
		}
	}
	return 0;
}

int session_add_timer(struct session *s, double period_s, session_fn fn, void *arg)
{
	struct session_timer *t;

	if (s->ntimers >= SESSION_MAX_TIMERS || !(period_s > 0))
		return -1;
	t = &s->timers[s->ntimers++];
	t->period_ns = (uint64_t)(period_s * 1e9);
	if (t->period_ns == 0)
		t->period_ns = 1;
	t->next_ns = 0; /* set at the start */
	t->fn = fn;
	t->arg = arg;
	return 0;
}

int session_add_fd(struct session *s, int fd, session_fn fn, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (s->nfds >= SESSION_MAX_FDS)
		return -1;
	ev.data.u32 = (uint32_t)s->nfds;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -1;
	s->fds[s->nfds++] = (struct session_fd){ fd, fn, arg };
	return 0;
}

void session_stop(struct session *s)
{
	s->stop = true;
}

double session_window_s(const struct session *s)
{
	return (double)(s->now_ns - s->win_start_ns) / 1e9;
}

/* A target exec'd: drop the old image and follow the new one if it is Go. */
static void session_follow_exec(struct session *s, struct target *old)
{
	struct target t;
	char err[600];

	if (target_open(old->pid, s->cache, &t, NULL, err, sizeof(err)) != 0) {
		if (!s->quiet_targets)
			fprintf(stderr, "goscope: %s: pid %d (%s) exec'd a program that cannot be traced (%s)\n",
				s->cmd, (int)old->pid, old->name, err);
		return;
	}
	t.discovered = old->discovered;
	if (session_take(s, &t, err, sizeof(err)) != 0) {
		if (!s->quiet_targets)
			fprintf(stderr, "goscope: %s: pid %d exec'd %s, which cannot be traced: %s\n",
				s->cmd, (int)t.pid, t.exe, err);
		target_close(&t);
		return;
	}
	if (!s->quiet_targets)
		fprintf(stderr, "goscope: %s: pid %d (%s) exec'd %s: following it\n", s->cmd,
			(int)t.pid, old->name, t.exe);
}

static void session_check_targets(struct session *s)
{
	size_t n = s->ntargets; /* followed execs are appended: not rechecked now */

	for (size_t i = 0; i < n; i++) {
		struct target *t = s->targets[i];
		enum target_state st;

		if (t->state != TARGET_ALIVE)
			continue;
		st = target_check(t);
		if (st == TARGET_ALIVE)
			continue;
		t->state = st;
		if (st == TARGET_EXITED && !s->quiet_targets)
			fprintf(stderr, "goscope: %s: pid %d (%s) exited; reporting what was collected\n",
				s->cmd, (int)t->pid, t->name);
		if (s->ops->drop)
			s->ops->drop(s, t);
		if (st == TARGET_EXECED)
			session_follow_exec(s, t);
	}
}

/*
 * Forget targets that are gone, once reported (the agent runs for months;
 * a command's final report still sees them).
 */
static void session_reap(struct session *s)
{
	size_t k = 0;
	bool freed = false;

	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = s->targets[i];

		if (t->state == TARGET_ALIVE) {
			s->targets[k++] = t;
			continue;
		}
		target_close(t);
		free(t);
		freed = true;
	}
	s->ntargets = k;
	if (freed)
		malloc_trim(0); /* a departed process's reader goes back to the system */
}

static void session_ready_line(struct session *s)
{
	char what[160] = "";
	size_t alive = session_alive(s), off = 0;

	for (size_t i = 0; i < s->ntargets && off < sizeof(what) - 40; i++) {
		struct target *t = s->targets[i];

		if (i == 3) {
			off += (size_t)snprintf(what + off, sizeof(what) - off, ", ...");
			break;
		}
		off += (size_t)snprintf(what + off, sizeof(what) - off, "%s%d %s",
					i ? ", " : "", (int)t->pid, t->name);
	}
	fprintf(stderr, "goscope: tracing %zu process%s%s%s%s", alive, alive == 1 ? "" : "es",
		alive ? " (pid " : "", what, alive ? ")" : "");
	if (s->o->duration > 0)
		fprintf(stderr, " for %g s", s->o->duration);
	fprintf(stderr, " (Ctrl-C to stop)\n");
	fflush(stderr);
}

static int session_report(struct session *s, bool last)
{
	int rc = 0;

	if (s->ops->report)
		rc = s->ops->report(s, last);
	fflush(s->out);
	if (rc != 0 || ferror(s->out))
		s->rc = 1;
	s->win_start_ns = s->now_ns;
	return rc;
}

static uint64_t session_min(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int session_run(struct session *s)
{
	char err[600];
	uint64_t next_check, next_discover = 0, discover_ns = 0;
	struct timespec wall;

	if (s->ops->start && s->ops->start(s, err, sizeof(err)) != 0) {
		session_error(s, "%s", err);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	s->start_wall = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	s->start_ns = s->win_start_ns = s->now_ns = session_now();
	if (s->o->duration > 0)
		s->end_ns = s->start_ns + (uint64_t)(s->o->duration * 1e9);
	if (s->o->interval > 0)
		s->next_report_ns = s->start_ns + (uint64_t)(s->o->interval * 1e9);
	for (size_t i = 0; i < s->ntimers; i++)
		s->timers[i].next_ns = s->start_ns + s->timers[i].period_ns;
	next_check = s->start_ns + SESSION_CHECK_NS;
	if (s->discovery && s->rediscover_s > 0) {
		discover_ns = (uint64_t)(s->rediscover_s * 1e9);
		next_discover = s->start_ns + discover_ns;
	}
	session_ready_line(s);

	while (!s->stop) {
		struct epoll_event evs[SESSION_MAX_FDS + 1];
		uint64_t wake = session_min(s->end_ns, session_min(s->next_report_ns, next_check));
		int n, ms;

		wake = session_min(wake, next_discover);
		for (size_t i = 0; i < s->ntimers; i++)
			wake = session_min(wake, s->timers[i].next_ns);
		s->now_ns = session_now();
		ms = wake > s->now_ns ? (int)((wake - s->now_ns + 999999) / 1000000) : 0;
		n = epoll_wait(s->epfd, evs, SESSION_MAX_FDS + 1, ms);
		s->now_ns = session_now();
		for (int i = 0; i < n; i++) {
			uint32_t id = evs[i].data.u32;

			if (id == UINT32_MAX) {
				struct signalfd_siginfo si;

				while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
					s->stop = true;
				continue;
			}
			if (id < s->nfds && s->fds[id].fn(s, s->fds[id].arg) != 0)
				s->rc = 1;
		}
		if (s->stop)
			break;
		for (size_t i = 0; i < s->ntimers; i++) {
			struct session_timer *t = &s->timers[i];

			if (s->now_ns < t->next_ns)
				continue;
			if (t->fn(s, t->arg) != 0)
				s->rc = 1;
			/* Late ticks are not replayed: the next is a period after this one. */
			t->next_ns += t->period_ns;
			if (t->next_ns <= s->now_ns)
				t->next_ns = s->now_ns + t->period_ns;
		}
		if (s->now_ns >= next_check) {
			session_check_targets(s);
			next_check = s->now_ns + SESSION_CHECK_NS;
		}
		if (next_discover && s->now_ns >= next_discover) {
			size_t found;

			session_discover(s, true, &found);
			next_discover = s->now_ns + discover_ns;
		}
		if (s->end_ns && s->now_ns >= s->end_ns)
			break;
		if (!s->keep_running && session_alive(s) == 0)
			break;
		if (s->next_report_ns && s->now_ns >= s->next_report_ns) {
			session_report(s, false);
			session_reap(s);
			/* Missed intervals (a stalled loop) are not replayed as empty windows. */
			s->next_report_ns += (uint64_t)(s->o->interval * 1e9);
			if (s->next_report_ns <= s->now_ns)
				s->next_report_ns = s->now_ns + (uint64_t)(s->o->interval * 1e9);
		}
	}
	s->now_ns = session_now();
	session_report(s, true);
	return s->rc;
}

void session_free(struct session *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		target_close(s->targets[i]);
		free(s->targets[i]);
	}
	free(s->targets);
	s->targets = NULL;
	s->ntargets = 0;
	target_cache_free(s->cache);
	s->cache = NULL;
	if (s->out && s->out != stdout)
		fclose(s->out);
	s->out = stdout;
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->epfd = s->sigfd = -1;
}
