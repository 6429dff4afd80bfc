/* api_ui: GET /ui/ — the dashboard's static files, built into the binary (works on an isolated network,
 * no CDN). They are public and hold no data; every number they show comes from the API with a key. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

#include "api/api_private.h"
#include "api/ui_assets.h"

/* No inline script or style, nothing from elsewhere, never in a frame: text from strangers (SMS
 * bodies, sender names) can then not become code even if a page made a mistake. */
#define UI_CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".json", "application/json" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* FNV-1a of the file: a strong enough validator for If-None-Match between two builds. */
static unsigned long long etag_of(const struct ui_asset *a)
{
	unsigned long long h = 1469598103934665603ULL;
	for (size_t i = 0; i < a->len; i++)
		h = (h ^ a->data[i]) * 1099511628211ULL;
	return h;
}

static void security_headers(struct evkeyvalq *h)
{
	evhttp_add_header(h, "Content-Security-Policy", UI_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-cache");
}

void api_ui_get(struct api_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	const char *name = r->path + strlen("/ui");
	char etag[24];

	if (!*name) {   /* "/ui": relative links need the trailing slash */
		evhttp_add_header(h, "Location", "/ui/");
		evhttp_send_reply(r->req, 301, "Moved Permanently", NULL);
		return;
	}
	name++;
	if (!*name)
		name = "index.html";
	for (size_t i = 0; i < ui_nassets; i++) {
		const struct ui_asset *a = &ui_assets[i];
		if (strcmp(a->name, name) != 0)
			continue;
		const char *inm = evhttp_find_header(evhttp_request_get_input_headers(r->req), "If-None-Match");
		snprintf(etag, sizeof(etag), "\"%016llx\"", etag_of(a));
		security_headers(h);
		evhttp_add_header(h, "ETag", etag);
		if (inm && strcmp(inm, etag) == 0) {
			evhttp_send_reply(r->req, 304, "Not Modified", NULL);
			return;
		}
		struct evbuffer *b = evbuffer_new();
		if (!b) {
			evhttp_send_error(r->req, 500, NULL);
			return;
		}
		evhttp_add_header(h, "Content-Type", content_type(a->name));
		evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
		evhttp_send_reply(r->req, 200, "OK", b);
		evbuffer_free(b);
		return;
	}
	api_error(r->req, 404, "not_found", NULL, "no such file in the dashboard");
}
