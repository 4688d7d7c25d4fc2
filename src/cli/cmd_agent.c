/*
 * goscope agent: the always-on node agent. Discovers every Go process on
 * the host (and the ones started later), attaches the cheap collectors —
 * syscall statistics (kernel-aggregated), health signals, goroutine counts
 * and sampled blocking by reason — drops processes that exit, and serves
 * the Prometheus text format at /metrics (libmicrohttpd), optionally also
 * writing JSON lines each interval.
 *
 * Label cardinality is bounded by design: pid, exe and go_version on every
 * series, plus syscall / errno / reason; never goroutine ids, stacks or
 * addresses. Memory is bounded by --max-processes.
 */
#include "cli.h"

#include "../collect/health.h"
#include "../collect/offcpu.h"
#include "../collect/sysstat.h"
#include "../output/jsonw.h"
#include "../output/promtext.h"
#include "../proc/cgroup.h"
#include "../proc/discover.h"
#include "../proc/fdinfo.h"
#include "../proc/syscalls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AG_MAX_PROCS_LIMIT 4096
#define AG_MAX_REASONS 64
#define AG_MAX_ERRNOS 64
#define AG_MAX_FILTERS 32

/* Prometheus histogram bounds for syscall durations, in seconds. */
static const double ag_le[] = { 1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3,
				0.01, 0.05, 0.1, 0.5, 1, 5 };
#define AG_NLE (sizeof(ag_le) / sizeof(ag_le[0]))

struct ag_sys {
	uint64_t count;
	uint64_t errors;
	double seconds;
	uint64_t le[AG_NLE]; /* cumulative counts <= ag_le[i] */
};

struct ag_errno {
	uint32_t nr;
	int err;
	uint64_t count;
};

struct ag_reason {
	char name[64];
	double seconds;
};

struct ag_proc {
	pid_t pid;
	bool used;
	bool seen;      /* found by this discovery round */
	char exe[64];   /* base name */
	char go_version[32];
	struct gobin *gb; /* shared by the processes of one executable */
	dev_t exe_dev;
	ino_t exe_ino;
	uint64_t bias;
	struct offcpu oc; /* reason-only goroutine sampling, this process alone */
	bool oc_ok;
	struct ag_sys *sys; /* SC_NR_MAX entries, allocated on first syscall */
	struct ag_errno errnos[AG_MAX_ERRNOS];
	size_t nerrnos;
	struct ag_reason reasons[AG_MAX_REASONS];
	size_t nreasons;
	uint64_t goroutines;
	uint64_t open_fds;
	struct fdinfo_inodes inodes;
	uint64_t tcp_retrans;
	struct cgroup_stat cg;
	uint64_t majflt;
	double runq_seconds;
};

struct ag_cfg {
	char listen[128];
	double interval;
	double offcpu_freq;
	const char *json_lines;
	char exes[AG_MAX_FILTERS][64];
	size_t nexes;
	char cgroups[AG_MAX_FILTERS][256];
	size_t ncgroups;
	bool col_syscalls, col_health, col_offcpu;
	size_t max_procs;
	bool verbose;
};

struct ag {
	struct ag_cfg cfg;
	struct ag_proc *procs;
	struct sysstat *ss;
	struct health *h;
	FILE *jl;
	struct jsonw jw;
	/* The exposition the HTTP thread serves, swapped under the lock. */
	pthread_mutex_t lock;
	char *page;
	size_t page_len;
	uint64_t scrapes;
	uint64_t dropped_processes;  /* not tracked: --max-processes reached */
	uint64_t untraceable;        /* Go processes that could not be traced */
	uint64_t offcpu_torn;
	/* Processes not tracked (over the limit, unreadable): counted once each. */
	pid_t skipped[1024];
	size_t nskipped;
	struct MHD_Daemon *httpd;
	int listen_fd;
};

static volatile sig_atomic_t ag_stop;

static void ag_on_signal(int sig)
{
	(void)sig;
	ag_stop = 1;
}

static void ag_usage(FILE *out)
{
	fprintf(out,
		"usage: goscope agent [--listen ADDR:PORT] [--interval SEC] [--json-lines FILE|-]\n"
		"                     [--config FILE] [--exe NAME,...] [--cgroup PREFIX,...]\n"
		"                     [--collectors syscalls,health,offcpu] [--offcpu-freq HZ]\n"
		"                     [--max-processes N]\n"
		"Always-on node agent: every Go process on the host, Prometheus metrics at\n"
		"http://ADDR:PORT/metrics (default 127.0.0.1:9464).\n\n"
		"  --listen ADDR:PORT    where to serve /metrics (default 127.0.0.1:9464)\n"
		"  --interval SEC        collection interval (default 5)\n"
		"  --json-lines FILE|-   also write each interval's figures as JSON lines\n"
		"  --config FILE         settings as 'key = value' lines (the long options)\n"
		"  --exe NAMES           only executables with these base names\n"
		"  --cgroup PREFIXES     only processes whose cgroup path starts so\n"
		"  --collectors LIST     syscalls, health, offcpu (default: all)\n"
		"  --offcpu-freq HZ      goroutine snapshots per second (default 2)\n"
		"  --max-processes N     bound on tracked processes (default 256)\n"
		"  -v, --verbose         libbpf's log\n");
}

/* Split a comma list into up to AG_MAX_FILTERS entries of LEN bytes. */
static int ag_list(const char *s, char *dst, size_t len, size_t *n)
{
	char *copy = strdup(s), *tok, *save = NULL;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		if (!*tok)
			continue;
		if (*n >= AG_MAX_FILTERS) {
			free(copy);
			return -1;
		}
		snprintf(dst + *n * len, len, "%s", tok);
		(*n)++;
	}
	free(copy);
	return 0;
}

/*
 * Parse ADDR:PORT ([ADDR]:PORT for IPv6; an empty ADDR is every IPv4
 * address) into SS; returns a reason on error, NULL if fine.
 */
static const char *ag_listen_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	long port;
	char *end;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return "want ADDR:PORT";
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		return "bad port (want ADDR:PORT, PORT 1 to 65535)";
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0",
		      &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*sl = sizeof(struct sockaddr_in6);
	} else {
		return "ADDR is not an IP address";
	}
	return NULL;
}

/* Apply one setting KEY=VALUE; returns a reason on error, NULL if fine. */
static const char *ag_set(struct ag_cfg *c, const char *key, const char *val)
{
	char *end;

	if (strcmp(key, "listen") == 0) {
		struct sockaddr_storage ss;
		socklen_t sl;
		const char *why = ag_listen_addr(val, &ss, &sl);

		if (why)
			return why;
		if (strlen(val) >= sizeof(c->listen))
			return "listen wants ADDR:PORT";
		snprintf(c->listen, sizeof(c->listen), "%s", val);
	} else if (strcmp(key, "interval") == 0) {
		c->interval = strtod(val, &end);
		if (*end || c->interval < 0.5 || c->interval > 3600)
			return "interval wants seconds between 0.5 and 3600";
	} else if (strcmp(key, "offcpu-freq") == 0 || strcmp(key, "offcpu_freq") == 0) {
		c->offcpu_freq = strtod(val, &end);
		if (*end || c->offcpu_freq < 0.1 || c->offcpu_freq > 100)
			return "offcpu-freq wants 0.1 to 100 Hz";
	} else if (strcmp(key, "json-lines") == 0 || strcmp(key, "json_lines") == 0) {
		free((void *)c->json_lines); /* set again: the last one wins */
		c->json_lines = strdup(val);
		if (!c->json_lines)
			return "out of memory";
	} else if (strcmp(key, "exe") == 0) {
		if (ag_list(val, &c->exes[0][0], sizeof(c->exes[0]), &c->nexes) != 0)
			return "too many exe names";
	} else if (strcmp(key, "cgroup") == 0) {
		if (ag_list(val, &c->cgroups[0][0], sizeof(c->cgroups[0]), &c->ncgroups) != 0)
			return "too many cgroup prefixes";
	} else if (strcmp(key, "collectors") == 0) {
		char names[AG_MAX_FILTERS][32];
		size_t n = 0;

		if (ag_list(val, &names[0][0], sizeof(names[0]), &n) != 0 || n == 0)
			return "collectors wants a list of syscalls, health, offcpu";
		c->col_syscalls = c->col_health = c->col_offcpu = false;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(names[i], "syscalls") == 0)
				c->col_syscalls = true;
			else if (strcmp(names[i], "health") == 0)
				c->col_health = true;
			else if (strcmp(names[i], "offcpu") == 0)
				c->col_offcpu = true;
			else
				return "unknown collector (syscalls, health, offcpu)";
		}
	} else if (strcmp(key, "max-processes") == 0 || strcmp(key, "max_processes") == 0) {
		long v = strtol(val, &end, 10);

		if (*end || v < 1 || v > AG_MAX_PROCS_LIMIT)
			return "max-processes wants 1 to 4096";
		c->max_procs = (size_t)v;
	} else {
		return "unknown setting";
	}
	return NULL;
}

static int ag_config_file(struct ag_cfg *c, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	int lineno = 0;

	if (!f) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *k, *v, *e;
		const char *why;

		lineno++;
		p[strcspn(p, "#\n")] = 0;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			cli_error("%s:%d: expected 'key = value'", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = 0;
		k = p;
		v = eq + 1;
		for (e = eq; e > k && isspace((unsigned char)e[-1]); e--)
			e[-1] = 0;
		while (isspace((unsigned char)*v))
			v++;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); e--)
			e[-1] = 0;
		why = ag_set(c, k, v);
		if (why) {
			cli_error("%s:%d: %s: %s", path, lineno, k, why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int ag_parse(int argc, char **argv, struct ag_cfg *c)
{
	enum { O_LISTEN = 256, O_INTERVAL, O_JSON, O_CONFIG, O_EXE, O_CGROUP, O_COLL, O_FREQ, O_MAX };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "json-lines", required_argument, NULL, O_JSON },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "exe", required_argument, NULL, O_EXE },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "collectors", required_argument, NULL, O_COLL },
		{ "offcpu-freq", required_argument, NULL, O_FREQ },
		{ "max-processes", required_argument, NULL, O_MAX },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *keys[] = { [O_LISTEN - 256] = "listen",   [O_INTERVAL - 256] = "interval",
				      [O_JSON - 256] = "json-lines", [O_CONFIG - 256] = "config",
				      [O_EXE - 256] = "exe",         [O_CGROUP - 256] = "cgroup",
				      [O_COLL - 256] = "collectors", [O_FREQ - 256] = "offcpu-freq",
				      [O_MAX - 256] = "max-processes" };
	bool cli_exes = false, cli_cgroups = false;
	int o;

	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:9464");
	c->interval = 5;
	c->offcpu_freq = 2;
	c->col_syscalls = c->col_health = c->col_offcpu = true;
	c->max_procs = 256;
	/* A config file first, so that options on the command line win. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && ag_config_file(c, argv[i + 1]) != 0)
			return -1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		const char *why;

		if (o == 'v') {
			c->verbose = true;
			continue;
		}
		if (o == 'h') {
			ag_usage(stdout);
			exit(0);
		}
		if (o < O_LISTEN || o > O_MAX) {
			ag_usage(stderr);
			return -1;
		}
		if (o == O_CONFIG)
			continue;
		/* Lists from the command line replace the config file's (and add
		 * up over repeated options). */
		if (o == O_EXE && !cli_exes) {
			c->nexes = 0;
			cli_exes = true;
		} else if (o == O_CGROUP && !cli_cgroups) {
			c->ncgroups = 0;
			cli_cgroups = true;
		}
		why = ag_set(c, keys[o - 256], optarg);
		if (why) {
			cli_error("--%s %s: %s", keys[o - 256], optarg, why);
			return -1;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

/* Bind the listening socket ourselves, for a precise error message. */
static int ag_listen_socket(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *why = ag_listen_addr(spec, &ss, &sl);
	int fd, one = 1;

	if (why) {
		cli_error("--listen %s: %s", spec, why);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_error("cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
		cli_error("cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result ag_http(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_len, void **con_cls)
{
	struct ag *a = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body;
	size_t len;
	unsigned status = MHD_HTTP_OK;
	const char *ctype = "text/plain; version=0.0.4; charset=utf-8";

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		body = strdup("method not allowed\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") == 0) {
		pthread_mutex_lock(&a->lock);
		body = malloc(a->page_len + 1);
		if (body) {
			memcpy(body, a->page ? a->page : "", a->page_len);
			body[a->page_len] = 0;
		}
		a->scrapes++;
		pthread_mutex_unlock(&a->lock);
	} else if (strcmp(url, "/") == 0) {
		body = strdup("goscope agent: metrics at /metrics\n");
	} else {
		body = strdup("not found\n");
		status = MHD_HTTP_NOT_FOUND;
	}
	if (!body)
		return MHD_NO;
	len = strlen(body);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Remember a process not tracked; true the first time (count it then). */
static bool ag_skip_once(struct ag *a, pid_t pid)
{
	for (size_t i = 0; i < a->nskipped; i++)
		if (a->skipped[i] == pid)
			return false;
	if (a->nskipped < sizeof(a->skipped) / sizeof(a->skipped[0]))
		a->skipped[a->nskipped++] = pid;
	return true;
}

static bool ag_wanted(struct ag *a, pid_t pid, const char *exe_base)
{
	bool ok;

	if (a->cfg.nexes) {
		ok = false;
		for (size_t i = 0; i < a->cfg.nexes && !ok; i++)
			ok = strcmp(a->cfg.exes[i], exe_base) == 0;
		if (!ok)
			return false;
	}
	if (a->cfg.ncgroups) {
		struct cgroup_stat cg;

		if (!cgroup_read(pid, &cg))
			return false;
		ok = false;
		for (size_t i = 0; i < a->cfg.ncgroups && !ok; i++)
			ok = strncmp(cg.path, a->cfg.cgroups[i], strlen(a->cfg.cgroups[i])) == 0;
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Make S valid UTF-8 in place. Prometheus rejects a whole scrape over one
 * label value that is not, and an executable's name is any bytes (and
 * cutting it to the label's size may split a character): every byte that
 * does not begin a complete, shortest-form sequence becomes '?'.
 */
static void ag_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n, i;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 4;
			cp = *p & 0x07;
		} else {
			*p++ = '?';
			continue;
		}
		for (i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		if (i < n || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

static void ag_proc_free(struct ag *a, struct ag_proc *p)
{
	if (a->ss)
		sysstat_remove_pid(a->ss, p->pid);
	if (a->h)
		health_remove_pid(a->h, p->pid);
	if (p->oc_ok)
		offcpu_free(&p->oc); /* its own reference to p->gb */
	gobin_close(p->gb);
	free(p->sys);
	fdinfo_inodes_free(&p->inodes);
	memset(p, 0, sizeof(*p));
}

/* A new reference to the reader of executable DEV:INO, if one is open. */
static struct gobin *ag_shared_gobin(struct ag *a, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < a->cfg.max_procs; i++) {
		struct ag_proc *p = &a->procs[i];

		if (p->used && p->gb && p->exe_ino == ino && p->exe_dev == dev && ino)
			return gobin_ref(p->gb);
	}
	return NULL;
}

static struct ag_proc *ag_find(struct ag *a, pid_t pid)
{
	for (size_t i = 0; i < a->cfg.max_procs; i++)
		if (a->procs[i].used && a->procs[i].pid == pid)
			return &a->procs[i];
	return NULL;
}

/* Start tracking PID; false if it cannot be (not counted as an error). */
static bool ag_track(struct ag *a, pid_t pid)
{
	struct proc_target pt;
	struct ag_proc *p = NULL;
	char err[512];
	const char *base;
	struct gobin *gb = NULL;
	struct stat st = { 0 };
	uint64_t bias;

	char arg[16];

	snprintf(arg, sizeof(arg), "%d", (int)pid);
	if (proc_target_parse(arg, &pt, err, sizeof(err)) != 0)
		return false;
	base = strrchr(pt.exe, '/');
	base = base ? base + 1 : pt.exe;
	if (!ag_wanted(a, pid, base))
		return false;
	for (size_t i = 0; i < a->cfg.max_procs && !p; i++)
		if (!a->procs[i].used)
			p = &a->procs[i];
	if (!p) {
		if (ag_skip_once(a, pid))
			a->dropped_processes++;
		return false;
	}
	/*
	 * One reader per executable, not per process: a host runs many
	 * copies of the same service, and a reader holds the binary mapped
	 * and its symbol caches (megabytes).
	 */
	if (stat(pt.open_path, &st) == 0)
		gb = ag_shared_gobin(a, st.st_dev, st.st_ino);
	if ((!gb && gobin_open(pt.open_path, &gb, err, sizeof(err)) != 0) ||
	    proc_load_bias(pid, gb->img, &bias, err, sizeof(err)) != 0) {
		if (gb)
			gobin_close(gb);
		if (ag_skip_once(a, pid))
			a->untraceable++;
		return false;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->seen = true;
	p->pid = pid;
	p->gb = gb;
	p->exe_dev = st.st_dev;
	p->exe_ino = st.st_ino;
	p->bias = bias;
	/* An executable replaced on disk reads "name (deleted)": keep the name. */
	size_t blen = strlen(base);

	if (blen > 10 && strcmp(base + blen - 10, " (deleted)") == 0)
		blen -= 10;
	snprintf(p->exe, sizeof(p->exe), "%.*s", (int)(blen < 63 ? blen : 63), base);
	snprintf(p->go_version, sizeof(p->go_version), "%s", gobin_go_version(gb));
	ag_utf8(p->exe);
	ag_utf8(p->go_version);
	if (a->cfg.col_offcpu) {
		struct offcpu_opts oo = { .goid = -1, .no_stacks = true, .max_stacks = 256 };

		offcpu_init(&p->oc, &oo);
		/* offcpu_add_target takes its own reference to gb. */
		p->oc_ok = offcpu_add_target(&p->oc, pid, gb, bias, pt.exe, err, sizeof(err)) == 0;
		if (!p->oc_ok) {
			offcpu_free(&p->oc);
		} else {
			offcpu_sample(&p->oc, 0);
		}
	}
	if (a->ss)
		sysstat_add_pid(a->ss, pid, p->gb->offsets_known ? p->gb->off.g_goid : -1);
	if (a->h)
		health_add_pid(a->h, pid);
	return true;
}

static void ag_discover(struct ag *a)
{
	pid_t *pids = calloc(AG_MAX_PROCS_LIMIT, sizeof(*pids));
	long n;

	if (!pids)
		return;
	n = discover_go_pids(pids, AG_MAX_PROCS_LIMIT);
	for (size_t i = 0; i < a->cfg.max_procs; i++)
		a->procs[i].seen = false;
	for (long i = 0; i < n && i < AG_MAX_PROCS_LIMIT; i++) {
		struct ag_proc *p = ag_find(a, pids[i]);

		if (p)
			p->seen = true;
		else
			ag_track(a, pids[i]);
	}
	size_t freed = 0;

	for (size_t i = 0; i < a->cfg.max_procs; i++)
		if (a->procs[i].used && (!a->procs[i].seen || !proc_alive(a->procs[i].pid))) {
			ag_proc_free(a, &a->procs[i]);
			freed++;
		}
	/* Give a departed process's readers back to the system, not the heap. */
	if (freed)
		malloc_trim(0);
	/* Forget skipped processes that are gone (their pids may come back). */
	size_t k = 0;

	for (size_t i = 0; i < a->nskipped; i++)
		if (proc_alive(a->skipped[i]))
			a->skipped[k++] = a->skipped[i];
	a->nskipped = k;
	free(pids);
}

static void ag_add_errno(struct ag_proc *p, uint32_t nr, int err, uint64_t count)
{
	for (size_t i = 0; i < p->nerrnos; i++)
		if (p->errnos[i].nr == nr && p->errnos[i].err == err) {
			p->errnos[i].count += count;
			return;
		}
	if (p->nerrnos < AG_MAX_ERRNOS)
		p->errnos[p->nerrnos++] = (struct ag_errno){ nr, err, count };
}

static void ag_collect_syscalls(struct ag *a)
{
	struct sysstat_row *rows;
	struct sysstat_err *errs;
	size_t n, ne;

	if (!a->ss || sysstat_read(a->ss, &rows, &n, &errs, &ne) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct ag_proc *p = ag_find(a, (pid_t)rows[i].tgid);
		struct ag_sys *s;

		if (!p || rows[i].nr >= SC_NR_MAX)
			continue;
		if (!p->sys) {
			p->sys = calloc(SC_NR_MAX, sizeof(*p->sys));
			if (!p->sys)
				continue;
		}
		s = &p->sys[rows[i].nr];
		s->count += rows[i].count;
		s->errors += rows[i].errors;
		s->seconds += (double)rows[i].total_ns / 1e9;
		for (unsigned b = 0; b < HIST_BUCKETS; b++) {
			double v;

			if (!rows[i].h.b[b])
				continue;
			/* A bucket counts under a bound its upper edge does not exceed. */
			v = (double)hist_bucket_low(b + 1) / 1e9;
			for (size_t k = 0; k < AG_NLE; k++)
				if (v <= ag_le[k] * 1.0000001)
					s->le[k] += rows[i].h.b[b];
		}
	}
	for (size_t i = 0; i < ne; i++) {
		struct ag_proc *p = ag_find(a, (pid_t)errs[i].tgid);

		if (p)
			ag_add_errno(p, errs[i].nr, errs[i].err, errs[i].count);
	}
}

/* The tracked process holding socket INO, or NULL. */
static struct ag_proc *ag_socket_owner(struct ag *a, uint64_t ino)
{
	for (size_t i = 0; i < a->cfg.max_procs; i++)
		if (a->procs[i].used && fdinfo_inodes_has(&a->procs[i].inodes, ino))
			return &a->procs[i];
	return NULL;
}

/*
 * TCP entries are consumed: a tracked process's are added to its counter
 * and deleted, other processes' are swept (the map is host-wide and
 * bounded), so the counters only grow and the map never fills up.
 */
static enum health_tcp_fate ag_tcp_fate(const struct hl_tcp_key *k, void *arg)
{
	return ag_socket_owner(arg, k->ino) ? HEALTH_TCP_TAKE : HEALTH_TCP_STRAY;
}

static void ag_tcp_take(const struct hl_tcp_key *k, const struct hl_tcp_val *v, void *arg)
{
	struct ag_proc *p = ag_socket_owner(arg, k->ino);

	if (p && k->kind == HL_TCP_RETRANS)
		p->tcp_retrans += v->count;
}

static void ag_add_reason(struct ag_proc *p, const char *reason, double secs)
{
	char r[sizeof(p->reasons[0].name)];

	snprintf(r, sizeof(r), "%s", reason); /* from the binary: any bytes */
	ag_utf8(r);
	for (size_t i = 0; i < p->nreasons; i++)
		if (strcmp(p->reasons[i].name, r) == 0) {
			p->reasons[i].seconds += secs;
			return;
		}
	if (p->nreasons < AG_MAX_REASONS) {
		snprintf(p->reasons[p->nreasons].name, sizeof(p->reasons[0].name), "%s", r);
		p->reasons[p->nreasons++].seconds = secs;
	}
}

static void ag_collect_proc(struct ag *a, struct ag_proc *p)
{
	struct health_lat l;
	int n;

	if (p->oc_ok) {
		offcpu_flush(&p->oc);
		for (size_t i = 0; i < p->oc.nstacks; i++) {
			struct offcpu_stack *s = &p->oc.stacks[i];

			ag_add_reason(p, p->oc.reasons[s->reason], (double)s->total_ns / 1e9);
		}
		p->goroutines = p->oc.ntargets ? p->oc.targets[0].goroutines : 0;
		a->offcpu_torn += p->oc.torn;
		offcpu_reset(&p->oc);
	}
	n = fdinfo_scan(p->pid, NULL, &p->inodes);
	if (n >= 0)
		p->open_fds = (uint64_t)n;
	if (a->h) {
		if (health_runq(a->h, p->pid, &l))
			p->runq_seconds = (double)l.total_ns / 1e9;
	}
	cgroup_read(p->pid, &p->cg);
	proc_majflt(p->pid, &p->majflt);
}

static const char *ag_sysname(uint32_t nr, char *buf, size_t len)
{
	const char *n = syscalls_name((long)nr);

	if (n)
		return n;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

static const char *ag_errname(int err, char *buf, size_t len)
{
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static void ag_render(struct ag *a, struct promtext *pt)
{
	char pidbuf[16], nbuf[32], ebuf[16], le[32];
	size_t ntracked = 0;
	struct rusage ru;
	long rss_pages = 0;
	FILE *f;

	promtext_reset(pt);
	for (size_t i = 0; i < a->cfg.max_procs; i++)
		ntracked += a->procs[i].used;

#define AG_FOR_PROCS                                                                     \
	for (size_t i = 0; i < a->cfg.max_procs; i++)                                    \
		if (a->procs[i].used)
#define AG_LABELS(p)                                                                     \
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)(p)->pid);                            \
	struct promtext_label lab[3] = { { "pid", pidbuf }, { "exe", (p)->exe },         \
					 { "go_version", (p)->go_version } }

	if (a->cfg.col_syscalls) {
		promtext_family(pt, "goscope_syscalls_total", "counter", "System calls made.");
		AG_FOR_PROCS {
			struct ag_proc *p = &a->procs[i];

			AG_LABELS(p);
			for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++) {
				struct promtext_label x = { "syscall", NULL };

				if (!p->sys[nr].count)
					continue;
				x.value = ag_sysname(nr, nbuf, sizeof(nbuf));
				promtext_sample(pt, "goscope_syscalls_total", lab, 3, &x, 1,
						(double)p->sys[nr].count);
			}
		}
		promtext_family(pt, "goscope_syscall_errors_total", "counter",
				"System calls that failed, by errno.");
		AG_FOR_PROCS {
			struct ag_proc *p = &a->procs[i];

			AG_LABELS(p);
			for (size_t k = 0; k < p->nerrnos; k++) {
				struct promtext_label x[2] = {
					{ "syscall", ag_sysname(p->errnos[k].nr, nbuf, sizeof(nbuf)) },
					{ "errno", ag_errname(p->errnos[k].err, ebuf, sizeof(ebuf)) },
				};

				promtext_sample(pt, "goscope_syscall_errors_total", lab, 3, x, 2,
						(double)p->errnos[k].count);
			}
		}
		promtext_family(pt, "goscope_syscall_duration_seconds", "histogram",
				"Time spent in system calls.");
		AG_FOR_PROCS {
			struct ag_proc *p = &a->procs[i];

			AG_LABELS(p);
			for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++) {
				struct ag_sys *s = &p->sys[nr];
				struct promtext_label x[2] = { { "syscall", ag_sysname(nr, nbuf, sizeof(nbuf)) },
							       { "le", le } };

				if (!s->count)
					continue;
				for (size_t k = 0; k < AG_NLE; k++) {
					snprintf(le, sizeof(le), "%g", ag_le[k]);
					promtext_sample(pt, "goscope_syscall_duration_seconds_bucket", lab, 3, x,
							2, (double)s->le[k]);
				}
				snprintf(le, sizeof(le), "+Inf");
				promtext_sample(pt, "goscope_syscall_duration_seconds_bucket", lab, 3, x, 2,
						(double)s->count);
				promtext_sample(pt, "goscope_syscall_duration_seconds_sum", lab, 3, x, 1,
						s->seconds);
				promtext_sample(pt, "goscope_syscall_duration_seconds_count", lab, 3, x, 1,
						(double)s->count);
			}
		}
	}
	if (a->cfg.col_offcpu) {
		promtext_family(pt, "goscope_goroutines", "gauge", "Goroutines (not dead) at the last snapshot.");
		AG_FOR_PROCS {
			struct ag_proc *p = &a->procs[i];

			AG_LABELS(p);
			if (p->oc_ok)
				promtext_sample(pt, "goscope_goroutines", lab, 3, NULL, 0, (double)p->goroutines);
		}
		promtext_family(pt, "goscope_goroutine_blocked_seconds_total", "counter",
				"Goroutine time not running, by the runtime's wait reason (sampled).");
		AG_FOR_PROCS {
			struct ag_proc *p = &a->procs[i];

			AG_LABELS(p);
			for (size_t k = 0; k < p->nreasons; k++) {
				struct promtext_label x = { "reason", p->reasons[k].name };

				promtext_sample(pt, "goscope_goroutine_blocked_seconds_total", lab, 3, &x, 1,
						p->reasons[k].seconds);
			}
		}
	}
	if (a->cfg.col_health) {
		promtext_family(pt, "goscope_runq_delay_seconds_total", "counter",
				"Time the process's threads waited in the CPU run queue.");
		AG_FOR_PROCS {
			AG_LABELS(&a->procs[i]);
			promtext_sample(pt, "goscope_runq_delay_seconds_total", lab, 3, NULL, 0,
					a->procs[i].runq_seconds);
		}
		promtext_family(pt, "goscope_cfs_throttled_periods_total", "counter",
				"CFS periods in which the process's cgroup was throttled.");
		AG_FOR_PROCS {
			AG_LABELS(&a->procs[i]);
			promtext_sample(pt, "goscope_cfs_throttled_periods_total", lab, 3, NULL, 0,
					(double)a->procs[i].cg.nr_throttled);
		}
		promtext_family(pt, "goscope_tcp_retransmits_total", "counter",
				"TCP segments retransmitted on the process's sockets.");
		AG_FOR_PROCS {
			AG_LABELS(&a->procs[i]);
			promtext_sample(pt, "goscope_tcp_retransmits_total", lab, 3, NULL, 0,
					(double)a->procs[i].tcp_retrans);
		}
		promtext_family(pt, "goscope_major_faults_total", "counter", "Major page faults.");
		AG_FOR_PROCS {
			AG_LABELS(&a->procs[i]);
			promtext_sample(pt, "goscope_major_faults_total", lab, 3, NULL, 0,
					(double)a->procs[i].majflt);
		}
		promtext_family(pt, "goscope_open_fds", "gauge", "Open file descriptors.");
		AG_FOR_PROCS {
			AG_LABELS(&a->procs[i]);
			promtext_sample(pt, "goscope_open_fds", lab, 3, NULL, 0, (double)a->procs[i].open_fds);
		}
	}
#undef AG_FOR_PROCS
#undef AG_LABELS

	promtext_family(pt, "goscope_tracked_processes", "gauge", "Go processes the agent traces.");
	promtext_sample(pt, "goscope_tracked_processes", NULL, 0, NULL, 0, (double)ntracked);
	promtext_family(pt, "goscope_dropped_events_total", "counter",
			"What the agent could not record, by source.");
	{
		struct promtext_label x = { "source", NULL };
		struct {
			const char *name;
			uint64_t v;
		} d[] = {
			{ "syscall_stats", a->ss ? sysstat_drops(a->ss, SC_DROP_STATS) : 0 },
			{ "syscall_errnos", a->ss ? sysstat_drops(a->ss, SC_DROP_ERRS) : 0 },
			{ "syscall_starts", a->ss ? sysstat_drops(a->ss, SC_DROP_START) : 0 },
			{ "health_runq", a->h ? health_drops(a->h, HL_DROP_RUNQ) : 0 },
			{ "health_maps", a->h ? health_drops(a->h, HL_DROP_MAPS) : 0 },
			{ "offcpu_torn_stacks", a->offcpu_torn },
			{ "processes_over_limit", a->dropped_processes },
			{ "processes_untraceable", a->untraceable },
		};

		for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++) {
			x.value = d[k].name;
			promtext_sample(pt, "goscope_dropped_events_total", NULL, 0, &x, 1, (double)d[k].v);
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	promtext_family(pt, "process_cpu_seconds_total", "counter", "CPU time of the agent.");
	promtext_sample(pt, "process_cpu_seconds_total", NULL, 0, NULL, 0,
			(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
				(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%*d %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(f);
	}
	promtext_family(pt, "process_resident_memory_bytes", "gauge", "Resident memory of the agent.");
	promtext_sample(pt, "process_resident_memory_bytes", NULL, 0, NULL, 0,
			(double)rss_pages * (double)sysconf(_SC_PAGESIZE));
	promtext_family(pt, "goscope_scrapes_total", "counter", "Requests for /metrics served.");
	promtext_sample(pt, "goscope_scrapes_total", NULL, 0, NULL, 0, (double)a->scrapes);
}

static void ag_json(struct ag *a)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < a->cfg.max_procs; i++) {
		struct ag_proc *p = &a->procs[i];

		if (!p->used)
			continue;
		jsonw_obj_begin(&a->jw);
		jsonw_kdouble(&a->jw, "time", (double)now.tv_sec + (double)now.tv_nsec / 1e9);
		jsonw_kint(&a->jw, "pid", p->pid);
		jsonw_kstr(&a->jw, "exe", p->exe);
		jsonw_kstr(&a->jw, "go_version", p->go_version);
		if (p->oc_ok) /* not read: no offcpu collector, or Go < 1.17 */
			jsonw_kuint(&a->jw, "goroutines", p->goroutines);
		jsonw_kuint(&a->jw, "open_fds", p->open_fds);
		jsonw_kdouble(&a->jw, "runq_delay_seconds_total", p->runq_seconds);
		jsonw_kuint(&a->jw, "cfs_throttled_periods_total", p->cg.nr_throttled);
		jsonw_kuint(&a->jw, "tcp_retransmits_total", p->tcp_retrans);
		jsonw_kuint(&a->jw, "major_faults_total", p->majflt);
		jsonw_key(&a->jw, "syscalls_total");
		jsonw_obj_begin(&a->jw);
		for (uint32_t nr = 0; p->sys && nr < SC_NR_MAX; nr++)
			if (p->sys[nr].count && syscalls_name(nr))
				jsonw_kuint(&a->jw, syscalls_name(nr), p->sys[nr].count);
		jsonw_obj_end(&a->jw);
		jsonw_key(&a->jw, "blocked_seconds_total");
		jsonw_obj_begin(&a->jw);
		for (size_t k = 0; k < p->nreasons; k++)
			jsonw_kdouble(&a->jw, p->reasons[k].name, p->reasons[k].seconds);
		jsonw_obj_end(&a->jw);
		jsonw_obj_end(&a->jw);
	}
	fflush(a->jl);
}

static double ag_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_agent(int argc, char **argv)
{
	struct ag *a = calloc(1, sizeof(*a));
	struct promtext pt;
	struct sigaction sa;
	char err[512], missing[512];
	double next_collect, next_sample, next_discover;
	int rc = 1;

	promtext_init(&pt);
	if (!a) {
		cli_error("out of memory");
		return 1;
	}
	pthread_mutex_init(&a->lock, NULL);
	a->listen_fd = -1;
	if (ag_parse(argc, argv, &a->cfg) != 0) {
		rc = 2;
		goto out;
	}
	a->procs = calloc(a->cfg.max_procs, sizeof(*a->procs));
	if (!a->procs) {
		cli_error("out of memory");
		goto out;
	}
	a->listen_fd = ag_listen_socket(a->cfg.listen);
	if (a->listen_fd < 0)
		goto out;
	if (a->cfg.json_lines) {
		a->jl = strcmp(a->cfg.json_lines, "-") == 0 ? stdout : fopen(a->cfg.json_lines, "ae");
		if (!a->jl) {
			cli_error("cannot write %s: %s", a->cfg.json_lines, strerror(errno));
			goto out;
		}
		jsonw_init(&a->jw, a->jl);
	}
	if (a->cfg.col_syscalls) {
		struct sysstat_opts so = { .verbose = a->cfg.verbose };

		if (sysstat_open(&a->ss, &so, NULL, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "goscope: agent: syscall statistics disabled: %s\n", err);
			a->ss = NULL;
		}
	}
	if (a->cfg.col_health) {
		/* Only what the agent exports: no stacks, drops or state changes. */
		if (health_open(&a->h, HEALTH_SIG_RUNQ | HEALTH_SIG_TCP_RETRANS, a->cfg.verbose,
				missing, sizeof(missing), err, sizeof(err)) != 0) {
			fprintf(stderr, "goscope: agent: health signals disabled: %s\n", err);
			a->h = NULL;
		} else if (missing[0]) {
			fprintf(stderr, "goscope: agent: not measured on this kernel: %s\n", missing);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ag_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ag_discover(a);
	next_collect = next_sample = next_discover = ag_now();
	double last_sample = ag_now();

	rc = 0;
	while (!ag_stop) {
		double now = ag_now(), wake;
		struct timespec ts;

		if (now >= next_discover) {
			ag_discover(a);
			next_discover = now + 2;
		}
		if (a->cfg.col_offcpu && now >= next_sample) {
			for (size_t i = 0; i < a->cfg.max_procs; i++)
				if (a->procs[i].used && a->procs[i].oc_ok)
					offcpu_sample(&a->procs[i].oc, (uint64_t)((now - last_sample) * 1e9));
			last_sample = now;
			next_sample = now + 1.0 / a->cfg.offcpu_freq;
		}
		if (now >= next_collect) {
			ag_collect_syscalls(a);
			for (size_t i = 0; i < a->cfg.max_procs; i++)
				if (a->procs[i].used)
					ag_collect_proc(a, &a->procs[i]);
			/* Not once per process: the map holds every socket of the
			 * host, and each entry costs bpf(2) calls. */
			if (a->h)
				health_tcp_sweep(a->h, ag_tcp_fate, ag_tcp_take, a);
			ag_render(a, &pt);
			if (!pt.oom) {
				char *page = malloc(pt.len + 1);

				if (page) {
					memcpy(page, pt.buf, pt.len + 1);
					pthread_mutex_lock(&a->lock);
					free(a->page);
					a->page = page;
					a->page_len = pt.len;
					pthread_mutex_unlock(&a->lock);
				}
			}
			if (a->jl)
				ag_json(a);
			next_collect = now + a->cfg.interval;
			/*
			 * Serve only once there is a complete page: the socket is
			 * bound (a port in use failed early), scrapers wait in its
			 * backlog meanwhile.
			 */
			if (!a->httpd) {
				a->httpd = MHD_start_daemon(
					MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, ag_http, a,
					MHD_OPTION_LISTEN_SOCKET, a->listen_fd,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
				if (!a->httpd) {
					cli_error("cannot start the HTTP server on %s", a->cfg.listen);
					rc = 1;
					break;
				}
				fprintf(stderr, "goscope: agent serving http://%s/metrics\n",
					a->cfg.listen);
			}
		}
		wake = next_collect;
		if (a->cfg.col_offcpu && next_sample < wake)
			wake = next_sample;
		if (next_discover < wake)
			wake = next_discover;
		now = ag_now();
		if (wake > now) {
			ts.tv_sec = (time_t)(wake - now);
			ts.tv_nsec = (long)((wake - now - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "goscope: agent stopping\n");
out:
	if (a->httpd)
		MHD_stop_daemon(a->httpd);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	for (size_t i = 0; a->procs && i < a->cfg.max_procs; i++)
		if (a->procs[i].used)
			ag_proc_free(a, &a->procs[i]);
	free(a->procs);
	sysstat_close(a->ss);
	health_close(a->h);
	if (a->jl && a->jl != stdout)
		fclose(a->jl);
	free((void *)a->cfg.json_lines);
	free(a->page);
	promtext_free(&pt);
	pthread_mutex_destroy(&a->lock);
	free(a);
	return rc;
}
