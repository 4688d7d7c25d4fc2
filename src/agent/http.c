/*
 * agent/http: the /metrics endpoint (see http.h).
 */
#include "http.h"

#include "config.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int agent_http_listen(struct agent_http *h, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned sl;
	const char *why = agent_listen_addr(spec, &ss, &sl);
	int one = 1;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	pthread_mutex_init(&h->lock, NULL);
	if (why) {
		snprintf(err, errlen, "--listen %s: %s", spec, why);
		return -1;
	}
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&ss, sl) != 0 || listen(h->fd, 64) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	return 0;
}

static enum MHD_Result agent_http_serve(void *cls, struct MHD_Connection *conn,
					const char *url, const char *method,
					const char *version, const char *upload,
					size_t *upload_len, void **con_cls)
{
	struct agent_http *h = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body;
	size_t len;
	unsigned status = MHD_HTTP_OK;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		body = strdup("method not allowed\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") == 0) {
		pthread_mutex_lock(&h->lock);
		body = malloc(h->page_len + 1);
		if (body) {
			memcpy(body, h->page ? h->page : "", h->page_len);
			body[h->page_len] = 0;
		}
		h->scrapes++;
		pthread_mutex_unlock(&h->lock);
	} else if (strcmp(url, "/") == 0) {
		body = strdup("goscope agent: metrics at /metrics\n");
	} else {
		body = strdup("not found\n");
		status = MHD_HTTP_NOT_FOUND;
	}
	if (!body)
		return MHD_NO;
	len = strlen(body);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int agent_http_publish(struct agent_http *h, const char *page, size_t len, char *err,
		       size_t errlen)
{
	char *copy = malloc(len + 1);

	if (copy) {
		memcpy(copy, page, len);
		copy[len] = 0;
		pthread_mutex_lock(&h->lock);
		free(h->page);
		h->page = copy;
		h->page_len = len;
		pthread_mutex_unlock(&h->lock);
	}
	if (h->d)
		return 0;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, agent_http_serve,
				h, MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot start the HTTP server");
		return -1;
	}
	return 0;
}

uint64_t agent_http_scrapes(struct agent_http *h)
{
	uint64_t n;

	pthread_mutex_lock(&h->lock);
	n = h->scrapes;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void agent_http_close(struct agent_http *h)
{
	if (h->d)
		MHD_stop_daemon(h->d);
	h->d = NULL;
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	free(h->page);
	h->page = NULL;
	pthread_mutex_destroy(&h->lock);
}
