/*
 * session: what every tracing command runs in (as Redis's ae.c: one event
 * loop, timers and file descriptors registered by the modules).
 *
 * A session owns the targets (-p PIDs or every Go process, with exit and
 * exec detection and, for the agent, rediscovery), the signals (Ctrl-C,
 * SIGTERM: end the window and report), the window (-d) and its intervals
 * (-i), the output file (-o, opened before collection starts), and the
 * ready line "goscope: tracing ..." printed on stderr once collection has
 * started. A command gives it four callbacks (struct session_ops) and its
 * timers; everything else is here.
 */
#ifndef GOSCOPE_SESSION_H
#define GOSCOPE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "opts.h"
#include "target.h"

/* The options every tracing command shares. */
struct session_opts {
	struct opts_pids pids; /* -p; none: every Go process */
	double duration;       /* -d seconds; 0: until Ctrl-C */
	double interval;       /* -i seconds; 0: one report at the end */
	bool json;             /* --json: JSON lines on stdout */
	const char *out;       /* -o FILE; NULL: stdout */
	bool verbose;          /* -v: libbpf's own log on stderr */
};

enum {
	SESSION_OPT_PID = 1 << 0,
	SESSION_OPT_DURATION = 1 << 1,
	SESSION_OPT_INTERVAL = 1 << 2,
	SESSION_OPT_JSON = 1 << 3,
	SESSION_OPT_OUTPUT = 1 << 4,
	SESSION_OPT_VERBOSE = 1 << 5,
	SESSION_OPTS_ALL = (1 << 6) - 1,
};

/* Interval bounds every command shares. */
#define SESSION_MIN_INTERVAL 0.1
#define SESSION_MAX_SECONDS 31536000.0 /* a year */

/*
 * The shared option rows selected by WHICH, writing into O (static
 * storage: one table per process, which runs one command).
 */
const struct opt *session_opt_table(struct session_opts *o, unsigned which);

/*
 * Parse ARGV for command CMD: the shared rows WHICH (into SO), then the
 * command's own rows OWN (may be NULL); REST as opts_parse's. Returns -1
 * when the command goes on, else the exit status to return: 0 after
 * --help, 2 after a bad option's one line.
 */
int session_parse(const struct opts_cmd *cmd, struct session_opts *so, unsigned which,
		  const struct opt *own, int argc, char **argv, struct opts_rest *rest);

struct session;

struct session_ops {
	/*
	 * Start collecting from T (attach, add its pid to the BPF filters,
	 * ...): 0, or -1 with the reason in ERR (the target is not used).
	 * T stays valid until the session ends.
	 */
	int (*take)(struct session *s, struct target *t, char *err, size_t errlen);
	/*
	 * T exited or exec'd (t->state says): stop collecting from it. T
	 * stays readable until the end of the current window's report, then
	 * is freed: keep no pointer to it past that.
	 */
	void (*drop)(struct session *s, struct target *t);
	/*
	 * After the targets are taken, before the ready line: load and
	 * attach what is shared by all targets. 0, or -1 with ERR.
	 */
	int (*start)(struct session *s, char *err, size_t errlen);
	/*
	 * The window [s->win_start_ns, s->now_ns] ended (at each -i and at
	 * the end; LAST on the final one): print it. -1 marks the run failed
	 * (exit 1) without stopping it.
	 */
	int (*report)(struct session *s, bool last);
	/*
	 * Optional: discovered process PID could not be opened (WHY): not a
	 * Go program goscope can read. Called at every discovery round it is
	 * seen in. (Refusals by ops->take are the command's own.)
	 */
	void (*skipped)(struct session *s, pid_t pid, const char *why);
};

typedef int (*session_fn)(struct session *s, void *arg);

#define SESSION_MAX_TIMERS 8
#define SESSION_MAX_FDS 8

struct session_timer {
	uint64_t period_ns, next_ns;
	session_fn fn;
	void *arg;
};

struct session_fd {
	int fd;
	session_fn fn;
	void *arg;
};

struct session {
	const char *cmd;              /* "offcpu" */
	const struct session_opts *o;
	const struct session_ops *ops;
	void *arg;                    /* the command's state */
	FILE *out;                    /* -o FILE or stdout */

	struct target **targets;      /* every target taken, in order; see alive */
	size_t ntargets, cap;
	size_t max_targets;           /* default 256 */
	struct target_cache *cache;
	bool discovery;               /* no -p: every Go process */
	double rediscover_s;          /* >0: look for new Go processes this often */
	bool keep_running;            /* do not stop when no target is left (agent) */
	bool quiet_targets;           /* no stderr note per exit/exec (agent) */

	uint64_t start_ns, win_start_ns, now_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;              /* 0: none */
	uint64_t next_report_ns;      /* 0: none */
	double start_wall;            /* CLOCK_REALTIME seconds at start */

	struct session_timer timers[SESSION_MAX_TIMERS];
	size_t ntimers;
	struct session_fd fds[SESSION_MAX_FDS];
	size_t nfds;
	int epfd, sigfd;
	bool stop;
	int rc;                       /* exit status so far */
};

/* Monotonic nanoseconds. */
uint64_t session_now(void);

/*
 * Set S up for command CMD with options O and callbacks OPS (ARG is the
 * command's state, s->arg). Opens -o (truncating it: an unwritable path
 * fails here, not after the window) and blocks SIGINT/SIGTERM (read by the
 * loop). 0, or -1 with the error printed.
 */
int session_init(struct session *s, const char *cmd, const struct session_opts *o,
		 const struct session_ops *ops, void *arg);

/*
 * Open the targets: each -p PID (a thread id is resolved to its process,
 * and said), or every Go process; each is offered to ops->take. A -p
 * target that cannot be taken ends the command: -1 with the reason
 * printed. Discovered processes that cannot be taken are skipped with a
 * note. -1 also when nothing can be traced.
 */
int session_open_targets(struct session *s);

/* Call FN every PERIOD seconds from the start. 0, or -1 if full. */
int session_add_timer(struct session *s, double period_s, session_fn fn, void *arg);

/* Call FN when FD is readable (a ring buffer's epoll fd, a socket). */
int session_add_fd(struct session *s, int fd, session_fn fn, void *arg);

/*
 * Start (ops->start), print the ready line and run until -d, Ctrl-C or
 * SIGTERM, or every target gone; reports at each -i and at the end.
 * Returns the exit status: 0, or 1 if setup or a report failed.
 */
int session_run(struct session *s);

/* End the loop after the current callback (the final report still runs). */
void session_stop(struct session *s);

/* Targets still alive. */
size_t session_alive(const struct session *s);

/* The target of PID (alive or not), or NULL. */
struct target *session_find(const struct session *s, pid_t pid);

/* Seconds in the current window. */
double session_window_s(const struct session *s);

/* Close the targets, the output and the loop's descriptors. */
void session_free(struct session *s);

/* "goscope: CMD: ..." on stderr. */
void session_error(const struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
