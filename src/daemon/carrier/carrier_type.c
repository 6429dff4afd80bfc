/* carrier_type: how each kind of carrier shapes a request and reads the answer (a table of hooks). */
#include "carrier/carrier_type.h"

#include "carrier/carrier_template.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_url(const char *url, char *err, size_t errlen)
{
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		snprintf(err, errlen, "url: expected http:// or https://");
		return -1;
	}
	return 0;
}

/* ---- generic JSON POST: {"to","text","reference"} or the operator's template -> 2xx {"id": ...} ---- */

static int http_check(const struct carrier_config *cfg, char *err, size_t errlen)
{
	return check_url(cfg->url, err, errlen);
}

static int http_prepare(const struct carrier_config *cfg, const json_t *tpl, CURL *easy, const struct carrier_msg *m,
			char **url, char **body, struct curl_slist **headers)
{
	if (tpl) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)m->id);
		struct carrier_vars v = { .to = m->to, .text = m->text, .id = id, .from = cfg->from,
					  .reference = m->reference, .callback_url = cfg->status_callback_url };
		*body = carrier_template_render(tpl, &v);
	} else {
		json_t *o = json_pack("{s:s, s:s}", "to", m->to, "text", m->text);
		if (!o)
			return -1;
		if (m->reference)
			json_object_set_new(o, "reference", json_string(m->reference));
		*body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	*url = strdup(cfg->url);
	*headers = curl_slist_append(*headers, "Content-Type: application/json");
	if (cfg->token && *cfg->token) {
		char auth[600];
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->token);
		*headers = curl_slist_append(*headers, auth);
	}
	(void)easy;
	return *body && *url ? 0 : -1;
}

static void http_parse_id(const struct carrier_config *cfg, const char *body, size_t len, char *id, size_t idlen)
{
	carrier_template_response_id(body, len, cfg->response_id, id, idlen);
}

/* ---- Twilio Messages API: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form To/From/Body ---- */

static int twilio_check(const struct carrier_config *cfg, char *err, size_t errlen)
{
	if (check_url(cfg->url, err, errlen) < 0)
		return -1;
	if (!cfg->account_sid || !*cfg->account_sid || !cfg->auth_token || !*cfg->auth_token || !cfg->from ||
	    !*cfg->from) {
		snprintf(err, errlen, "twilio needs account_sid, auth_token and from");
		return -1;
	}
	/* The SID goes into the URL path: letters and digits only. */
	if (strspn(cfg->account_sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
	    strlen(cfg->account_sid)) {
		snprintf(err, errlen, "account_sid: letters and digits only");
		return -1;
	}
	if (cfg->template_json && *cfg->template_json) {
		snprintf(err, errlen, "template: only for type = http (Twilio's body is its own form)");
		return -1;
	}
	return 0;
}

static int twilio_prepare(const struct carrier_config *cfg, const json_t *tpl, CURL *easy, const struct carrier_msg *m,
			  char **url, char **body, struct curl_slist **headers)
{
	size_t ulen = strlen(cfg->url) + strlen(cfg->account_sid) + 64;
	char *eto = curl_easy_escape(easy, m->to, 0), *efrom = curl_easy_escape(easy, cfg->from, 0);
	char *etext = curl_easy_escape(easy, m->text, 0);
	const char *cb = cfg->status_callback_url;
	char *ecb = cb && *cb ? curl_easy_escape(easy, cb, 0) : NULL;
	int rc = -1;
	(void)tpl;

	*url = malloc(ulen);
	if (*url && eto && efrom && etext) {
		const char *slash = cfg->url[strlen(cfg->url) - 1] == '/' ? "" : "/";
		snprintf(*url, ulen, "%s%s2010-04-01/Accounts/%s/Messages.json", cfg->url, slash, cfg->account_sid);
		size_t blen = strlen(eto) + strlen(efrom) + strlen(etext) + (ecb ? strlen(ecb) : 0) + 48;
		*body = malloc(blen);
		if (*body && (!cb || !*cb || ecb)) {
			/* StatusCallback: Twilio POSTs the message's later states there (api_carrier.c). */
			snprintf(*body, blen, "To=%s&From=%s&Body=%s%s%s", eto, efrom, etext, ecb ? "&StatusCallback=" : "",
				 ecb ? ecb : "");
			rc = 0;
		}
	}
	curl_free(ecb);
	curl_free(eto);
	curl_free(efrom);
	curl_free(etext);
	*headers = curl_slist_append(*headers, "Content-Type: application/x-www-form-urlencoded");
	curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->account_sid);
	curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->auth_token);
	return rc;
}

static void twilio_parse_id(const struct carrier_config *cfg, const char *body, size_t len, char *id, size_t idlen)
{
	carrier_template_response_id(body, len, cfg->response_id && *cfg->response_id ? cfg->response_id : "sid", id,
				     idlen);
}

static const struct carrier_type types[] = {
	{ "http", http_check, http_prepare, http_parse_id },
	{ "twilio", twilio_check, twilio_prepare, twilio_parse_id },
};

const struct carrier_type *carrier_type_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

enum carrier_outcome carrier_type_classify(long st)
{
	if (st >= 200 && st < 300)
		return CARRIER_ACCEPTED;
	if (st == 408 || st == 425 || st == 429 || st >= 500 || st == 0)
		return CARRIER_TEMPORARY;
	if (st >= 400 && st < 500)
		return CARRIER_PERMANENT;
	return CARRIER_TEMPORARY;   /* 1xx/3xx: we do not follow redirects to other hosts */
}
