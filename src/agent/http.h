/*
 * agent/http: the agent's /metrics endpoint (libmicrohttpd). The socket is
 * bound at start (a port in use fails at once, with one line), but pages
 * are served only once the first complete page is published: scrapers wait
 * in the backlog meanwhile.
 */
#ifndef GOSCOPE_AGENT_HTTP_H
#define GOSCOPE_AGENT_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct agent_http {
	int fd;
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *page;
	size_t page_len;
	uint64_t scrapes;
};

/* Bind SPEC (ADDR:PORT). 0, or -1 with the reason in ERR. */
int agent_http_listen(struct agent_http *h, const char *spec, char *err, size_t errlen);

/*
 * Swap in a copy of PAGE (LEN bytes) as what /metrics serves; the first
 * call starts serving. 0, or -1 with the reason in ERR.
 */
int agent_http_publish(struct agent_http *h, const char *page, size_t len, char *err,
		       size_t errlen);

/* Requests for /metrics served so far. */
uint64_t agent_http_scrapes(struct agent_http *h);

void agent_http_close(struct agent_http *h);

#endif
