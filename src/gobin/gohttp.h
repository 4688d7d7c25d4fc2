/*
 * gohttp: the layout of net/http's server-side response (*net/http.response,
 * the ResponseWriter of every HTTP/1 request) in one Go binary, which
 * `goscope http` needs to read a request's status code from outside.
 *
 * From DWARF when the binary has it, otherwise from a table per Go release
 * derived from net/http/server.go; the BPF program checks the layout on
 * every request before trusting a status (bpf/funclat.h).
 */
#ifndef GOSCOPE_GOHTTP_H
#define GOSCOPE_GOHTTP_H

#include <stdbool.h>

struct gobin;

/* Byte offsets in net/http.response; -1 unknown. */
struct gohttp_response_offsets {
	const char *source; /* "dwarf" or "table" */
	int req;            /* *Request */
	int wrote_header;   /* bool */
	int cw;             /* chunkWriter, whose first field res points back */
	int status;         /* int */
};

/*
 * The offsets of Go 1.MINOR from the table: false outside the releases
 * derived (1.17 to 1.26).
 */
bool gohttp_response_table(int minor, struct gohttp_response_offsets *o);

/* From GB's DWARF, else its release's table; false when neither knows. */
bool gohttp_response_offsets(struct gobin *gb, struct gohttp_response_offsets *o);

/* The name of the method whose address is an HTTP/1 ResponseWriter's itab.fun[0]. */
#define GOHTTP_RESPONSE_HEADER "net/http.(*response).Header"

#endif
