/*
 * fuzz_dwarf: runtime struct offsets from whatever DWARF the image holds
 * (libdw does the parsing; compressed sections included).
 */
#include <stddef.h>
#include <stdint.h>

#include "gobin/elfimg.h"
#include "gobin/goruntime.h"

static void fuzz_field(const char *name, int off, void *arg)
{
	unsigned *sum = arg;

	*sum += (unsigned)off + (unsigned char)name[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goruntime_offsets o;
	struct elfimg *img;
	unsigned sum = 0;
	char err[256];

	if (elfimg_open_mem(data, size, &img, err, sizeof(err)) != 0)
		return 0;
	if (goruntime_offsets_dwarf(img, &o))
		goruntime_offsets_each(&o, fuzz_field, &sum);
	elfimg_close(img);
	return (int)(sum & 0);
}
