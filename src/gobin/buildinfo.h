/*
 * buildinfo: the Go version and module information a Go binary carries
 * (.go.buildinfo, Go 1.13+), with a fallback to the runtime's own version
 * string for binaries that carry no build info.
 */
#ifndef GOSCOPE_BUILDINFO_H
#define GOSCOPE_BUILDINFO_H

#include <stdbool.h>
#include <stddef.h>

struct elfimg;

struct buildinfo_module {
	char *path;
	char *version;
	char *sum;
};

struct buildinfo_setting {
	char *key;
	char *value;
};

struct buildinfo {
	char *go_version;     /* "go1.19.8", or NULL when unknown */
	const char *source;   /* "buildinfo", "runtime.buildVersion", "rodata" or "none" */
	char *path;           /* main package path ("path" line) */
	struct buildinfo_module main;
	struct buildinfo_module *deps;
	size_t ndeps;
	struct buildinfo_setting *settings;
	size_t nsettings;
};

/*
 * Fill BI from IMG. Never fails on a damaged binary: what cannot be read
 * stays NULL and source says where the version came from. Returns -1 only
 * when out of memory. Free with buildinfo_free().
 */
int buildinfo_read(struct elfimg *img, struct buildinfo *bi);

/*
 * Parse a modinfo text (tab-separated "path", "mod", "dep", "=>", "build"
 * lines, 16-byte sentinels optional) into BI. Returns 0, -1 when out of
 * memory.
 */
int buildinfo_parse_modinfo(const char *s, size_t len, struct buildinfo *bi);

/* Value of build setting KEY ("CGO_ENABLED", "GOARCH", "-trimpath"), or NULL. */
const char *buildinfo_setting(const struct buildinfo *bi, const char *key);

void buildinfo_free(struct buildinfo *bi);

/*
 * Parse "go1.N[.P][rcX|betaX]" (a leading "devel " is skipped). Returns
 * true and sets major/minor/patch (patch 0 when absent).
 */
bool goversion_parse(const char *s, int *major, int *minor, int *patch);

#endif
