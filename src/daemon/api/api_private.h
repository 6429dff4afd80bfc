/* api_private: what the API's endpoint files share — the request context and reply helpers. */
#ifndef SIMROUTED_API_PRIVATE_H
#define SIMROUTED_API_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>

#include "api/api.h"

struct evhttp_request;

struct api {
	struct event_base *base;
	struct api_deps deps;
	struct evhttp *tcp, *unix_http;
	char socket_path[256];
};

struct api_req {
	struct api *api;
	struct evhttp_request *req;
	const char *path;         /* decoded path, without query */
	bool trusted;             /* came over the Unix socket */
	unsigned scopes;
};

/* Sends `body` (stolen: decref'd) with `status`. */
void api_reply(struct evhttp_request *req, int status, json_t *body);
/* {"error": {"code", "message", "field"}}; field may be NULL. */
void api_error(struct evhttp_request *req, int status, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* ISO 8601 UTC with milliseconds, or JSON null for 0. */
json_t *api_time(int64_t ms);

void api_messages_post(struct api_req *r);
void api_messages_get(struct api_req *r, const char *id);
void api_status_get(struct api_req *r);

#endif
