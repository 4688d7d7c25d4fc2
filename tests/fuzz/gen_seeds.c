/*
 * gen_seeds: synthetic seed inputs for the fuzzers, from the writers the
 * unit tests use (tests/unit/testutil.h): pclntabs of every layout, whole
 * small Go executables (demo program, moduledata, build info) and ELF
 * oddities. Built and run by make_corpus.sh:
 *
 *   gen_seeds OUTDIR    writes OUTDIR/fuzz_{pclntab,elf,gobin,buildinfo}/syn-*
 */
#define TU_NO_CMOCKA
#include "../unit/testutil.h"

#include <errno.h>

#define FUZZ_VADDR 0x400000ull /* fuzz_pclntab's load address */

static const char *outdir;

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fuzz_%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/fuzz_%s/syn-%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * A table followed by its inline trees, as fuzz_pclntab maps it: table at
 * FUZZ_VADDR, trees right after it, 1.18+ funcdata counted from
 * FUZZ_VADDR (the harness sets gofunc there).
 */
static void pclntab_seed(const char *name, int fmt, int ps, int q, bool zero_text)
{
	struct tu_pcln o = {
		.fmt = fmt, .ptrsize = ps, .quantum = q, .vaddr = FUZZ_VADDR,
		.text = 0x401000, .zero_text = zero_text, .end = TU_DEMO_END,
		.files = tu_demo_files, .nfiles = 3, .cus = tu_demo_cus, .ncus = 2,
		.funcs = tu_demo_funcs, .nfuncs = TU_DEMO_NFUNCS, .gofunc = FUZZ_VADDR,
	};
	struct tu_buf tab = { 0 }, ro = { 0 };
	size_t tlen;

	/* First pass for the table's length, which funcdata does not change. */
	tu_pcln_build(&o, &tab, &ro);
	tlen = (tab.len + 15) & ~(size_t)15;
	tu_buf_free(&tab);
	tu_buf_free(&ro);
	o.rodata = FUZZ_VADDR + tlen;
	tu_pcln_build(&o, &tab, &ro);
	tu_align(&tab, 16);
	tu_put(&tab, ro.p, ro.len);
	put("pclntab", name, tab.p, tab.len);
	tu_buf_free(&tab);
	tu_buf_free(&ro);
}

static void goelf_seed(const char *targets, const char *name, const struct tu_goelf *g)
{
	size_t len;
	uint8_t *img = tu_goelf_build(g, &len);
	char t[64];
	const char *p = targets;

	/* TARGETS: comma-separated fuzz targets that get this seed. */
	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(t, sizeof(t), "%.*s", (int)n, p);
		put(t, name, img, len);
		p += n + (p[n] == ',');
	}
	free(img);
}

int main(int argc, char **argv)
{
	static const char modtext[] =
		"path\texample.com/cmd/app\nmod\texample.com\tv1.2.3\th1:abc=\n"
		"dep\tgolang.org/x/sys\tv0.1.0\th1:sys=\ndep\tgithub.com/old\tv1.0.0\t\n"
		"=>\tgithub.com/new\tv1.1.0\th1:new=\nbuild\t-compiler=gc\n"
		"build\tCGO_ENABLED=1\nbuild\tGOARCH=amd64\n";
	static const struct {
		const char *name;
		int fmt, ps, q;
	} tabs[] = {
		{ "go12-p8-q1", TU_GO12, 8, 1 },   { "go12-p4-q4", TU_GO12, 4, 4 },
		{ "go116-p8-q1", TU_GO116, 8, 1 }, { "go116-p8-q4", TU_GO116, 8, 4 },
		{ "go116-p4-q1", TU_GO116, 4, 1 }, { "go118-p8-q1", TU_GO118, 8, 1 },
		{ "go118-p4-q4", TU_GO118, 4, 4 }, { "go120-p8-q1", TU_GO120, 8, 1 },
		{ "go120-p8-q4", TU_GO120, 8, 4 }, { "go120-p4-q1", TU_GO120, 4, 1 },
	};
	static const char sent_a[] = "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6";
	static const char sent_b[] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";
	struct tu_buf mod = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];

	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++)
		pclntab_seed(tabs[i].name, tabs[i].fmt, tabs[i].ps, tabs[i].q, false);
	pclntab_seed("go126-p8-q1", TU_GO120, 8, 1, true);

	/* Whole executables: every format, PIE, 32-bit, scan, no build info. */
	for (int f = 0; f < 4; f++) {
		static const int fmts[] = { TU_GO12, TU_GO116, TU_GO118, TU_GO120 };
		static const char *const names[] = { "go12", "go116", "go118", "go120" };
		static const char *const versions[] = { "go1.14.2", "go1.17.2", "go1.19.8",
							"go1.22.5" };
		char name[64];
		struct tu_goelf g = { .fmt = fmts[f], .ptrsize = 8, .quantum = 1,
				      .version = versions[f], .modinfo = modtext };

		snprintf(name, sizeof(name), "%s-exe", names[f]);
		goelf_seed("gobin,elf,buildinfo", name, &g);
		g.pie = true;
		snprintf(name, sizeof(name), "%s-pie", names[f]);
		goelf_seed("gobin,elf,buildinfo", name, &g);
		g.pie = false;
		g.ptrsize = 4;
		snprintf(name, sizeof(name), "%s-386", names[f]);
		goelf_seed("gobin,elf", name, &g);
		g.ptrsize = 8;
		g.hide_pclntab = true;
		snprintf(name, sizeof(name), "%s-scan", names[f]);
		goelf_seed("gobin", name, &g);
	}
	{
		struct tu_goelf g = { .fmt = TU_GO120, .ptrsize = 8, .quantum = 4, .pie = true,
				      .version = "go1.21.0", .modinfo = modtext };

		goelf_seed("gobin,elf", "go120-arm64-pie", &g);
		g = (struct tu_goelf){ .fmt = TU_GO120, .ptrsize = 8, .quantum = 1,
				       .zero_text = true, .no_buildinfo = true,
				       .version = "go1.26.5" };
		goelf_seed("gobin,buildinfo", "go126-nobuildinfo", &g);
	}

	/* Modinfo text as the linker wraps it, and a bare version. */
	tu_put(&mod, sent_a, 16);
	tu_put(&mod, modtext, strlen(modtext));
	tu_put(&mod, sent_b, 16);
	put("buildinfo", "modinfo", mod.p, mod.len);
	put("buildinfo", "version", (const uint8_t *)"go1.21rc2", 9);
	tu_buf_free(&mod);

	/* ELF oddities: big-endian 32-bit, no section headers. */
	{
		static const uint8_t words[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		const struct tu_elf_sec secs[] = {
			{ ".data", 0, SHF_ALLOC | SHF_WRITE, 0x10000, words, 8 },
			{ ".dynamic", SHT_DYNAMIC, SHF_ALLOC, 0x20000, words, 8 },
		};
		struct tu_elf e = { .cls = ELFCLASS32, .big_endian = true, .machine = EM_PPC,
				    .secs = secs, .nsecs = 2 };
		size_t len;
		uint8_t *img = tu_elf_build(&e, &len, NULL);

		put("elf", "be32", img, len);
		free(img);
		e = (struct tu_elf){ .secs = secs, .nsecs = 1, .no_sections = true };
		img = tu_elf_build(&e, &len, NULL);
		put("elf", "nosections", img, len);
		free(img);
	}
	return 0;
}
