/* api_kannel: Kannel's /cgi-bin/sendsms, answered as Kannel does, so existing integrations move over. */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <string.h>
#include <time.h>

#include "api/api_private.h"
#include "config.h"
#include "queue/ingest.h"
#include "queue/optout.h"
#include "simroute/log.h"
#include "simroute/pdu.h"
#include "simroute/phone.h"

#define KANNEL_MAX_TO 100   /* recipients in one request (Kannel takes a space-separated list) */

/* Kannel answers in plain text: "0: Accepted for delivery" and a few fixed error lines. */
static void kannel_reply(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(buf, "%s", text);
	evhttp_send_reply(req, status, status == 202 ? "Accepted" : status < 500 ? "Bad Request" : "Unavailable", buf);
	evbuffer_free(buf);
}

static void committed(void *arg, int rc, const int64_t *ids, size_t n)
{
	struct evhttp_request *req = arg;
	(void)ids;
	(void)n;
	if (rc != 0)
		kannel_reply(req, 503, "Temporal failure, try again later.");
	else
		kannel_reply(req, 202, "0: Accepted for delivery");
}

/* username = the [api_key:NAME] or a live store key's name, password = the key itself (compared by
 * SHA-256). */
/* username/password -> a key with the send scope (and *bucket, its rate limit), or 0. */
static int kannel_auth(struct api *api, const char *user, const char *pass, struct api_bucket **bucket)
{
	const struct config *cfg = api->deps.cfg;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	*bucket = NULL;
	if (!user || !pass || !*pass)
		return 0;
	SHA256((const unsigned char *)pass, strlen(pass), digest);
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (strcmp(cfg->api_keys[i].name, user) == 0 &&
		    CRYPTO_memcmp(digest, cfg->api_keys[i].sha256, sizeof(digest)) == 0) {
			*bucket = i < api->nbuckets ? &api->buckets[i] : NULL;
			return (cfg->api_keys[i].scopes & SCOPE_SEND) != 0;
		}
	struct api_skey *k = api_keys_match(api, digest);
	if (!k || strcmp(k->name, user) != 0)
		return 0;
	*bucket = &k->bucket;
	return (k->scopes & SCOPE_SEND) != 0;
}

/* Kannel accepts "+447700900123" and "00447700900123"; simroute stores E.164. */
static int normalize_to(const char *in, char *out, size_t outlen)
{
	if (strncmp(in, "00", 2) == 0 && strlen(in) + 1 < outlen)
		snprintf(out, outlen, "+%s", in + 2);
	else
		snprintf(out, outlen, "%s", in);
	return phone_e164_valid(out) ? 0 : -1;
}

void api_kannel_sendsms(struct api_req *r)
{
	const struct config *cfg = r->api->deps.cfg;
	struct evkeyvalq q;
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
	char *body = NULL;

	TAILQ_INIT(&q);
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_POST) {
		/* POST carries the same parameters, form-encoded */
		struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
		size_t len = evbuffer_get_length(in);
		body = malloc(len + 1);
		if (!body) {
			kannel_reply(r->req, 503, "Temporal failure, try again later.");
			return;
		}
		evbuffer_copyout(in, body, len);
		body[len] = '\0';
		query = body;
	}
	if (evhttp_parse_query_str(query ? query : "", &q) < 0) {
		kannel_reply(r->req, 400, "Malformed request");
		goto out;
	}
	const char *user = evhttp_find_header(&q, "username"), *pass = evhttp_find_header(&q, "password");
	const char *to = evhttp_find_header(&q, "to"), *text = evhttp_find_header(&q, "text");
	const char *charset = evhttp_find_header(&q, "charset"), *dlr_mask = evhttp_find_header(&q, "dlr-mask");
	const char *dlr_url = evhttp_find_header(&q, "dlr-url");

	struct api_bucket *bucket = NULL;
	if (!r->trusted && !kannel_auth(r->api, user, pass, &bucket)) {
		kannel_reply(r->req, 403, "Authorization failed for sendsms");
		goto out;
	}
	int wait = r->trusted ? 0 : api_rate_limited(r->api, bucket);
	if (wait) {
		/* the key's rate limit holds here as on /v1/messages; Kannel's answer for "not now" */
		char secs[16];
		snprintf(secs, sizeof(secs), "%d", wait);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", secs);
		kannel_reply(r->req, 503, "Temporal failure, try again later.");
		goto out;
	}
	if (!to || !*to) {
		kannel_reply(r->req, 400, "Missing receiver number");
		goto out;
	}
	if (strlen(to) >= KANNEL_MAX_TO * STORE_TO_MAX) {
		/* never cut the list: its last number could become someone else's */
		kannel_reply(r->req, 400, "Too many receivers");
		goto out;
	}
	if (!text || !*text) {
		kannel_reply(r->req, 400, "Missing text");
		goto out;
	}
	if (charset && strcasecmp(charset, "UTF-8") != 0 && strcasecmp(charset, "utf8") != 0) {
		kannel_reply(r->req, 400, "Unsupported charset: send text as UTF-8");
		goto out;
	}
	for (const char *c = text; *c; c++) {
		if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\r' && *c != '\t') {
			kannel_reply(r->req, 400, "Invalid text: control characters");
			goto out;
		}
	}
	if (dlr_url && *dlr_url && (strlen(dlr_url) >= STORE_URL_MAX ||
				    (strncmp(dlr_url, "http://", 7) && strncmp(dlr_url, "https://", 8)))) {
		kannel_reply(r->req, 400, "Invalid dlr-url");
		goto out;
	}
	int nparts;
	enum pdu_encoding enc;
	struct pdu_submit_opts opts = { .max_parts = (unsigned)cfg->max_parts, .languages = cfg->national_languages };
	enum pdu_error perr = pdu_count_parts(text, &opts, &nparts, &enc);
	if (perr != PDU_OK) {
		kannel_reply(r->req, 400, perr == PDU_ERR_TOO_LONG ? "Message too long" : "Invalid text");
		goto out;
	}
	/* "to" may list several recipients separated by spaces (or '+'-decoded spaces). */
	char numbers[KANNEL_MAX_TO][STORE_TO_MAX];
	struct store_new_msg msgs[KANNEL_MAX_TO];
	size_t n = 0;
	char list[KANNEL_MAX_TO * STORE_TO_MAX];
	snprintf(list, sizeof(list), "%s", to);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (char *save = NULL, *tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == KANNEL_MAX_TO || normalize_to(tok, numbers[n], sizeof(numbers[n])) < 0) {
			kannel_reply(r->req, 400, n == KANNEL_MAX_TO ? "Too many receivers" : "Invalid receiver number");
			goto out;
		}
		msgs[n] = (struct store_new_msg){ .to = numbers[n], .text = text, .lane = LANE_NORMAL, .nparts = nparts,
						  .created_ms = now, .expires_ms = now + cfg->normal_ttl * 1000LL,
						  .delivery_report = dlr_mask && atoi(dlr_mask) != 0,
						  .allow_carrier = true, .callback_url = dlr_url,
						  .languages = cfg->national_languages };
		n++;
	}
	if (n == 0) {
		kannel_reply(r->req, 400, "Missing receiver number");
		goto out;
	}
	/* the opt-out list, in Kannel's words for its black-list (sendsms only sends normal priority) */
	for (size_t i = 0; r->api->deps.optout && i < n; i++) {
		if (optout_contains(r->api->deps.optout, numbers[i])) {
			kannel_reply(r->req, 403, "Number(s) has/have been denied by white- and/or black-lists.");
			goto out;
		}
	}
	if (ingest_submit(r->api->deps.in, msgs, n, committed, r->req) < 0)
		kannel_reply(r->req, 503, "Temporal failure, try again later.");
out:
	evhttp_clear_headers(&q);
	free(body);
}
