/*
 * goscope info: what a Go binary (or the binary of a running process) is:
 * Go version, build info, pclntab format, architecture, PIE/static/cgo/
 * stripped/DWARF, runtime struct offsets and, for a PID, load bias and
 * threads.
 */
#include "cli.h"

#include "../core/opts.h"

#include "../gobin/goglobals.h"
#include "../output/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* runtime.text: from moduledata, else the pclntab header (1.18+). */
static uint64_t info_text_addr(const struct gobin *gb)
{
	return gb->text ? gb->text : pclntab_text(gb->pcln);
}

static const char *info_yesno(bool b)
{
	return b ? "yes" : "no";
}

struct info_offs_ctx {
	struct jsonw *w;
	int col;
};

static void info_off_text(const char *name, int off, void *arg)
{
	struct info_offs_ctx *c = arg;

	if (off < 0)
		return;
	printf("%s%s=0x%x", c->col++ % 4 == 0 ? "\n    " : "  ", name, off);
}

static void info_off_json(const char *name, int off, void *arg)
{
	struct info_offs_ctx *c = arg;

	if (off < 0)
		jsonw_knull(c->w, name);
	else
		jsonw_kint(c->w, name, off);
}

static void info_json(const struct cli_target *t)
{
	const struct gobin *gb = t->gb;
	struct jsonw w;
	struct info_offs_ctx c = { &w, 0 };
	struct goglobals_waitreasons wr;
	uint64_t allgs;
	char why[256];

	jsonw_init(&w, stdout);
	jsonw_obj_begin(&w);
	jsonw_kstr(&w, "path", t->proc.exe);
	if (t->proc.pid) {
		jsonw_kint(&w, "pid", t->proc.pid);
		jsonw_kstr(&w, "exe", t->proc.exe);
		jsonw_kstr(&w, "comm", t->proc.comm);
		jsonw_khex(&w, "load_bias", t->bias);
		jsonw_kint(&w, "threads", proc_thread_count(t->proc.pid));
	}
	jsonw_kstr(&w, "go_version", gb->bi.go_version);
	jsonw_kstr(&w, "go_version_source", gb->bi.source);
	jsonw_kstr(&w, "pclntab_format", pclntab_format_name(pclntab_format(gb->pcln)));
	jsonw_kstr(&w, "pclntab_location", gb->pclntab_where);
	jsonw_khex(&w, "pclntab_addr", gb->pclntab_addr);
	jsonw_kstr(&w, "arch", elfimg_arch_name(gb->arch));
	jsonw_kbool(&w, "pie", gb->pie);
	jsonw_kbool(&w, "static", gb->is_static);
	jsonw_kbool(&w, "cgo", gb->cgo);
	jsonw_kbool(&w, "stripped", gb->stripped);
	jsonw_kbool(&w, "dwarf", gb->dwarf);
	jsonw_kstr(&w, "main_path", gb->bi.path);
	jsonw_kstr(&w, "main_module", gb->bi.main.path);
	jsonw_kstr(&w, "main_version", gb->bi.main.version);
	jsonw_kuint(&w, "functions", pclntab_nfunc(gb->pcln));
	jsonw_khex(&w, "text", info_text_addr(gb));
	if (gb->moduledata)
		jsonw_khex(&w, "moduledata", gb->moduledata);
	else
		jsonw_knull(&w, "moduledata");
	if (goglobals_allgs(t->gb, &allgs, why, sizeof(why)))
		jsonw_khex(&w, "allgs", allgs);
	else
		jsonw_knull(&w, "allgs");
	goglobals_waitreasons(t->gb, &wr);
	jsonw_key(&w, "wait_reasons");
	jsonw_arr_begin(&w);
	for (size_t i = 0; i < wr.n; i++) {
		char r[300];

		snprintf(r, sizeof(r), "%.*s", (int)wr.len[i], wr.str[i]);
		jsonw_str(&w, r);
	}
	jsonw_arr_end(&w);
	jsonw_kbool(&w, "traceable", gobin_traceable(gb, why, sizeof(why)));
	if (!gobin_traceable(gb, why, sizeof(why)))
		jsonw_kstr(&w, "not_traceable_reason", why);
	jsonw_key(&w, "settings");
	jsonw_obj_begin(&w);
	for (size_t i = 0; i < gb->bi.nsettings; i++)
		jsonw_kstr(&w, gb->bi.settings[i].key, gb->bi.settings[i].value);
	jsonw_obj_end(&w);
	jsonw_key(&w, "deps");
	jsonw_arr_begin(&w);
	for (size_t i = 0; i < gb->bi.ndeps; i++) {
		jsonw_obj_begin(&w);
		jsonw_kstr(&w, "path", gb->bi.deps[i].path);
		jsonw_kstr(&w, "version", gb->bi.deps[i].version);
		jsonw_kstr(&w, "sum", gb->bi.deps[i].sum);
		jsonw_obj_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_kstr(&w, "offsets_source", gb->offsets_known ? gb->off.source : "none");
	jsonw_key(&w, "offsets");
	jsonw_obj_begin(&w);
	goruntime_offsets_each(&gb->off, info_off_json, &c);
	jsonw_obj_end(&w);
	jsonw_obj_end(&w);
}

static void info_text(const struct cli_target *t, bool verbose)
{
	const struct gobin *gb = t->gb;
	struct goglobals_waitreasons wr;
	uint64_t allgs;
	const char *v;
	char why[256];
	struct info_offs_ctx c = { NULL, 0 };

	if (t->proc.pid) {
		printf("pid:             %d (%s)\n", (int)t->proc.pid, t->proc.comm);
		printf("executable:      %s\n", t->proc.exe);
		printf("load bias:       0x%" PRIx64 "\n", t->bias);
		printf("threads:         %d\n", proc_thread_count(t->proc.pid));
	} else {
		printf("path:            %s\n", t->proc.exe);
	}
	printf("go version:      %s (from %s)\n", gobin_go_version(gb), gb->bi.source);
	printf("pclntab:         Go %s+ format, %zu functions, at 0x%" PRIx64 " (%s)\n",
	       pclntab_format_name(pclntab_format(gb->pcln)), pclntab_nfunc(gb->pcln),
	       gb->pclntab_addr, gb->pclntab_where);
	printf("text:            0x%" PRIx64 "\n", info_text_addr(gb));
	if (gb->moduledata)
		printf("moduledata:      0x%" PRIx64 "\n", gb->moduledata);
	else
		printf("moduledata:      not found\n");
	printf("arch:            %s\n", elfimg_arch_name(gb->arch));
	printf("pie:             %s\n", info_yesno(gb->pie));
	printf("static:          %s\n", info_yesno(gb->is_static));
	printf("cgo:             %s\n", info_yesno(gb->cgo));
	printf("stripped:        %s\n", info_yesno(gb->stripped));
	printf("dwarf:           %s\n", info_yesno(gb->dwarf));
	if (gb->bi.path)
		printf("main package:    %s\n", gb->bi.path);
	if (gb->bi.main.path)
		printf("main module:     %s %s\n", gb->bi.main.path,
		       gb->bi.main.version ? gb->bi.main.version : "");
	if (gb->bi.nsettings) {
		printf("build settings: ");
		for (size_t i = 0; i < gb->bi.nsettings; i++)
			printf(" %s=%s", gb->bi.settings[i].key, gb->bi.settings[i].value);
		printf("\n");
	}
	v = buildinfo_setting(&gb->bi, "vcs.revision");
	if (v)
		printf("vcs revision:    %s%s\n", v,
		       (buildinfo_setting(&gb->bi, "vcs.modified") &&
			strcmp(buildinfo_setting(&gb->bi, "vcs.modified"), "true") == 0)
			       ? " (modified)"
			       : "");
	printf("dependencies:    %zu\n", gb->bi.ndeps);
	if (verbose)
		for (size_t i = 0; i < gb->bi.ndeps; i++)
			printf("    %s %s\n", gb->bi.deps[i].path, gb->bi.deps[i].version);
	printf("runtime offsets: %s", gb->offsets_known ? gb->off.source : "unknown");
	if (gb->offsets_known) {
		if (verbose)
			goruntime_offsets_each(&gb->off, info_off_text, &c);
		else
			printf(" (g.goid=0x%x g.atomicstatus=0x%x g.waitreason=0x%x m.curg=0x%x)",
			       gb->off.g_goid, gb->off.g_atomicstatus, gb->off.g_waitreason,
			       gb->off.m_curg);
	}
	printf("\n");
	if (goglobals_allgs(t->gb, &allgs, why, sizeof(why)))
		printf("runtime.allgs:   0x%" PRIx64 "\n", allgs);
	else
		printf("runtime.allgs:   not found (%s)\n", why);
	goglobals_waitreasons(t->gb, &wr);
	printf("wait reasons:    %zu, from the binary's runtime.waitReasonStrings", wr.n);
	if (wr.n && verbose) {
		for (size_t i = 1; i < wr.n; i++)
			printf("%s%zu=%.*s", i == 1 ? "\n    " : ", ", i, (int)wr.len[i], wr.str[i]);
	}
	printf("\n");
	if (gobin_traceable(gb, why, sizeof(why)))
		printf("tracing:         supported\n");
	else
		printf("tracing:         not supported: %s\n", why);
}

int cmd_info(int argc, char **argv)
{
	static const struct opts_cmd cmd = {
		"info", "[--json] [-v] TARGET",
		"What a Go binary or process is: Go version, build info, layout, runtime offsets.\n"
		"TARGET is a path to a Go executable or the PID of a running Go program.",
		NULL,
	};
	bool json = false, verbose = false;
	const struct opt tab[] = {
		{ "json", 0, OPT_FLAG, &json, NULL, "one JSON object" },
		{ "verbose", 'v', OPT_FLAG, &verbose, NULL, "also sections, modules and offsets" },
		{ NULL },
	};
	struct opts_rest rest;
	struct cli_target t;
	int rc = cli_target_args(&cmd, tab, argc, argv, 0, &rest, &t);

	if (rc >= 0)
		return rc;
	if (json)
		info_json(&t);
	else
		info_text(&t, verbose);
	cli_target_close(&t);
	return 0;
}
