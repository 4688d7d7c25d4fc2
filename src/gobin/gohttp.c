/*
 * gohttp: net/http.response offsets from DWARF or the per-release table
 * (see gohttp.h).
 */
#include "gohttp.h"

#include <string.h>

#include "gobin.h"
#include "goruntime.h"

/*
 * From net/http/server.go of each release (amd64/arm64: 8-byte words).
 * The fields before status: conn *conn (0), req *Request (8), reqBody
 * io.ReadCloser (16, two words), cancelCtx (32), wroteHeader bool (40)
 * and three or four more bools (wroteContinue went away in a later
 * release: the padding before the 4-byte aligned mutex absorbs it),
 * canWriteContinue (atomicBool, then atomic.Bool: 4 bytes) and
 * writeContinueMu (sync.Mutex: 8 bytes; the two swapped places in 1.21:
 * same end), w *bufio.Writer (56), cw chunkWriter (64: res, header, two
 * bools: 24 bytes), handlerHeader (88), calledHeader bool (96), written
 * (104), contentLength (112), status int (120). The same from 1.17 to
 * 1.26; checked against DWARF of a Go 1.19 build (tests/unit/test_gohttp.c)
 * and live by the BPF program on every request.
 */
static const struct {
	int lo, hi;
	int req, wrote_header, cw, status;
} gohttp_table[] = {
	{ 17, 26, 8, 40, 64, 120 },
};

bool gohttp_response_table(int minor, struct gohttp_response_offsets *o)
{
	for (size_t i = 0; i < sizeof(gohttp_table) / sizeof(gohttp_table[0]); i++) {
		if (minor < gohttp_table[i].lo || minor > gohttp_table[i].hi)
			continue;
		o->source = "table";
		o->req = gohttp_table[i].req;
		o->wrote_header = gohttp_table[i].wrote_header;
		o->cw = gohttp_table[i].cw;
		o->status = gohttp_table[i].status;
		return true;
	}
	o->source = NULL;
	o->req = o->wrote_header = o->cw = o->status = -1;
	return false;
}

bool gohttp_response_offsets(struct gobin *gb, struct gohttp_response_offsets *o)
{
	static const struct goruntime_member_req req[] = {
		{ "net/http.response", "req" },
		{ "net/http.response", "wroteHeader" },
		{ "net/http.response", "cw" },
		{ "net/http.response", "status" },
	};
	int off[4];

	if (gb->dwarf && goruntime_dwarf_members(gb->img, req, 4, off) == 4) {
		o->source = "dwarf";
		o->req = off[0];
		o->wrote_header = off[1];
		o->cw = off[2];
		o->status = off[3];
		return true;
	}
	return gohttp_response_table(gb->go_minor, o);
}
