/*
 * bench_symbolize: how fast goscope turns pcs into function and file:line.
 *
 * For one Go binary it measures:
 *   - gobin_open (ELF, pclntab, moduledata, build info): median of runs;
 *   - lookups per second of pclntab_addr2line (the physical function and
 *     file:line, what `goscope addr2line` prints) and of pclntab_symbolize
 *     (inline expansion, behind the table's pc cache), on two workloads:
 *       uniform  pcs drawn uniformly from the text range: nearly every
 *                lookup misses every cache, as for a one-off addr2line of
 *                many addresses;
 *       hot      the same number of lookups drawn from a few thousand hot
 *                pcs (themselves uniform over the text, so the cost of one
 *                uncached lookup is the same as above), skewed so that half
 *                the lookups hit a quarter of them, as a profiler's or a
 *                tracer's stacks repeat the same frames.
 * With --gen it only prints uniform pcs, one per line, so bench/symbolize.sh
 * can feed `goscope addr2line` and `go tool addr2line` the same addresses.
 *
 * The pc streams are made before the clock starts; only the lookups are
 * timed (CLOCK_MONOTONIC). Every lookup result is folded into a checksum so
 * the compiler cannot drop the calls.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gobin/gobin.h"

#define BENCH_MAX_FRAMES 64
#define BENCH_MAX_RUNS 101

struct bench_opts {
	const char *path;
	uint64_t lookups;  /* per timed pass */
	unsigned opens;    /* gobin_open runs */
	unsigned passes;   /* timed passes per workload, the median is kept */
	uint64_t hot;      /* distinct pcs of the hot workload */
	uint64_t seed;
	bool tsv;
	bool gen;          /* print pcs instead of benchmarking */
	uint64_t gen_n;
	int64_t gen_shift; /* added to every printed pc */
};

struct bench_result {
	double secs;      /* median pass */
	double frames;    /* frames per lookup (symbolize), 1 for addr2line */
};

/* Sink for checksums: a volatile store the optimizer must keep. */
static volatile uint64_t bench_sink;

static void bench_usage(FILE *out)
{
	fprintf(out,
		"usage: bench_symbolize [OPTIONS] BINARY\n"
		"  -n N        lookups per timed pass (default 1000000)\n"
		"  -o N        gobin_open runs, median reported (default 9)\n"
		"  -p N        timed passes per workload, median reported (default 3)\n"
		"  -H N        distinct pcs of the hot workload (default 2048)\n"
		"  -s N        random seed (default 1)\n"
		"  -t          one tab-separated line instead of the table:\n"
		"              path funcs text_bytes open_ms open_min_ms a2l_uniform\n"
		"              sym_uniform a2l_hot sym_hot frames_uniform frames_hot\n"
		"              (rates in lookups/s)\n"
		"  --gen N     print N uniform pcs (hex, one a line) and exit\n"
		"  --shift D   with --gen: add D (signed, decimal or 0x hex) to each pc\n");
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* splitmix64: small, fast, and the same stream on every machine. */
static uint64_t bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double bench_unit(uint64_t *state)
{
	return (double)(bench_rand(state) >> 11) * 0x1.0p-53;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of N values; sorts V in place. */
static double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Parse an unsigned count in [MIN, MAX]; false on anything else. */
static bool bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool bench_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

/* N pcs uniform in [LO, HI). Returns NULL when out of memory. */
static uint64_t *bench_uniform_pcs(uint64_t lo, uint64_t hi, uint64_t n, uint64_t *state)
{
	uint64_t *pcs = malloc(n * sizeof(*pcs));

	if (!pcs)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		pcs[i] = lo + bench_rand(state) % (hi - lo);
	return pcs;
}

/*
 * N lookups over HOT distinct pcs uniform in [LO, HI): index u^2 * HOT for
 * u uniform in [0, 1), so half the lookups go to the first quarter.
 */
static uint64_t *bench_hot_pcs(uint64_t lo, uint64_t hi, uint64_t n, uint64_t hot,
			       uint64_t *state)
{
	uint64_t *set = bench_uniform_pcs(lo, hi, hot, state);
	uint64_t *pcs;

	if (!set)
		return NULL;
	pcs = malloc(n * sizeof(*pcs));
	if (!pcs) {
		free(set);
		return NULL;
	}
	for (uint64_t i = 0; i < n; i++) {
		double u = bench_unit(state);
		uint64_t k = (uint64_t)(u * u * (double)hot);

		pcs[i] = set[k < hot ? k : hot - 1];
	}
	free(set);
	return pcs;
}

/* Seconds for one pass of pclntab_addr2line over PCS. */
static double bench_pass_addr2line(struct pclntab *p, const uint64_t *pcs, uint64_t n)
{
	struct pclntab_frame fr;
	uint64_t sum = 0;
	double t0 = bench_now();

	for (uint64_t i = 0; i < n; i++) {
		pclntab_addr2line(p, pcs[i], &fr);
		sum += (uint64_t)(uintptr_t)fr.func + (uint64_t)(uintptr_t)fr.file +
		       (uint64_t)fr.line;
	}
	double t1 = bench_now();

	bench_sink += sum;
	return t1 - t0;
}

/* Seconds for one pass of pclntab_symbolize over PCS; frames in *NFRAMES. */
static double bench_pass_symbolize(struct pclntab *p, const uint64_t *pcs, uint64_t n,
				   uint64_t *nframes)
{
	struct pclntab_frame fr[BENCH_MAX_FRAMES];
	uint64_t sum = 0, frames = 0;
	double t0 = bench_now();

	for (uint64_t i = 0; i < n; i++) {
		int k = pclntab_symbolize(p, pcs[i], fr, BENCH_MAX_FRAMES);

		frames += (uint64_t)k;
		if (k > 0)
			sum += (uint64_t)(uintptr_t)fr[0].func + (uint64_t)fr[k - 1].line;
	}
	double t1 = bench_now();

	bench_sink += sum;
	*nframes = frames;
	return t1 - t0;
}

/* Median over O->passes passes of one function on one pc stream. */
static struct bench_result bench_run(struct pclntab *p, const uint64_t *pcs,
				     const struct bench_opts *o, bool inl)
{
	double secs[BENCH_MAX_RUNS];
	uint64_t frames = o->lookups;
	struct bench_result r;

	for (unsigned i = 0; i < o->passes; i++) {
		if (inl)
			secs[i] = bench_pass_symbolize(p, pcs, o->lookups, &frames);
		else
			secs[i] = bench_pass_addr2line(p, pcs, o->lookups);
	}
	r.secs = bench_median(secs, o->passes);
	r.frames = (double)frames / (double)o->lookups;
	return r;
}

/* Median and minimum milliseconds of O->opens gobin_open calls. */
static int bench_open(const struct bench_opts *o, double *median_ms, double *min_ms)
{
	double ms[BENCH_MAX_RUNS];
	char err[512];

	for (unsigned i = 0; i < o->opens; i++) {
		struct gobin *gb;
		double t0 = bench_now();

		if (gobin_open(o->path, &gb, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_symbolize: %s\n", err);
			return -1;
		}
		ms[i] = (bench_now() - t0) * 1e3;
		gobin_close(gb);
	}
	*median_ms = bench_median(ms, o->opens);
	*min_ms = ms[0]; /* bench_median sorted ms */
	return 0;
}

static int bench_gen(struct gobin *gb, const struct bench_opts *o)
{
	uint64_t lo, hi, state = o->seed;

	pclntab_range(gb->pcln, &lo, &hi);
	for (uint64_t i = 0; i < o->gen_n; i++) {
		uint64_t pc = lo + bench_rand(&state) % (hi - lo);

		printf("0x%" PRIx64 "\n", pc + (uint64_t)o->gen_shift);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

static double bench_rate(const struct bench_opts *o, struct bench_result r)
{
	return r.secs > 0 ? (double)o->lookups / r.secs : 0;
}

static int bench_main(const struct bench_opts *o)
{
	struct gobin *gb;
	char err[512];
	uint64_t lo, hi, state = o->seed;
	uint64_t *uni = NULL, *hot = NULL;
	double open_ms, open_min_ms;
	int rc = 1;

	if (gobin_open(o->path, &gb, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_symbolize: %s\n", err);
		return 1;
	}
	pclntab_range(gb->pcln, &lo, &hi);
	if (hi <= lo) {
		fprintf(stderr, "bench_symbolize: %s: empty text range\n", o->path);
		goto cleanup;
	}
	if (o->gen) {
		rc = bench_gen(gb, o) == 0 ? 0 : 1;
		goto cleanup;
	}
	if (bench_open(o, &open_ms, &open_min_ms) != 0)
		goto cleanup;
	uni = bench_uniform_pcs(lo, hi, o->lookups, &state);
	hot = bench_hot_pcs(lo, hi, o->lookups, o->hot, &state);
	if (!uni || !hot) {
		fprintf(stderr, "bench_symbolize: out of memory for %" PRIu64 " pcs\n",
			o->lookups);
		goto cleanup;
	}

	struct bench_result a2l_uni = bench_run(gb->pcln, uni, o, false);
	struct bench_result sym_uni = bench_run(gb->pcln, uni, o, true);
	struct bench_result a2l_hot = bench_run(gb->pcln, hot, o, false);
	struct bench_result sym_hot = bench_run(gb->pcln, hot, o, true);

	if (o->tsv) {
		printf("%s\t%zu\t%" PRIu64 "\t%.2f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.3f\n",
		       o->path, pclntab_nfunc(gb->pcln), hi - lo, open_ms, open_min_ms,
		       bench_rate(o, a2l_uni), bench_rate(o, sym_uni), bench_rate(o, a2l_hot),
		       bench_rate(o, sym_hot), sym_uni.frames, sym_hot.frames);
	} else {
		printf("binary        %s (%s, %zu functions, %.1f MiB of text)\n", o->path,
		       gobin_go_version(gb), pclntab_nfunc(gb->pcln),
		       (double)(hi - lo) / (1024.0 * 1024.0));
		printf("gobin_open    %.2f ms median, %.2f ms min, %u runs\n", open_ms,
		       open_min_ms, o->opens);
		printf("lookups       %" PRIu64 " a pass, median of %u passes, hot set %" PRIu64
		       " pcs\n\n",
		       o->lookups, o->passes, o->hot);
		printf("%-20s %16s %16s %8s\n", "lookups/s", "uniform", "hot", "hot/uni");
		printf("%-20s %16.0f %16.0f %7.1fx\n", "pclntab_addr2line",
		       bench_rate(o, a2l_uni), bench_rate(o, a2l_hot),
		       bench_rate(o, a2l_hot) / bench_rate(o, a2l_uni));
		printf("%-20s %16.0f %16.0f %7.1fx\n", "pclntab_symbolize",
		       bench_rate(o, sym_uni), bench_rate(o, sym_hot),
		       bench_rate(o, sym_hot) / bench_rate(o, sym_uni));
		printf("%-20s %16.3f %16.3f\n", "frames per pc", sym_uni.frames, sym_hot.frames);
	}
	rc = 0;
cleanup:
	free(uni);
	free(hot);
	gobin_close(gb);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gen", required_argument, NULL, 'g' },
		{ "shift", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.lookups = 1000000, .opens = 9, .passes = 3, .hot = 2048, .seed = 1,
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "n:o:p:H:s:th", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 'n':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 16, &o.lookups);
			break;
		case 'o':
			ok = bench_parse_u64(optarg, 1, BENCH_MAX_RUNS, &v);
			o.opens = (unsigned)v;
			break;
		case 'p':
			ok = bench_parse_u64(optarg, 1, BENCH_MAX_RUNS, &v);
			o.passes = (unsigned)v;
			break;
		case 'H':
			ok = bench_parse_u64(optarg, 1, UINT64_MAX / 16, &o.hot);
			break;
		case 's':
			ok = bench_parse_u64(optarg, 0, UINT64_MAX, &o.seed);
			break;
		case 't':
			o.tsv = true;
			break;
		case 'g':
			o.gen = true;
			ok = bench_parse_u64(optarg, 0, UINT64_MAX, &o.gen_n);
			break;
		case 'S':
			ok = bench_parse_i64(optarg, &o.gen_shift);
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "bench_symbolize: bad value: %s\n", optarg);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		bench_usage(stderr);
		return 2;
	}
	o.path = argv[optind];
	return bench_main(&o);
}
