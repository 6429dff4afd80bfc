/* carrier_type: how each kind of carrier shapes a request and reads the answer (a table of hooks). */
#include "carrier/carrier_type.h"

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

static void copy_id(json_t *root, const char *key, char *id, size_t idlen)
{
	const char *s = json_string_value(json_object_get(root, key));
	json_t *n = json_object_get(root, key);
	if (s)
		snprintf(id, idlen, "%s", s);
	else if (json_is_integer(n))
		snprintf(id, idlen, "%lld", (long long)json_integer_value(n));
}

/* ---- generic JSON POST: {"to","text","reference"} -> 2xx {"id": ...} ---- */

static int http_check(const struct carrier_config *cfg, char *err, size_t errlen)
{
	return check_url(cfg->url, err, errlen);
}

static int http_prepare(const struct carrier_config *cfg, CURL *easy, const char *to, const char *text,
			const char *reference, char **url, char **body, struct curl_slist **headers)
{
	json_t *o = json_pack("{s:s, s:s}", "to", to, "text", text);
	if (!o)
		return -1;
	if (reference)
		json_object_set_new(o, "reference", json_string(reference));
	*body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
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

static void http_parse_id(const char *body, size_t len, char *id, size_t idlen)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	if (!root)
		return;
	copy_id(root, "id", id, idlen);
	if (!*id)
		copy_id(root, "message_id", id, idlen);
	json_decref(root);
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
	return 0;
}

static int twilio_prepare(const struct carrier_config *cfg, CURL *easy, const char *to, const char *text,
			  const char *reference, char **url, char **body, struct curl_slist **headers)
{
	size_t ulen = strlen(cfg->url) + strlen(cfg->account_sid) + 64;
	char *eto = curl_easy_escape(easy, to, 0), *efrom = curl_easy_escape(easy, cfg->from, 0);
	char *etext = curl_easy_escape(easy, text, 0);
	int rc = -1;
	(void)reference;

	*url = malloc(ulen);
	if (*url && eto && efrom && etext) {
		const char *slash = cfg->url[strlen(cfg->url) - 1] == '/' ? "" : "/";
		snprintf(*url, ulen, "%s%s2010-04-01/Accounts/%s/Messages.json", cfg->url, slash, cfg->account_sid);
		size_t blen = strlen(eto) + strlen(efrom) + strlen(etext) + 32;
		*body = malloc(blen);
		if (*body) {
			snprintf(*body, blen, "To=%s&From=%s&Body=%s", eto, efrom, etext);
			rc = 0;
		}
	}
	curl_free(eto);
	curl_free(efrom);
	curl_free(etext);
	*headers = curl_slist_append(*headers, "Content-Type: application/x-www-form-urlencoded");
	curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->account_sid);
	curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->auth_token);
	return rc;
}

static void twilio_parse_id(const char *body, size_t len, char *id, size_t idlen)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	if (root)
		copy_id(root, "sid", id, idlen);
	json_decref(root);
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
