/*
 * fuzz_gobin: a whole Go executable, end to end: ELF, pclntab (by section
 * or by scan), moduledata, funcdata base scoring, build info, cgo
 * detection, runtime offsets; then a few lookups on what was found (and
 * the net/http.response offsets `goscope http` reads from DWARF).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gobin/gobin.h"
#include "gobin/gohttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pclntab_frame fr[16];
	volatile unsigned sink = 0;
	struct gohttp_response_offsets ho;
	struct gobin *gb;
	char err[256], why[256];
	uint64_t lo, hi;

	if (gobin_open_mem(data, size, &gb, err, sizeof(err)) != 0)
		return 0;
	sink += (unsigned)strlen(gobin_go_version(gb));
	sink += gobin_traceable(gb, why, sizeof(why));
	pclntab_range(gb->pcln, &lo, &hi);
	for (uint64_t k = 0; k < 32 && hi > lo; k++) {
		uint64_t pc = lo + k * ((hi - lo) / 32 + 1);
		int n = pclntab_symbolize(gb->pcln, pc, fr, 16);

		for (int i = 0; i < n; i++)
			sink += (unsigned)(strlen(fr[i].func) + strlen(fr[i].file));
	}
	if (gohttp_response_offsets(gb, &ho))
		sink += (unsigned)(ho.req + ho.wrote_header + ho.cw + ho.status);
	(void)sink;
	gobin_close(gb);
	return 0;
}
