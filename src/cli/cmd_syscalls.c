/*
 * goscope syscalls: which system calls a Go process makes, how often, how
 * slow (p50/p95/p99/max from in-kernel log-linear histograms), how often
 * they fail and with which errno — per syscall, thread or goroutine — and
 * the slow calls and network-rule violations with their Go stacks.
 */
#include "cli.h"

#include "../collect/netrules.h"
#include "../collect/sysstat.h"
#include "../output/jsonw.h"
#include "../proc/fdinfo.h"
#include "../proc/syscalls.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SCC_MAX_TARGETS 256
#define SCC_MAX_INLINE 16

struct scc_target {
	pid_t pid;
	char exe[4096];
	struct gobin *gb;
	uint64_t bias;
	bool exited;
};

struct scc {
	/* options */
	pid_t pids[SCC_MAX_TARGETS];
	size_t npids;
	double duration, interval;
	int by;
	double slow_ms;
	const char *rules_path;
	bool json;
	bool hist;
	bool verbose;
	bool filter;
	int top;
	uint32_t spec[SC_NR_MAX];
	/* state */
	struct scc_target targets[SCC_MAX_TARGETS];
	size_t ntargets;
	struct netrules rules;
	struct jsonw jw;
	uint64_t events_shown;
	uint64_t alerts;
	struct timespec start_wall;
};

static volatile sig_atomic_t scc_stop;

static void scc_on_signal(int sig)
{
	(void)sig;
	scc_stop = 1;
}

static void scc_usage(FILE *out)
{
	fprintf(out,
		"usage: goscope syscalls [-p PID ...] [-d SECONDS] [-i INTERVAL] [-e LIST|GROUP]\n"
		"                        [--by syscall|tid|goid] [--slow MS] [--rules FILE]\n"
		"                        [--hist] [--json]\n"
		"Per-syscall counts, errors (by errno) and latency (p50/p95/p99/max) of Go\n"
		"processes, aggregated in the kernel from the raw_syscalls tracepoints.\n\n"
		"  -p, --pid PID        trace this process (repeatable); default: every Go process\n"
		"  -d, --duration SEC   stop after SEC seconds (default: until Ctrl-C)\n"
		"  -i, --interval SEC   print a report every SEC seconds\n"
		"  -e, --syscalls LIST  only these syscalls: names and groups, comma-separated\n"
		"                       (groups: file, net, time, sync, mem, proc)\n"
		"      --by KEY         break down by syscall (default), tid or goid\n"
		"      --slow MS        print every call slower than MS milliseconds, with its\n"
		"                       decoded arguments, result, goroutine and Go stack\n"
		"      --rules FILE     check connect/sendto/bind/listen/accept and call rates\n"
		"                       against FILE (see README); violations are alerts\n"
		"      --hist           print a latency histogram per syscall\n"
		"      --json           JSON lines instead of tables\n"
		"  -n, --top N          rows shown per report (default 25)\n"
		"  -v, --verbose        libbpf's log\n");
}

static int scc_parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return (errno || end == s || *end || *v < 0) ? -1 : 0;
}

/* Which arguments to decode, per syscall (see SC_SPEC_* in syscalls.h). */
static void scc_default_spec(uint32_t *spec)
{
	static const struct {
		const char *name;
		uint32_t bits;
	} t[] = {
		{ "open", 1 }, { "stat", 1 }, { "lstat", 1 }, { "access", 1 }, { "execve", 1 },
		{ "unlink", 1 }, { "mkdir", 1 }, { "rmdir", 1 }, { "chdir", 1 }, { "readlink", 1 },
		{ "truncate", 1 }, { "creat", 1 }, { "chmod", 1 }, { "statfs", 1 }, { "rename", 1 },
		{ "openat", 2 }, { "newfstatat", 2 }, { "faccessat", 2 }, { "faccessat2", 2 },
		{ "unlinkat", 2 }, { "mkdirat", 2 }, { "readlinkat", 2 }, { "statx", 2 },
		{ "openat2", 2 }, { "fchmodat", 2 }, { "renameat", 2 }, { "renameat2", 2 },
		{ "connect", (2 << 4) | (3 << 8) | SC_SPEC_NET },
		{ "bind", (2 << 4) | (3 << 8) | SC_SPEC_NET },
		{ "sendto", (5 << 4) | (6 << 8) | SC_SPEC_NET },
		{ "accept", (2 << 4) | (3 << 8) | SC_SPEC_ALEN_PTR | SC_SPEC_NET },
		{ "accept4", (2 << 4) | (3 << 8) | SC_SPEC_ALEN_PTR | SC_SPEC_NET },
		{ "recvfrom", (5 << 4) | (6 << 8) | SC_SPEC_ALEN_PTR },
		{ "listen", SC_SPEC_NET },
	};

	memset(spec, 0, SC_NR_MAX * sizeof(*spec));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long nr = syscalls_number(t[i].name);

		if (nr >= 0 && nr < SC_NR_MAX)
			spec[nr] = t[i].bits;
	}
}

/* -e LIST: names and groups; marks them SC_SPEC_TRACED. */
static int scc_parse_list(struct scc *c, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int rc = 0, ntok = 0;

	if (!copy) {
		cli_error("out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *const *g = syscalls_group(tok);
		long nr;

		ntok++;
		if (g) {
			for (; *g; g++) {
				nr = syscalls_number(*g);
				if (nr >= 0 && nr < SC_NR_MAX)
					c->spec[nr] |= SC_SPEC_TRACED;
			}
			continue;
		}
		nr = syscalls_number(tok);
		if (nr < 0 || nr >= SC_NR_MAX) {
			cli_error("unknown syscall or group '%s' (groups: file, net, time, sync, mem, proc)",
				  tok);
			rc = -1;
			break;
		}
		c->spec[nr] |= SC_SPEC_TRACED;
	}
	free(copy);
	if (rc == 0 && ntok == 0) {
		cli_error("-e: empty syscall list '%s' (names or groups, comma-separated)", list);
		rc = -1;
	}
	c->filter = true;
	return rc;
}

static int scc_parse_args(int argc, char **argv, struct scc *c)
{
	enum { O_BY = 256, O_SLOW, O_RULES, O_HIST, O_JSON };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "syscalls", required_argument, NULL, 'e' },
		{ "by", required_argument, NULL, O_BY },
		{ "slow", required_argument, NULL, O_SLOW },
		{ "rules", required_argument, NULL, O_RULES },
		{ "hist", no_argument, NULL, O_HIST },
		{ "json", no_argument, NULL, O_JSON },
		{ "top", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *list = NULL;
	int o;

	c->top = 25;
	scc_default_spec(c->spec);
	while ((o = getopt_long(argc, argv, "p:d:i:e:n:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (c->npids >= SCC_MAX_TARGETS || !proc_parse_pid(optarg, &c->pids[c->npids])) {
				cli_error("invalid pid '%s'", optarg);
				return -1;
			}
			c->npids++;
			break;
		case 'd':
			if (scc_parse_double(optarg, &c->duration) || c->duration == 0) {
				cli_error("invalid duration '%s' (seconds > 0)", optarg);
				return -1;
			}
			break;
		case 'i':
			if (scc_parse_double(optarg, &c->interval) || c->interval < 0.1) {
				cli_error("invalid interval '%s' (seconds >= 0.1)", optarg);
				return -1;
			}
			break;
		case 'e':
			list = optarg;
			break;
		case O_BY:
			if (strcmp(optarg, "syscall") == 0)
				c->by = SC_BY_NONE;
			else if (strcmp(optarg, "tid") == 0)
				c->by = SC_BY_TID;
			else if (strcmp(optarg, "goid") == 0)
				c->by = SC_BY_GOID;
			else {
				cli_error("unknown --by '%s' (syscall, tid or goid)", optarg);
				return -1;
			}
			break;
		case O_SLOW:
			if (scc_parse_double(optarg, &c->slow_ms)) {
				cli_error("invalid --slow '%s' (milliseconds)", optarg);
				return -1;
			}
			if (c->slow_ms == 0)
				c->slow_ms = 1e-6; /* every call */
			break;
		case O_RULES:
			c->rules_path = optarg;
			break;
		case O_HIST:
			c->hist = true;
			break;
		case O_JSON:
			c->json = true;
			break;
		case 'n':
			c->top = atoi(optarg);
			if (c->top <= 0) {
				cli_error("invalid --top '%s'", optarg);
				return -1;
			}
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			scc_usage(stdout);
			exit(0);
		default:
			scc_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (targets are given with -p PID)", argv[optind]);
		return -1;
	}
	if (list && scc_parse_list(c, list) != 0)
		return -1;
	if (c->rules_path) {
		char err[512];

		if (netrules_load(c->rules_path, &c->rules, err, sizeof(err)) != 0) {
			cli_error("%s", err);
			return -1;
		}
	}
	return 0;
}

static struct scc_target *scc_find(struct scc *c, uint32_t pid)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if ((uint32_t)c->targets[i].pid == pid)
			return &c->targets[i];
	return NULL;
}

static const char *scc_name(uint32_t nr, char *buf, size_t len)
{
	const char *n = syscalls_name((long)nr);

	if (n)
		return n;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

static const char *scc_errname(int err, char *buf, size_t len)
{
	/* Kernel-internal: a signal interrupted the call (include/linux/errno.h). */
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR",
					       "ERESTARTNOHAND", "ENOIOCTLCMD",
					       "ERESTART_RESTARTBLOCK" };
	const char *n = strerrorname_np(err);

	if (!n && err >= 512 && err <= 516)
		return restart[err - 512];
	if (n)
		return n;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static void scc_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000ull)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 "ns", ns);
}

/*
 * The frames of an event's user stack, innermost first: frame 0 is the pc
 * in the syscall stub, the others return addresses. The frame-pointer walk
 * stops where the goroutine's stack ends or switches (goexit, mcall,
 * systemstack, mstart) or at the first address outside the binary.
 */
typedef void (*scc_frame_fn)(const struct pclntab_frame *fr, uint64_t pc, void *arg);

static void scc_frames(struct scc_target *t, const struct sc_event *e, scc_frame_fn fn, void *arg)
{
	struct pclntab_frame fr[SCC_MAX_INLINE];
	int n = e->nstack > 0 ? e->nstack / 8 : 0;

	for (int i = 0; i < n; i++) {
		uint64_t pc = (uint64_t)e->stack[i] - t->bias - (i > 0 ? 1 : 0);
		int k = t->gb ? pclntab_symbolize(t->gb->pcln, pc, fr, SCC_MAX_INLINE) : 0;
		const char *phys;

		if (k == 0) {
			if (i == 0)
				fn(NULL, (uint64_t)e->stack[i], arg);
			return;
		}
		phys = fr[k - 1].func;
		if (strcmp(phys, "runtime.goexit") == 0 || strcmp(phys, "runtime.mstart") == 0)
			return;
		for (int j = 0; j < k; j++)
			fn(&fr[j], (uint64_t)e->stack[i], arg);
		if (strcmp(phys, "runtime.mcall") == 0 || strcmp(phys, "runtime.systemstack") == 0)
			return;
	}
}

static void scc_frame_text(const struct pclntab_frame *fr, uint64_t pc, void *arg)
{
	FILE *out = arg;

	if (fr)
		fprintf(out, "        %s  %s:%d\n", fr->func, fr->file, fr->line);
	else
		fprintf(out, "        0x%" PRIx64 " ?\n", pc);
}

static void scc_frame_json(const struct pclntab_frame *fr, uint64_t pc, void *arg)
{
	char loc[600];

	if (fr)
		snprintf(loc, sizeof(loc), "%s %s:%d", fr->func, fr->file, fr->line);
	else
		snprintf(loc, sizeof(loc), "0x%" PRIx64, pc);
	jsonw_str(arg, loc);
}

static void scc_stack_text(FILE *out, struct scc_target *t, const struct sc_event *e)
{
	scc_frames(t, e, scc_frame_text, out);
}

static void scc_stack_json(struct jsonw *w, struct scc_target *t, const struct sc_event *e)
{
	jsonw_key(w, "stack");
	jsonw_arr_begin(w);
	scc_frames(t, e, scc_frame_json, w);
	jsonw_arr_end(w);
}

/* fd-taking syscalls: describe args[0]. */
static bool scc_fd_arg(const char *name)
{
	static const char *const fds[] = {
		"read", "write", "close", "pread64", "pwrite64", "readv", "writev", "fsync",
		"fdatasync", "sendto", "recvfrom", "sendmsg", "recvmsg", "connect", "accept",
		"accept4", "bind", "listen", "shutdown", "getsockname", "getpeername", "setsockopt",
		"getsockopt", "fstat", "lseek", "ftruncate", "getdents64", "fcntl", "flock",
		"epoll_wait", "epoll_pwait", "epoll_ctl", "ioctl", "sendfile", "splice", NULL,
	};

	for (size_t i = 0; fds[i]; i++)
		if (strcmp(fds[i], name) == 0)
			return true;
	return false;
}

/* The network-rule verb a syscall falls under, or -1. */
static int scc_verb(const char *name)
{
	if (strcmp(name, "connect") == 0)
		return NETRULES_CONNECT;
	if (strcmp(name, "sendto") == 0)
		return NETRULES_SENDTO;
	if (strcmp(name, "bind") == 0 || strcmp(name, "listen") == 0 ||
	    strcmp(name, "accept") == 0 || strcmp(name, "accept4") == 0)
		return NETRULES_LISTEN;
	return -1;
}

static void scc_on_event(const struct sc_event *e, void *arg)
{
	struct scc *c = arg;
	struct scc_target *t = scc_find(c, e->tgid);
	char nbuf[32], addr[200] = "", fdesc[340] = "", ebuf[16];
	const char *name = scc_name(e->nr, nbuf, sizeof(nbuf));
	struct fdinfo fi;
	bool have_fd = false;
	const char *kind = e->kind == SC_EV_SLOW ? "slow" : "alert";
	int verb = scc_verb(name);
	const struct sockaddr_storage *sa = NULL;
	size_t salen = 0;
	struct sockaddr_storage tmp;

	if (!t)
		return;
	if (scc_fd_arg(name) && fdinfo_get(t->pid, (int)e->args[0], &fi)) {
		have_fd = true;
		snprintf(fdesc, sizeof(fdesc), "%s", fi.desc);
	}
	if (e->addrlen > 0) {
		memset(&tmp, 0, sizeof(tmp));
		memcpy(&tmp, e->addr, (size_t)e->addrlen < sizeof(tmp) ? (size_t)e->addrlen : sizeof(tmp));
		sa = &tmp;
		salen = (size_t)e->addrlen;
		netrules_format_addr(sa, salen, addr, sizeof(addr));
	}
	if (e->kind == SC_EV_NET) {
		/* listen/accept: the port that matters is the socket's own. */
		if ((strcmp(name, "listen") == 0 || strncmp(name, "accept", 6) == 0) && have_fd &&
		    fi.has_local) {
			sa = &fi.local;
			salen = sizeof(fi.local);
			netrules_format_addr(sa, salen, addr, sizeof(addr));
		}
		/*
		 * connect and sendto are checked whatever they return: Go's
		 * non-blocking connect returns EINPROGRESS, a refused one
		 * ECONNREFUSED, and the attempt is what the rules forbid.
		 * bind/listen/accept only when they succeed (a non-blocking
		 * accept fails with EAGAIN all the time).
		 */
		bool failed = e->ret < 0 && verb == NETRULES_LISTEN;

		if (verb < 0 || !sa || failed ||
		    netrules_allowed(&c->rules, (enum netrules_verb)verb, sa, salen)) {
			if (!(c->slow_ms > 0 && e->dur_ns >= (uint64_t)(c->slow_ms * 1e6)))
				return;
			kind = "slow";
		} else {
			c->alerts++;
		}
	}
	c->events_shown++;
	if (c->json) {
		jsonw_obj_begin(&c->jw);
		jsonw_kstr(&c->jw, "event", kind);
		jsonw_kint(&c->jw, "pid", e->tgid);
		jsonw_kint(&c->jw, "tid", e->tid);
		jsonw_kuint(&c->jw, "goid", e->goid);
		jsonw_kstr(&c->jw, "syscall", name);
		jsonw_kdouble(&c->jw, "duration_us", (double)e->dur_ns / 1e3);
		jsonw_kint(&c->jw, "ret", e->ret);
		if (e->ret < 0 && e->ret >= -4095)
			jsonw_kstr(&c->jw, "errno", scc_errname((int)-e->ret, ebuf, sizeof(ebuf)));
		if (e->str[0])
			jsonw_kstr(&c->jw, "path", e->str);
		if (addr[0])
			jsonw_kstr(&c->jw, "addr", addr);
		if (have_fd) {
			jsonw_kint(&c->jw, "fd", (int64_t)e->args[0]);
			jsonw_kstr(&c->jw, "fd_kind", fi.kind);
			jsonw_kstr(&c->jw, "fd_desc", fi.desc);
		}
		if (strcmp(kind, "alert") == 0)
			jsonw_kstr(&c->jw, "rule", verb == NETRULES_CONNECT ? "connect"
						   : verb == NETRULES_SENDTO ? "sendto"
									     : "listen");
		jsonw_key(&c->jw, "args");
		jsonw_arr_begin(&c->jw);
		for (int i = 0; i < 6; i++)
			jsonw_uint(&c->jw, e->args[i]);
		jsonw_arr_end(&c->jw);
		scc_stack_json(&c->jw, t, e);
		jsonw_obj_end(&c->jw);
		fflush(stdout);
		return;
	}
	char dur[32];

	scc_dur(dur, sizeof(dur), e->dur_ns);
	if (strcmp(kind, "alert") == 0)
		printf("ALERT %s to %s not allowed by %s: pid %u goroutine %" PRIu64 "\n", name,
		       addr, c->rules_path, e->tgid, (uint64_t)e->goid);
	else
		printf("slow %s %s: pid %u tid %u goroutine %" PRIu64, name, dur, e->tgid, e->tid,
		       (uint64_t)e->goid);
	if (strcmp(kind, "alert") != 0) {
		if (e->ret < 0 && e->ret >= -4095)
			printf(" = %s", scc_errname((int)-e->ret, ebuf, sizeof(ebuf)));
		else
			printf(" = %lld", (long long)e->ret);
		putchar('\n');
	}
	if (e->str[0])
		printf("    path: %s\n", e->str);
	if (addr[0] && strcmp(kind, "alert") != 0)
		printf("    addr: %s\n", addr);
	if (have_fd)
		printf("    fd %d: %s\n", (int)e->args[0], fdesc);
	scc_stack_text(stdout, t, e);
	fflush(stdout);
}

/* One (pid, syscall[, id]) row merged with its errnos, for reports. */
struct scc_line {
	struct sysstat_row *r;
};

static int scc_cmp_rows(const void *a, const void *b)
{
	const struct sysstat_row *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static void scc_print_hist(const struct hist *h)
{
	/* Regroup the fine buckets by power of two for a compact picture. */
	uint64_t pow2[64] = { 0 }, peak = 0;
	int lo = 64, hi = -1;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		uint64_t v = hist_bucket_low(i);
		int p = v ? 63 - __builtin_clzll(v) : 0;

		pow2[p] += h->b[i];
		if (p < lo)
			lo = p;
		if (p > hi)
			hi = p;
	}
	for (int p = lo; p <= hi; p++)
		if (pow2[p] > peak)
			peak = pow2[p];
	for (int p = lo; p <= hi && peak; p++) {
		char a[32], b[32];
		int bar = (int)(40 * pow2[p] / peak);

		scc_dur(a, sizeof(a), 1ull << p);
		scc_dur(b, sizeof(b), (2ull << p) - 1);
		printf("      %9s .. %-9s %8" PRIu64 " |%.*s\n", a, b, pow2[p], bar,
		       "########################################");
	}
}

static void scc_report(struct scc *c, struct sysstat_row *rows, size_t n, struct sysstat_err *errs,
		       size_t nerrs, double secs, bool final, struct sysstat *ss)
{
	char nbuf[32], ebuf[16];
	bool multi = c->ntargets > 1;
	uint64_t drops[SC_DROP_MAX];

	for (int i = 0; i < SC_DROP_MAX; i++)
		drops[i] = sysstat_drops(ss, i);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), scc_cmp_rows);
	if (c->json) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		for (size_t i = 0; i < n; i++) {
			struct sysstat_row *r = &rows[i];

			jsonw_obj_begin(&c->jw);
			jsonw_kstr(&c->jw, "syscall", scc_name(r->nr, nbuf, sizeof(nbuf)));
			jsonw_kint(&c->jw, "pid", r->tgid);
			if (c->by == SC_BY_TID)
				jsonw_kuint(&c->jw, "tid", r->id);
			else if (c->by == SC_BY_GOID)
				jsonw_kuint(&c->jw, "goid", r->id);
			jsonw_kuint(&c->jw, "count", r->count);
			jsonw_kuint(&c->jw, "errors", r->errors);
			jsonw_key(&c->jw, "errnos");
			jsonw_obj_begin(&c->jw);
			for (size_t j = 0; j < nerrs; j++)
				if (errs[j].tgid == r->tgid && errs[j].nr == r->nr && errs[j].id == r->id)
					jsonw_kuint(&c->jw, scc_errname(errs[j].err, ebuf, sizeof(ebuf)),
						    errs[j].count);
			jsonw_obj_end(&c->jw);
			jsonw_kdouble(&c->jw, "total_us", (double)r->total_ns / 1e3);
			jsonw_kdouble(&c->jw, "p50_us", (double)hist_quantile(&r->h, 0.50) / 1e3);
			jsonw_kdouble(&c->jw, "p95_us", (double)hist_quantile(&r->h, 0.95) / 1e3);
			jsonw_kdouble(&c->jw, "p99_us", (double)hist_quantile(&r->h, 0.99) / 1e3);
			jsonw_kdouble(&c->jw, "max_us", (double)r->max_ns / 1e3);
			jsonw_kdouble(&c->jw, "rate_per_s", secs > 0 ? (double)r->count / secs : 0);
			if (!final || c->interval > 0)
				jsonw_kdouble(&c->jw, "interval_end",
					      (double)now.tv_sec + (double)now.tv_nsec / 1e9);
			jsonw_obj_end(&c->jw);
		}
		jsonw_obj_begin(&c->jw);
		jsonw_kstr(&c->jw, "event", "summary");
		jsonw_kdouble(&c->jw, "seconds", secs);
		jsonw_kuint(&c->jw, "dropped_stats", drops[SC_DROP_STATS]);
		jsonw_kuint(&c->jw, "dropped_errnos", drops[SC_DROP_ERRS]);
		jsonw_kuint(&c->jw, "dropped_events", drops[SC_DROP_EVENTS]);
		jsonw_kuint(&c->jw, "dropped_starts", drops[SC_DROP_START]);
		jsonw_kuint(&c->jw, "alerts", c->alerts);
		jsonw_obj_end(&c->jw);
		fflush(stdout);
		return;
	}
	printf("\ngoscope syscalls: %.2f s, %zu process%s", secs, c->ntargets,
	       c->ntargets == 1 ? "" : "es");
	for (size_t i = 0; i < c->ntargets; i++)
		printf("%s pid %d %s", i ? "," : ":", (int)c->targets[i].pid, c->targets[i].exe);
	printf("\n");
	printf("%s%-16s%s %9s %7s %10s %9s %9s %9s %9s %9s  %s\n", multi ? "    PID " : "", "SYSCALL",
	       c->by == SC_BY_TID ? "      TID" : c->by == SC_BY_GOID ? "     GOID" : "", "COUNT",
	       "ERRORS", "TOTAL", "AVG", "P50", "P95", "P99", "MAX", "ERRNOS");
	for (size_t i = 0; i < n && i < (size_t)c->top; i++) {
		struct sysstat_row *r = &rows[i];
		char tot[32], avg[32], p50[32], p95[32], p99[32], mx[32];

		scc_dur(tot, sizeof(tot), r->total_ns);
		scc_dur(avg, sizeof(avg), r->count ? r->total_ns / r->count : 0);
		scc_dur(p50, sizeof(p50), hist_quantile(&r->h, 0.50));
		scc_dur(p95, sizeof(p95), hist_quantile(&r->h, 0.95));
		scc_dur(p99, sizeof(p99), hist_quantile(&r->h, 0.99));
		scc_dur(mx, sizeof(mx), r->max_ns);
		if (multi)
			printf("%7u ", r->tgid);
		printf("%-16s", scc_name(r->nr, nbuf, sizeof(nbuf)));
		if (c->by != SC_BY_NONE)
			printf(" %8" PRIu64, r->id);
		printf(" %9" PRIu64 " %7" PRIu64 " %10s %9s %9s %9s %9s %9s ", r->count, r->errors, tot,
		       avg, p50, p95, p99, mx);
		for (size_t j = 0; j < nerrs; j++)
			if (errs[j].tgid == r->tgid && errs[j].nr == r->nr && errs[j].id == r->id)
				printf(" %s:%" PRIu64, scc_errname(errs[j].err, ebuf, sizeof(ebuf)),
				       errs[j].count);
		printf("\n");
		if (c->hist)
			scc_print_hist(&r->h);
	}
	if (n > (size_t)c->top)
		printf("... %zu more rows (-n to show more)\n", n - (size_t)c->top);
	if (n == 0)
		printf("(no system calls seen)\n");
	if (drops[SC_DROP_STATS] || drops[SC_DROP_ERRS] || drops[SC_DROP_EVENTS] ||
	    drops[SC_DROP_START])
		printf("dropped: %" PRIu64 " calls (stats table full), %" PRIu64
		       " errno counts, %" PRIu64 " events (ring buffer full), %" PRIu64
		       " calls (no start slot)\n",
		       drops[SC_DROP_STATS], drops[SC_DROP_ERRS], drops[SC_DROP_EVENTS],
		       drops[SC_DROP_START]);
	if (c->rules_path)
		printf("alerts: %" PRIu64 "\n", c->alerts);
	fflush(stdout);
}

/* Rate rules: alert when a process exceeds a syscall's calls per second. */
static void scc_check_rates(struct scc *c, struct sysstat_row *rows, size_t n, double secs)
{
	for (size_t k = 0; k < c->rules.nrate && secs > 0; k++) {
		const struct netrules_rate *rt = &c->rules.rate[k];

		for (size_t ti = 0; ti < c->ntargets; ti++) {
			uint64_t count = 0;

			for (size_t i = 0; i < n; i++)
				if (rows[i].tgid == (uint32_t)c->targets[ti].pid &&
				    (long)rows[i].nr == rt->nr)
					count += rows[i].count;
			if ((double)count / secs <= rt->per_sec)
				continue;
			c->alerts++;
			if (c->json) {
				jsonw_obj_begin(&c->jw);
				jsonw_kstr(&c->jw, "event", "alert");
				jsonw_kstr(&c->jw, "rule", "rate");
				jsonw_kint(&c->jw, "pid", c->targets[ti].pid);
				jsonw_kstr(&c->jw, "syscall", rt->name);
				jsonw_kdouble(&c->jw, "rate_per_s", (double)count / secs);
				jsonw_kdouble(&c->jw, "limit_per_s", rt->per_sec);
				jsonw_obj_end(&c->jw);
			} else {
				printf("ALERT %s rate %.1f/s over the limit %.1f/s: pid %d\n", rt->name,
				       (double)count / secs, rt->per_sec, (int)c->targets[ti].pid);
			}
		}
	}
}

static int scc_take_target(struct cli_target *t, bool discovered, void *udata)
{
	struct scc *c = udata;
	struct scc_target *st = &c->targets[c->ntargets++];

	(void)discovered;
	st->pid = t->proc.pid;
	snprintf(st->exe, sizeof(st->exe), "%s", t->proc.exe);
	st->gb = t->gb;
	st->bias = t->bias;
	return 0;
}

static double scc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_syscalls(int argc, char **argv)
{
	struct scc *c = calloc(1, sizeof(*c));
	struct sysstat_opts so = { 0 };
	struct sysstat *ss = NULL;
	struct sigaction sa;
	char err[512];
	double start, last_report, now;
	int rc = 1;

	if (!c) {
		cli_error("out of memory");
		return 1;
	}
	if (scc_parse_args(argc, argv, c) != 0) {
		rc = 2;
		goto out;
	}
	if (cli_targets_open(c->pids, c->npids, SCC_MAX_TARGETS, scc_take_target, c) != 0)
		goto out;
	jsonw_init(&c->jw, stdout);
	so.by = c->by;
	so.slow_ns = (uint64_t)(c->slow_ms * 1e6);
	so.net_events = c->rules_path != NULL;
	so.spec = c->spec;
	so.filter = c->filter;
	so.verbose = c->verbose;
	if (sysstat_open(&ss, &so, scc_on_event, c, err, sizeof(err)) != 0) {
		cli_error("%s", err);
		goto out;
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		struct scc_target *t = &c->targets[i];
		int goid_off = t->gb->offsets_known ? t->gb->off.g_goid : -1;

		if (sysstat_add_pid(ss, t->pid, goid_off) != 0) {
			cli_error("cannot add pid %d to the kernel's target map", (int)t->pid);
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = scc_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!c->json && c->duration == 0 && c->interval == 0)
		fprintf(stderr, "goscope: tracing syscalls of %zu Go process%s; Ctrl-C to stop and report\n",
			c->ntargets, c->ntargets == 1 ? "" : "es");
	start = last_report = scc_now();
	rc = 0;
	for (;;) {
		size_t alive = 0;

		if (sysstat_poll(ss, 100) < 0 && errno != EINTR)
			break;
		now = scc_now();
		for (size_t i = 0; i < c->ntargets; i++) {
			if (!c->targets[i].exited && !proc_alive(c->targets[i].pid)) {
				c->targets[i].exited = true;
				fprintf(stderr, "goscope: pid %d (%s) exited during the trace\n",
					(int)c->targets[i].pid, c->targets[i].exe);
			}
			alive += !c->targets[i].exited;
		}
		bool done = scc_stop || alive == 0 || (c->duration > 0 && now - start >= c->duration);

		if ((c->interval > 0 && now - last_report >= c->interval) || done) {
			struct sysstat_row *rows;
			struct sysstat_err *errs;
			size_t n, ne;

			sysstat_poll(ss, 0);
			if (sysstat_read(ss, &rows, &n, &errs, &ne) != 0) {
				cli_error("cannot read the kernel's aggregates");
				rc = 1;
				break;
			}
			scc_check_rates(c, rows, n, now - last_report);
			scc_report(c, rows, n, errs, ne, now - last_report, done, ss);
			last_report = now;
		}
		if (done)
			break;
	}
out:
	sysstat_close(ss);
	for (size_t i = 0; i < c->ntargets; i++)
		gobin_close(c->targets[i].gb);
	netrules_free(&c->rules);
	free(c);
	return rc;
}
