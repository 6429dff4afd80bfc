/* api_keys: POST /v1/keys, GET /v1/keys, DELETE /v1/keys/<id> — API keys created at run time, kept
 * (hashed) in the store and in memory beside the config's [api_key:*]. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"
#include "api/apikey.h"
#include "config.h"
#include "queue/store.h"
#include "simroute/log.h"

/* Tries at a fresh id before giving up: 32 random bits collide about never, but a store row
 * must never be overwritten. */
#define ID_TRIES 4

/* The one place each key action is recorded: in the audit log (who: r->actor) and the log. */
static void audit_key_event(struct api_req *r, const char *action, const struct api_skey *k)
{
	log_info("api: %s %s (%s) by %s", action, k->id, k->name, r->actor ? r->actor : r->owner);
	api_audit(r, action, k->id, "name %s, scopes %s%s%s%s", k->name, k->scopes & SCOPE_SEND ? "send " : "",
		  k->scopes & SCOPE_READ ? "read " : "", k->scopes & SCOPE_ADMIN ? "admin" : "",
		  k->mask_numbers ? ", mask_numbers" : "");
}

static json_t *scopes_json(unsigned scopes)
{
	static const char *const names[] = { "send", "read", "admin" };
	json_t *a = json_array();
	for (unsigned i = 0; i < 3; i++)
		if (scopes & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static const struct config_api_key *config_key(const struct api *api, const char *name)
{
	const struct config *cfg = api->deps.cfg;
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (strcmp(cfg->api_keys[i].name, name) == 0)
			return &cfg->api_keys[i];
	return NULL;
}

static struct api_skey *find_skey(struct api *api, const char *id, const char *name)
{
	for (size_t i = 0; i < api->nskeys; i++)
		if ((id && strcmp(api->skeys[i].id, id) == 0) || (name && strcmp(api->skeys[i].name, name) == 0))
			return &api->skeys[i];
	return NULL;
}

/* Appends a store row to api->skeys: 0, or -1 (out of memory, or a hash or scopes the store should
 * never hold). */
static int remember(struct api *api, const struct store_api_key *k)
{
	struct api_skey s = { 0 };
	if (apikey_hash_parse(k->hash, s.sha256) < 0 || apikey_scopes_parse(k->scopes, &s.scopes) < 0) {
		log_warnx("api: stored key %s (%s) has a bad hash or scopes: ignored", k->id, k->name);
		return -1;
	}
	struct api_skey *p = realloc(api->skeys, (api->nskeys + 1) * sizeof(*p));
	if (!p)
		return -1;
	api->skeys = p;
	snprintf(s.id, sizeof(s.id), "%s", k->id);
	snprintf(s.name, sizeof(s.name), "%s", k->name);
	snprintf(s.created_by, sizeof(s.created_by), "%s", k->created_by);
	snprintf(s.owner, sizeof(s.owner), "key:%s", k->id);
	s.mask_numbers = k->mask_numbers;
	s.created_ms = k->created_ms;
	s.revoked_ms = k->revoked_ms;
	api->skeys[api->nskeys++] = s;
	return 0;
}

static int load_cb(void *arg, const struct store_api_key *k)
{
	remember(arg, k);
	return 0;
}

void api_keys_check_names(struct api *api)
{
	/* POST /v1/keys refuses a config key's name, but a config section can come later (SIGHUP) */
	for (size_t i = 0; i < api->nskeys; i++) {
		const struct api_skey *k = &api->skeys[i];
		if (!k->revoked_ms && config_key(api, k->name))
			log_warnx("api: key %s is named \"%s\" like [api_key:%s]: both work; revoke one to keep names apart",
				  k->id, k->name, k->name);
	}
}

int api_keys_load(struct api *api, char *err, size_t errlen)
{
	if (store_key_list(api->deps.st, load_cb, api) < 0) {
		snprintf(err, errlen, "api: the store's API keys could not be read");
		return -1;
	}
	size_t live = 0;
	for (size_t i = 0; i < api->nskeys; i++)
		live += api->skeys[i].revoked_ms == 0;
	if (api->nskeys)
		log_info("api: %zu API key(s) from the store (%zu revoked)", live, api->nskeys - live);
	api_keys_check_names(api);
	return 0;
}

/* Another node added or revoked a key (a shared store): merge the store's list into the one in memory
 * — new keys are appended, revocations applied — so entries never move under a request, as when a
 * key is added here. */
static int refresh_cb(void *arg, const struct store_api_key *k)
{
	struct api *api = arg;

	for (size_t i = 0; i < api->nskeys; i++) {
		if (strcmp(api->skeys[i].id, k->id) == 0) {
			if (k->revoked_ms && !api->skeys[i].revoked_ms)
				log_info("api: key %s (%s) revoked on another node", k->id, k->name);
			api->skeys[i].revoked_ms = k->revoked_ms;
			return 0;
		}
	}
	if (remember(api, k) == 0)
		log_info("api: key %s (%s) added on another node", k->id, k->name);
	return 0;
}

int api_keys_refresh(struct api *api)
{
	return store_key_list(api->deps.st, refresh_cb, api) < 0 ? -1 : 0;
}

struct api_skey *api_keys_match(struct api *api, const unsigned char digest[32])
{
	struct api_skey *found = NULL;
	/* every key is compared, so the time taken does not tell which one matched */
	for (size_t i = 0; i < api->nskeys; i++) {
		int eq = CRYPTO_memcmp(digest, api->skeys[i].sha256, 32) == 0;
		if (eq && !found && api->skeys[i].revoked_ms == 0)
			found = &api->skeys[i];
	}
	return found;
}

static json_t *skey_doc(const struct api_skey *k)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:s, s:o}", "id", k->id, "name", k->name, "source",
			      "store", "scopes", scopes_json(k->scopes), "mask_numbers", k->mask_numbers, "created_at",
			      api_time(k->created_ms), "created_by", k->created_by, "revoked_at", api_time(k->revoked_ms));
	return o;
}

/* Reads the body as a JSON object; replies 400 itself and returns NULL otherwise. */
static json_t *read_object(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;

	if (len == 0) {
		api_error(r->req, 400, "invalid_json", NULL, "empty body: expected a JSON object");
		return NULL;
	}
	json_t *root = json_loadb((const char *)evbuffer_pullup(in, -1), len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		api_error(r->req, 400, "invalid_json", NULL, "malformed JSON at line %d column %d: %s", jerr.line,
			  jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		api_error(r->req, 400, "invalid_json", NULL, "expected a JSON object");
		return NULL;
	}
	return root;
}

/* {"name", "scopes": [...], "mask_numbers": bool}: 0 with *name, *scopes and *mask, or -1 (a 400 was
 * sent). */
static int parse_create(struct api_req *r, json_t *root, const char **name, unsigned *scopes, bool *mask)
{
	const char *k;
	json_t *v, *s;
	size_t i;

	*name = NULL;
	*scopes = 0;
	*mask = false;
	json_object_foreach(root, k, v) {
		if (strcmp(k, "name") == 0) {
			if (!json_is_string(v) || !apikey_valid_name(json_string_value(v))) {
				api_error(r->req, 400, "invalid_field", "name",
					  "name: 1 to 64 characters of letters, digits, '-', '_' and '.'");
				return -1;
			}
			*name = json_string_value(v);
		} else if (strcmp(k, "scopes") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0) {
				api_error(r->req, 400, "invalid_field", "scopes",
					  "scopes: a non-empty array of \"send\", \"read\", \"admin\"");
				return -1;
			}
			json_array_foreach(v, i, s) {
				unsigned bit = json_is_string(s) ? apikey_scope_bit(json_string_value(s)) : 0;
				if (!bit) {
					api_error(r->req, 400, "invalid_field", "scopes",
						  "scopes[%zu]: expected \"send\", \"read\" or \"admin\"", i);
					return -1;
				}
				*scopes |= bit;
			}
		} else if (strcmp(k, "mask_numbers") == 0) {
			if (!json_is_boolean(v)) {
				api_error(r->req, 400, "invalid_field", "mask_numbers", "mask_numbers: expected true or false");
				return -1;
			}
			*mask = json_is_true(v);
		} else {
			api_error(r->req, 400, "unknown_field", k, "unknown field \"%.64s\"", k);
			return -1;
		}
	}
	if (!*name || !*scopes) {
		const char *missing = !*name ? "name" : "scopes";
		api_error(r->req, 400, "missing_field", missing, "%s is required", missing);
		return -1;
	}
	return 0;
}

void api_keys_create(struct api_req *r)
{
	struct store_api_key row = { .created_ms = api_now_ms() };
	char key[APIKEY_MAX], id[APIKEY_ID_MAX];
	const char *name;
	unsigned scopes;
	bool mask;
	int rc = 1;
	json_t *root = read_object(r);

	if (!root)
		return;
	if (parse_create(r, root, &name, &scopes, &mask) < 0)
		goto out;
	if (r->masked && !mask) {
		/* else a masked admin key could make itself an unmasked one */
		api_error(r->req, 403, "masked_numbers", "mask_numbers",
			  "this API key has mask_numbers: the keys it creates need \"mask_numbers\": true");
		goto out;
	}
	if (config_key(r->api, name) || find_skey(r->api, NULL, name)) {
		api_error(r->req, 409, "name_taken", "name", "an API key named \"%s\" exists (%s)", name,
			  config_key(r->api, name) ? "in the config" : "in the store, perhaps revoked");
		goto out;
	}
	snprintf(row.name, sizeof(row.name), "%s", name);
	apikey_scopes_format(scopes, row.scopes);
	row.mask_numbers = mask;
	snprintf(row.created_by, sizeof(row.created_by), "%s", r->owner);
	for (int t = 0; t < ID_TRIES && rc == 1; t++) {
		if (apikey_generate(key, id) < 0) {
			api_error(r->req, 500, "no_entropy", NULL, "no random bytes for a key (getrandom failed)");
			goto out;
		}
		if (find_skey(r->api, id, NULL))
			continue;
		snprintf(row.id, sizeof(row.id), "%s", id);
		apikey_hash(key, row.hash);
		rc = store_key_add(r->api->deps.st, &row);
	}
	if (rc != 0) {
		/* rc 1 after the name check: the store and memory disagree, or ids kept colliding */
		api_error(r->req, 503, "store_unavailable", NULL, "the key could not be stored; nothing was created");
		goto out;
	}
	if (remember(r->api, &row) < 0) {
		api_error(r->req, 500, "out_of_memory", NULL, "key %s was stored but works only after a restart", row.id);
		goto out;
	}
	audit_key_event(r, "key.create", &r->api->skeys[r->api->nskeys - 1]);
	api_reply(r->req, 201, json_pack("{s:s, s:s, s:o, s:b, s:s, s:o}", "id", row.id, "name", row.name, "scopes",
					 scopes_json(scopes), "mask_numbers", mask, "key", key, "created_at",
					 api_time(row.created_ms)));
out:
	memset(key, 0, sizeof(key));
	json_decref(root);
}

void api_keys_list(struct api_req *r)
{
	const struct config *cfg = r->api->deps.cfg;
	json_t *list = json_array();

	for (size_t i = 0; i < cfg->napi_keys; i++)
		json_array_append_new(list, json_pack("{s:n, s:s, s:s, s:o, s:b}", "id", "name", cfg->api_keys[i].name,
						      "source", "config", "scopes", scopes_json(cfg->api_keys[i].scopes),
						      "mask_numbers", cfg->api_keys[i].mask_numbers));
	for (size_t i = 0; i < r->api->nskeys; i++)
		json_array_append_new(list, skey_doc(&r->api->skeys[i]));
	api_reply(r->req, 200, json_pack("{s:o}", "keys", list));
}

void api_keys_revoke(struct api_req *r, const char *id)
{
	struct api_skey *k = find_skey(r->api, id, NULL);
	int64_t now = api_now_ms();

	if (!k) {
		if (config_key(r->api, id))
			api_error(r->req, 409, "config_key", NULL,
				  "\"%s\" is a config key: remove its [api_key:%s] section and reload (SIGHUP)", id, id);
		else
			api_error(r->req, 404, "not_found", NULL, "no API key with id \"%.32s\"", id);
		return;
	}
	if (k->revoked_ms) {
		api_error(r->req, 409, "already_revoked", NULL, "API key %s (%s) is already revoked", k->id, k->name);
		return;
	}
	int rc = store_key_revoke(r->api->deps.st, k->id, now);
	if (rc < 0) {
		api_error(r->req, 503, "store_unavailable", NULL, "the store could not be written; the key still works");
		return;
	}
	/* rc 1: the store had it revoked already (memory was behind); either way it stops working now */
	k->revoked_ms = now;
	audit_key_event(r, "key.revoke", k);
	api_reply(r->req, 200, skey_doc(k));
}
