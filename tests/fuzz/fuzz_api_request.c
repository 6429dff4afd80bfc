/* libFuzzer target: POST /v1/messages as the daemon runs it — api_messages_post() (json_loadb, the batch
 * and message validation, E.164, text and part counting, Idempotency-Key) through the group commit
 * (ingest) into the in-memory store, on a real event base. The request is a connection-less evhttp
 * request: evhttp_send_reply() frees such a request, so ASan/LSan check that every request is answered
 * exactly once (never: a leak; twice: a use after free), whatever the body.
 *
 * Input: the body; or "K:<key>\n<body>", which sends the body with Idempotency-Key <key> four times:
 * twice before the commit (the second is in flight: 409), again after it (a replay), and once with a
 * different body (409 conflict). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/ingest.h"
#include "queue/scheduler.h"
#include "queue/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void post(struct api *api, const char *key, const uint8_t *body, size_t len, const char *suffix)
{
	struct evhttp_request *req = evhttp_request_new(NULL, NULL);
	struct api_req r = { .api = api, .req = req, .path = "/v1/messages", .trusted = true,
			     .scopes = SCOPE_SEND | SCOPE_READ, .owner = "fuzz" };

	if (!req)
		abort();
	evbuffer_add(evhttp_request_get_input_buffer(req), body, len);
	if (suffix)
		evbuffer_add(evhttp_request_get_input_buffer(req), suffix, strlen(suffix));
	if (key)   /* evhttp refuses values with a bare CR/LF; such a request is sent without the header */
		evhttp_add_header(evhttp_request_get_input_headers(req), "Idempotency-Key", key);
	api_messages_post(&r);   /* answers (and so frees req) now, or from the commit below */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	static struct config cfg;
	struct scheduler_config scfg = { .max_parts = 10 };
	struct api api = { 0 };
	char err[256], *key = NULL;
	struct store *st;

	if (size > 65536)
		return 0;
	if (!base) {
		log_init("fuzz_api_request", LOG_LEVEL_ERROR);
		/* the daemon's loop: 3 priorities, the group commit runs at the lowest */
		if (!(base = event_base_new()) || event_base_priority_init(base, 3) < 0)
			abort();
		cfg.max_parts = 10;
		cfg.api_max_batch = 50;
		cfg.api_max_body = 1 << 20;
		cfg.otp_ttl = 300;
		cfg.normal_ttl = 86400;
		cfg.bulk_ttl = 259200;
	}
	if (size >= 2 && data[0] == 'K' && data[1] == ':') {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t klen = nl ? (size_t)(nl - data) - 2 : size - 2;
		if (!(key = malloc(klen + 1)))
			abort();
		memcpy(key, data + 2, klen);
		key[klen] = '\0';
		size -= nl ? (size_t)(nl - data) + 1 : size;
		data = nl ? nl + 1 : data + size;
	}
	if (!(st = store_open("mem", NULL, err, sizeof(err))))
		abort();
	api.base = base;
	api.deps.cfg = &cfg;
	api.deps.st = st;
	api.deps.sched = scheduler_new(base, st, &scfg);
	api.deps.in = ingest_new(base, st, api.deps.sched);
	if (!api.deps.sched || !api.deps.in)
		abort();

	post(&api, key, data, size, NULL);
	if (key)
		post(&api, key, data, size, NULL);
	event_base_loop(base, EVLOOP_NONBLOCK);   /* the commit, and the answers it sends */
	if (key) {
		post(&api, key, data, size, NULL);
		post(&api, key, data, size, " ");
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	if (api.flights)
		abort();   /* an Idempotency-Key left held after its request was answered */

	ingest_free(api.deps.in);
	scheduler_free(api.deps.sched);
	store_close(st);
	free(key);
	return 0;
}
