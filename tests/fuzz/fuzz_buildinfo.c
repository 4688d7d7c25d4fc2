/*
 * fuzz_buildinfo: the bytes as modinfo text, and (when they are an ELF
 * image) the whole build info reader: .go.buildinfo in both formats, the
 * scan for its header, and the runtime.buildVersion fallback.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gobin/buildinfo.h"
#include "gobin/elfimg.h"

static unsigned fuzz_bi(const struct buildinfo *bi)
{
	unsigned sum = 0;
	int maj, min, pat;

	if (bi->go_version) {
		sum += (unsigned)strlen(bi->go_version);
		if (goversion_parse(bi->go_version, &maj, &min, &pat))
			sum += (unsigned)(maj + min + pat);
	}
	if (bi->path)
		sum += (unsigned)strlen(bi->path);
	if (bi->main.path)
		sum += (unsigned)(strlen(bi->main.path) + strlen(bi->main.version) +
				  strlen(bi->main.sum));
	for (size_t i = 0; i < bi->ndeps; i++)
		sum += (unsigned)(strlen(bi->deps[i].path) + strlen(bi->deps[i].version) +
				  strlen(bi->deps[i].sum));
	for (size_t i = 0; i < bi->nsettings; i++) {
		const char *v = buildinfo_setting(bi, bi->settings[i].key);

		if (!v)
			__builtin_trap(); /* every listed key must be found */
		sum += (unsigned)strlen(v);
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buildinfo bi = { 0 };
	struct elfimg *img;
	volatile unsigned sink = 0;
	char err[256];

	if (buildinfo_parse_modinfo((const char *)data, size, &bi) == 0)
		sink += fuzz_bi(&bi);
	buildinfo_free(&bi);
	/* A version string as the whole input. */
	if (size < 64) {
		char s[64];
		int maj, min, pat;

		memcpy(s, data, size);
		s[size] = 0;
		if (goversion_parse(s, &maj, &min, &pat))
			sink += (unsigned)(maj + min + pat);
	}
	if (elfimg_open_mem(data, size, &img, err, sizeof(err)) != 0)
		return 0;
	if (buildinfo_read(img, &bi) == 0)
		sink += fuzz_bi(&bi) + (unsigned)strlen(bi.source);
	buildinfo_free(&bi);
	(void)sink;
	elfimg_close(img);
	return 0;
}
