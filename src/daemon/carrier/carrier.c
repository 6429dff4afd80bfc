/* carrier: cloud HTTP SMS carriers (generic JSON, Twilio), driven by curl multi on the libevent loop. */
#include "carrier/carrier.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carrier/carrier_template.h"
#include "carrier/carrier_type.h"
#include "curlev.h"
#include "simroute/log.h"

#define CARRIER_RESP_MAX (256 * 1024)   /* an answer larger than this is not an SMS API's */

struct request {
	struct carrier *c;
	CURL *easy;
	char *url, *body, *resp;
	size_t resp_len;
	struct curl_slist *headers;
	carrier_done_cb *done;
	void *arg;
	struct request *next, *prev;
	char errbuf[CURL_ERROR_SIZE];
};

struct carrier {
	struct curlev *cl;
	const struct carrier_type *type;
	struct carrier_config cfg;   /* strings owned */
	json_t *tpl;                 /* parsed cfg.template_json, NULL for none */
	struct request *reqs;
	int inflight;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct request *r = arg;
	size_t n = size * nmemb;
	if (r->resp_len + n > CARRIER_RESP_MAX)
		return 0;
	char *p = realloc(r->resp, r->resp_len + n + 1);
	if (!p)
		return 0;
	memcpy(p + r->resp_len, ptr, n);
	r->resp = p;
	r->resp_len += n;
	p[r->resp_len] = '\0';
	return n;
}

static void request_free(struct request *r)
{
	struct carrier *c = r->c;
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	curlev_remove(c->cl, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->url);
	free(r->body);
	free(r->resp);
	free(r);
	c->inflight--;
}

static void finish(struct request *r, CURLcode code)
{
	struct carrier_result res = { .outcome = CARRIER_TEMPORARY };
	struct carrier *c = r->c;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
	if (code != CURLE_OK) {
		long sent_bytes = 0;
		curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent_bytes);
		res.maybe_accepted = sent_bytes > 0 && res.http_status == 0;
		snprintf(res.error, sizeof(res.error), "%.40s: %.110s", c->cfg.name,
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
	} else {
		res.outcome = carrier_type_classify(res.http_status);
		if (res.outcome == CARRIER_ACCEPTED)
			c->type->parse_id(&c->cfg, r->resp ? r->resp : "", r->resp_len, res.id, sizeof(res.id));
		else
			/* Keep the carrier's own words, trimmed: they say why (bad number, no credit, ...). */
			snprintf(res.error, sizeof(res.error), "%.40s: HTTP %ld: %.90s", c->cfg.name, res.http_status,
				 r->resp ? r->resp : "");
	}
	/* The error may quote the carrier's answer: no control characters into logs or the API. */
	for (char *p = res.error; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	carrier_done_cb *done = r->done;
	void *arg = r->arg;
	request_free(r);
	done(arg, &res);
}

/* A transfer finished (curlev): its request is the easy handle's private pointer. */
static void on_done(void *arg, CURL *easy, CURLcode code)
{
	struct request *r = NULL;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	if (r)
		finish(r, code);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int carrier_header_check(const char *line, char *err, size_t errlen)
{
	const char *colon = strchr(line, ':');
	size_t nlen = colon ? (size_t)(colon - line) : 0;

	/* RFC 9110 5.6.2: a field name is a token */
	if (!nlen || strspn(line, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != nlen) {
		snprintf(err, errlen, "header: expected \"Name: value\" with a name of letters, digits and -");
		return -1;
	}
	for (const char *p = colon + 1; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(err, errlen, "header %.*s: control character (CR, LF, ...) in the value", (int)nlen, line);
			return -1;
		}
	return 0;
}

/* Whether header line h (as in the slist) has the name of `line`. */
static bool same_name(const char *h, const char *line)
{
	size_t n = (size_t)(strchr(line, ':') - line);
	return strncasecmp(h, line, n) == 0 && h[n] == ':';
}

/* The type's headers, less those the operator's `header` lines replace, then the operator's. */
static struct curl_slist *merge_headers(const struct carrier_config *cfg, struct curl_slist *type_headers)
{
	struct curl_slist *out = NULL, *t;
	bool ok = true;

	for (struct curl_slist *h = type_headers; h && ok; h = h->next) {
		bool replaced = false;
		for (size_t i = 0; i < cfg->nheaders && !replaced; i++)
			replaced = same_name(h->data, cfg->headers[i]);
		if (!replaced && (t = curl_slist_append(out, h->data)) != NULL)
			out = t;
		else
			ok = ok && replaced;
	}
	for (size_t i = 0; i < cfg->nheaders && ok; i++)
		if ((t = curl_slist_append(out, cfg->headers[i])) != NULL)
			out = t;
		else
			ok = false;
	curl_slist_free_all(type_headers);
	if (!ok) {
		curl_slist_free_all(out);
		return NULL;
	}
	return out;
}

static void config_clear(struct carrier_config *cfg)
{
	free((char *)cfg->name);
	free((char *)cfg->type);
	free((char *)cfg->url);
	free((char *)cfg->token);
	free((char *)cfg->account_sid);
	free((char *)cfg->auth_token);
	free((char *)cfg->from);
	free((char *)cfg->template_json);
	free((char *)cfg->response_id);
	free((char *)cfg->status_callback_url);
	for (size_t i = 0; cfg->headers && i < cfg->nheaders; i++)
		free((char *)cfg->headers[i]);
	free((void *)cfg->headers);
}

struct carrier *carrier_new(struct event_base *base, const struct carrier_config *cfg, char *err, size_t errlen)
{
	const struct carrier_type *type = carrier_type_find(cfg->type);
	if (!type) {
		snprintf(err, errlen, "type: unknown carrier type \"%s\" (http | twilio)", cfg->type ? cfg->type : "");
		return NULL;
	}
	if (type->check(cfg, err, errlen) < 0)
		return NULL;
	for (size_t i = 0; i < cfg->nheaders; i++)
		if (carrier_header_check(cfg->headers[i], err, errlen) < 0)
			return NULL;
	struct carrier *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->type = type;
	const char *tj = cfg->template_json && *cfg->template_json ? cfg->template_json : NULL;
	c->cfg = (struct carrier_config){ .name = dup_or_null(cfg->name ? cfg->name : "carrier"),
					  .type = dup_or_null(cfg->type), .url = dup_or_null(cfg->url),
					  .token = dup_or_null(cfg->token), .account_sid = dup_or_null(cfg->account_sid),
					  .auth_token = dup_or_null(cfg->auth_token), .from = dup_or_null(cfg->from),
					  .timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 15000,
					  .template_json = dup_or_null(tj), .response_id = dup_or_null(cfg->response_id),
					  .status_callback_url = dup_or_null(cfg->status_callback_url) };
	char **hs = cfg->nheaders ? calloc(cfg->nheaders, sizeof(*hs)) : NULL;
	c->cfg.headers = (const char *const *)hs;
	for (size_t i = 0; hs && i < cfg->nheaders; i++, c->cfg.nheaders++)
		if (!(hs[i] = strdup(cfg->headers[i])))
			break;
	if (c->cfg.nheaders != cfg->nheaders) {
		snprintf(err, errlen, "out of memory");
		carrier_free(c);
		return NULL;
	}
	if (tj && !(c->tpl = carrier_template_parse(tj, err, errlen))) {
		carrier_free(c);
		return NULL;
	}
	c->cl = curlev_new(base, on_done, c);
	if (!c->cl) {
		snprintf(err, errlen, "out of memory");
		carrier_free(c);
		return NULL;
	}
	return c;
}

int carrier_send(struct carrier *c, const struct carrier_msg *m, carrier_done_cb *done, void *arg)
{
	struct request *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->c = c;
	r->done = done;
	r->arg = arg;
	r->easy = curl_easy_init();
	if (!r->easy || c->type->prepare(&c->cfg, c->tpl, r->easy, m, &r->url, &r->body, &r->headers) < 0)
		goto fail;
	if (c->cfg.nheaders && !(r->headers = merge_headers(&c->cfg, r->headers)))
		goto fail;
	curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)c->cfg.timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.timeout_ms < 5000 ? c->cfg.timeout_ms : 5000));
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	/* A message body must never be re-posted to wherever a redirect points. */
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "simroute/0.1");
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->inflight++;
	if (curlev_add(c->cl, r->easy) != 0) {
		r->done = NULL;
		request_free(r);
		return -1;
	}
	return 0;
fail:
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->url);
	free(r->body);
	free(r);
	return -1;
}

int carrier_inflight(const struct carrier *c) { return c->inflight; }
const char *carrier_name(const struct carrier *c) { return c->cfg.name; }

void carrier_free(struct carrier *c)
{
	if (!c)
		return;
	while (c->reqs) {
		struct request *r = c->reqs;
		carrier_done_cb *done = r->done;
		void *arg = r->arg;
		request_free(r);
		if (done) {
			struct carrier_result res = { .outcome = CARRIER_CANCELLED };
			snprintf(res.error, sizeof(res.error), "%.40s: cancelled at shutdown", c->cfg.name);
			done(arg, &res);
		}
	}
	curlev_free(c->cl);
	json_decref(c->tpl);
	config_clear(&c->cfg);
	free(c);
}
