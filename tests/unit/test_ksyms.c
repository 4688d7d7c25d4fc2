/*
 * test_ksyms: /proc/kallsyms parsing and lookup on a written file (text
 * symbols only, modules, unsorted input, the last symbol at or below an
 * address, kptr_restrict's all-zero file), and on the live
 * /proc/kallsyms: every text symbol found at its own address.
 */
#include "testutil.h"

#include "proc/ksyms.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_ksyms.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_parse_lookup(void **state)
{
	char err[200];
	char *path = write_tmp("ffffffff81000200 T vfs_write\n"
			       "ffffffff81000000 T _stext\n"
			       "ffffffff81000100 t ksys_write\n"
			       "ffffffff82000000 D some_data\n"
			       "ffffffff81000300 W weak_fn\n"
			       "ffffffffc0001000 t nf_hook\t[nf_tables]\n"
			       "ffffffffc0001100 t nf_other\t[nf_tables]\n"
			       "garbage line\n");
	struct ksyms *ks = ksyms_load(path, err, sizeof(err));
	uint64_t off;
	const char *mod, *name;

	(void)state;
	unlink(path);
	assert_non_null(ks);
	assert_int_equal(ksyms_count(ks), 6); /* the data symbol and garbage skipped */
	name = ksyms_find(ks, 0xffffffff81000150ull, &off, &mod);
	assert_string_equal(name, "ksys_write");
	assert_int_equal(off, 0x50);
	assert_string_equal(mod, "");
	assert_string_equal(ksyms_find(ks, 0xffffffff81000200ull, &off, NULL), "vfs_write");
	assert_int_equal(off, 0);
	assert_string_equal(ksyms_find(ks, 0xffffffff810002ffull, NULL, NULL), "vfs_write");
	assert_string_equal(ksyms_find(ks, 0xffffffff81000301ull, NULL, NULL), "weak_fn");
	name = ksyms_find(ks, 0xffffffffc0001104ull, &off, &mod);
	assert_string_equal(name, "nf_other");
	assert_string_equal(mod, "nf_tables");
	assert_null(ksyms_find(ks, 0xffffffff80000000ull, NULL, NULL));
	ksyms_free(ks);
}

static void test_restricted(void **state)
{
	char err[200];
	char *path = write_tmp("0000000000000000 T _stext\n0000000000000000 t ksys_write\n");
	struct ksyms *ks = ksyms_load(path, err, sizeof(err));

	(void)state;
	unlink(path);
	assert_null(ks);
	assert_non_null(strstr(err, "kptr_restrict"));
	assert_null(ksyms_load("/nonexistent/kallsyms", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read"));
}

/* Every text symbol of the running kernel is found at its own address. */
static void test_live(void **state)
{
	char err[200], *line = NULL;
	size_t cap = 0, checked = 0;
	struct ksyms *ks = ksyms_load(NULL, err, sizeof(err));
	FILE *f;

	(void)state;
	if (!ks)
		skip();
	f = fopen("/proc/kallsyms", "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		unsigned long long a;
		char type, name[256];
		uint64_t off;

		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || !strchr("tT", type))
			continue;
		/* Aliases share an address: the one found must be at offset 0. */
		assert_non_null(ksyms_find(ks, a, &off, NULL));
		assert_int_equal(off, 0);
		checked++;
	}
	free(line);
	fclose(f);
	assert_true(checked > 1000);
	ksyms_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_lookup),
		cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
