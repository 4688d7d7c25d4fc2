/*
 * test_pprof: the profile.proto writer (output/pprof.c). A profile of two
 * samples over the hello fixture's pcs is written, gunzipped and decoded
 * back with protobuf-c's code generated from the same profile.proto, and
 * everything is checked: the string table, sample types, values, labels,
 * locations (address, mapping, inlined frames as lines, innermost first,
 * as pclntab_symbolize gives them), functions (one per name and file),
 * the pseudo-frames, the mapping, comments and times. When go is
 * installed, `go tool pprof -traces` must read the file and print the
 * same stacks.
 */
#include "testutil.h"

#include <zlib.h>

#include "gofixture.h"
#include "output/pprof.h"
#include "profile.pb-c.h"

static struct gobin *gb;
static char tmpdir[] = "/tmp/test_pprof.XXXXXX";
static char path[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	gb = gf_open("hello");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/prof.pb.gz", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (gb)
		gobin_close(gb);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* The whole gunzipped file. */
static uint8_t *gunzip_file(const char *p, size_t *len)
{
	gzFile gz = gzopen(p, "rb");
	struct tu_buf b = { 0 };
	uint8_t chunk[65536];
	int n;

	assert_non_null(gz);
	while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
		tu_put(&b, chunk, (size_t)n);
	assert_true(n == 0);
	gzclose(gz);
	*len = b.len;
	return b.p;
}

static const char *str_of(const Perftools__Profiles__Profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

static const Perftools__Profiles__Location *loc_of(const Perftools__Profiles__Profile *p,
						   uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (p->location[i]->id == id)
			return p->location[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const Perftools__Profiles__Function *func_of(const Perftools__Profiles__Profile *p,
						    uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

/* A location's lines must be what pclntab says of PC-1, innermost first. */
static void check_pc_location(const Perftools__Profiles__Profile *p,
			      const Perftools__Profiles__Location *l, uint64_t pc)
{
	struct pclntab_frame fr[16];
	int m = pclntab_symbolize(gb->pcln, pc - 1, fr, 16);

	assert_true(m > 0);
	assert_int_equal(l->address, pc - 1);
	assert_int_equal(l->mapping_id, 1);
	assert_int_equal(l->n_line, (size_t)m);
	for (int i = 0; i < m; i++) {
		const Perftools__Profiles__Function *f = func_of(p, l->line[i]->function_id);

		assert_string_equal(str_of(p, f->name), fr[i].func);
		assert_string_equal(str_of(p, f->filename), fr[i].file);
		assert_int_equal(l->line[i]->line, fr[i].line);
	}
}

/* A pseudo-frame: one line, no mapping, a function named NAME. */
static void check_pseudo(const Perftools__Profiles__Profile *p,
			 const Perftools__Profiles__Location *l, const char *name)
{
	assert_int_equal(l->mapping_id, 0);
	assert_int_equal(l->n_line, 1);
	assert_string_equal(str_of(p, func_of(p, l->line[0]->function_id)->name), name);
}

static void test_roundtrip(void **state)
{
	static const char *const types[] = { "waits", "delay" };
	static const char *const units[] = { "count", "nanoseconds" };
	uint64_t pc_inl, ra_main, ra_rtmain;
	struct pprof *pp;
	uint64_t map;
	uint8_t *raw;
	size_t len;
	Perftools__Profiles__Profile *p;

	(void)state;
	TU_REQUIRE(gb, "build/fixtures/hello missing (make fixtures)");
	pc_inl = gf_pc_with_frames(gb, "main.outer", 2);
	ra_main = gf_entry(gb, "main.main") + 0x10;
	ra_rtmain = gf_entry(gb, "runtime.main") + 0x40;
	assert_true(pc_inl != 0);

	pp = pprof_new(2, types, units);
	assert_non_null(pp);
	pprof_set_time(pp, 1700000000000000000ll, 5000000000ll);
	pprof_add_comment(pp, "goscope offcpu -d 5");
	map = pprof_mapping(pp, gb, 0, "/srv/hello", 0x400000, 0x500000);
	assert_int_equal(map, 1);
	{
		uint64_t pcs[] = { pc_inl + 1, ra_main, ra_rtmain };
		int64_t v[] = { 3, 1500 };
		struct pprof_label l[] = {
			{ "reason", "chan receive", 0, NULL },
			{ "goid", NULL, 17, NULL },
			{ "wait", NULL, 250, "nanoseconds" },
		};

		assert_int_equal(pprof_sample(pp, map, pcs, 3, "[chan receive]", "hello (42)", v,
					      l, 3),
				 0);
	}
	{
		/* Shares main.main and runtime.main: their locations are reused. */
		uint64_t pcs[] = { ra_main, ra_rtmain };
		int64_t v[] = { 1, 7 };

		assert_int_equal(pprof_sample(pp, map, pcs, 2, NULL, NULL, v, NULL, 0), 0);
	}
	assert_int_equal(pprof_write(pp, path), 0);
	pprof_free(pp);

	raw = gunzip_file(path, &len);
	p = perftools__profiles__profile__unpack(NULL, len, raw);
	assert_non_null(p);

	assert_true(p->n_string_table > 0);
	assert_string_equal(p->string_table[0], "");
	/* No string twice. */
	for (size_t i = 0; i < p->n_string_table; i++)
		for (size_t j = i + 1; j < p->n_string_table; j++)
			assert_true(strcmp(p->string_table[i], p->string_table[j]) != 0);
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str_of(p, p->sample_type[0]->type), "waits");
	assert_string_equal(str_of(p, p->sample_type[0]->unit), "count");
	assert_string_equal(str_of(p, p->sample_type[1]->type), "delay");
	assert_string_equal(str_of(p, p->sample_type[1]->unit), "nanoseconds");
	assert_string_equal(str_of(p, p->default_sample_type), "delay");
	assert_non_null(p->period_type);
	assert_string_equal(str_of(p, p->period_type->type), "delay");
	assert_int_equal(p->time_nanos, 1700000000000000000ll);
	assert_int_equal(p->duration_nanos, 5000000000ll);
	assert_int_equal(p->n_comment, 1);
	assert_string_equal(str_of(p, p->comment[0]), "goscope offcpu -d 5");

	assert_int_equal(p->n_mapping, 1);
	assert_int_equal(p->mapping[0]->id, 1);
	assert_string_equal(str_of(p, p->mapping[0]->filename), "/srv/hello");
	assert_int_equal(p->mapping[0]->memory_start, 0x400000);
	assert_int_equal(p->mapping[0]->memory_limit, 0x500000);
	assert_true(p->mapping[0]->has_functions && p->mapping[0]->has_line_numbers &&
		    p->mapping[0]->has_inline_frames);

	assert_int_equal(p->n_sample, 2);
	{
		const Perftools__Profiles__Sample *s = p->sample[0];

		assert_int_equal(s->n_value, 2);
		assert_int_equal(s->value[0], 3);
		assert_int_equal(s->value[1], 1500);
		assert_int_equal(s->n_location_id, 5);
		check_pseudo(p, loc_of(p, s->location_id[0]), "[chan receive]");
		check_pc_location(p, loc_of(p, s->location_id[1]), pc_inl + 1);
		assert_int_equal(loc_of(p, s->location_id[1])->n_line, 2); /* inner inlined */
		check_pc_location(p, loc_of(p, s->location_id[2]), ra_main);
		check_pc_location(p, loc_of(p, s->location_id[3]), ra_rtmain);
		check_pseudo(p, loc_of(p, s->location_id[4]), "hello (42)");
		assert_int_equal(s->n_label, 3);
		assert_string_equal(str_of(p, s->label[0]->key), "reason");
		assert_string_equal(str_of(p, s->label[0]->str), "chan receive");
		assert_string_equal(str_of(p, s->label[1]->key), "goid");
		assert_int_equal(s->label[1]->str, 0);
		assert_int_equal(s->label[1]->num, 17);
		assert_int_equal(s->label[1]->num_unit, 0);
		assert_string_equal(str_of(p, s->label[2]->key), "wait");
		assert_int_equal(s->label[2]->num, 250);
		assert_string_equal(str_of(p, s->label[2]->num_unit), "nanoseconds");
	}
	{
		const Perftools__Profiles__Sample *s = p->sample[1];

		assert_int_equal(s->value[0], 1);
		assert_int_equal(s->value[1], 7);
		assert_int_equal(s->n_location_id, 2);
		assert_int_equal(s->n_label, 0);
		/* The same pcs are the same locations. */
		assert_int_equal(s->location_id[0], p->sample[0]->location_id[2]);
		assert_int_equal(s->location_id[1], p->sample[0]->location_id[3]);
	}
	/* 2 pseudo-frames + 3 pcs; ids are 1..n, functions one per (name, file). */
	assert_int_equal(p->n_location, 5);
	for (size_t i = 0; i < p->n_location; i++)
		assert_int_equal(p->location[i]->id, i + 1);
	for (size_t i = 0; i < p->n_function; i++) {
		assert_int_equal(p->function[i]->id, i + 1);
		for (size_t j = i + 1; j < p->n_function; j++)
			assert_false(p->function[i]->name == p->function[j]->name &&
				     p->function[i]->filename == p->function[j]->filename);
	}
	assert_int_equal(p->n_function, 6); /* [chan receive], inner, outer, main, runtime.main, root */
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
}

/* `go tool pprof -traces` is an independent reader of the same file. */
static void test_go_tool_pprof(void **state)
{
	char cmd[5 * PATH_MAX], *out;

	(void)state;
	TU_REQUIRE(gb, "build/fixtures/hello missing (make fixtures)");
	TU_REQUIRE(tu_have("go"), "no go toolchain");
	TU_REQUIRE(access(path, R_OK) == 0, "no profile written (test_roundtrip failed)");
	snprintf(cmd, sizeof(cmd),
		 "cd %s && HOME=%s PPROF_TMPDIR=%s PPROF_BINARY_PATH=%s go tool pprof -traces "
		 "-sample_index=delay %s 2>/dev/null",
		 tmpdir, tmpdir, tmpdir, tmpdir, path);
	out = tu_run(cmd);
	TU_REQUIRE(out, "go tool pprof failed");
	/* Sample 1 (1500 ns), leaf first, inlined frame included; sample 2 (7 ns). */
	if (!strstr(out, "1.50us   [chan receive]\n") || !strstr(out, "main.inner (inline)\n") ||
	    !strstr(out, "main.outer\n") || !strstr(out, "hello (42)\n") ||
	    !strstr(out, "7ns   main.main\n") || !strstr(out, "reason:  chan receive\n") ||
	    !strstr(out, "goid:  17\n") || !strstr(out, "wait:  250ns\n") ||
	    !strstr(out, "Duration: 5s"))
		fail_msg("go tool pprof -traces:\n%s", out);
	assert_true(strstr(out, "[chan receive]") < strstr(out, "main.inner"));
	assert_true(strstr(out, "main.inner") < strstr(out, "main.outer"));
	assert_true(strstr(out, "main.outer") < strstr(out, "hello (42)"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_go_tool_pprof),
	};

	return cmocka_run_group_tests_name("pprof", tests, setup, teardown);
}
