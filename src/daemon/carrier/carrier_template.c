/* carrier_template: the JSON body of a generic HTTP carrier, built from an operator's template.
 * Placeholders are replaced inside the parsed tree's strings, never in the JSON text, so no value
 * can break out of its string (see carrier_template.h). */
#include "carrier/carrier_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *var(const struct carrier_vars *v, const char *name, size_t len)
{
	static const struct { const char *name; size_t off; } names[] = {
		{ "to", offsetof(struct carrier_vars, to) },
		{ "text", offsetof(struct carrier_vars, text) },
		{ "id", offsetof(struct carrier_vars, id) },
		{ "from", offsetof(struct carrier_vars, from) },
		{ "reference", offsetof(struct carrier_vars, reference) },
		{ "callback_url", offsetof(struct carrier_vars, callback_url) },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
			const char *s = *(const char *const *)(const void *)((const char *)v + names[i].off);
			return s ? s : "";
		}
	return NULL;
}

char *carrier_template_expand(const char *s, const struct carrier_vars *v, int *unknown)
{
	size_t cap = strlen(s) + 1, len = 0;
	char *out = malloc(cap);

	while (out && *s) {
		const char *open = strstr(s, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		const char *val = close ? var(v, open + 2, (size_t)(close - open - 2)) : NULL;
		size_t lit = open ? (size_t)(open - s) : strlen(s);
		if (open && !val) {
			if (close && unknown)
				*unknown = 1;
			lit += 2;   /* not a placeholder: keep "{{" as written and look on after it */
		}
		size_t vlen = val ? strlen(val) : 0;
		if (len + lit + vlen + 1 > cap) {
			cap = (len + lit + vlen + 1) * 2;
			char *p = realloc(out, cap);
			if (!p) {
				free(out);
				return NULL;
			}
			out = p;
		}
		memcpy(out + len, s, lit);
		len += lit;
		s += lit;
		if (val) {
			memcpy(out + len, val, vlen);
			len += vlen;
			s = close + 2;
		}
	}
	if (out)
		out[len] = '\0';
	return out;
}

/* A copy of t with every string (and object key) expanded; NULL on failure. */
static json_t *render(const json_t *t, const struct carrier_vars *v, int *unknown)
{
	json_t *out = NULL;

	if (json_is_string(t)) {
		char *s = carrier_template_expand(json_string_value(t), v, unknown);
		out = s ? json_string(s) : NULL;   /* NULL too if a value is not UTF-8 */
		free(s);
	} else if (json_is_object(t)) {
		const char *key;
		json_t *val;
		out = json_object();
		json_object_foreach((json_t *)t, key, val) {
			char *k = carrier_template_expand(key, v, unknown);
			json_t *r = render(val, v, unknown);
			if (!out || !k || !r) {
				json_decref(r);
				free(k);
				json_decref(out);
				return NULL;
			}
			int rc = json_object_set_new(out, k, r);   /* steals r, even on failure */
			free(k);
			if (rc < 0) {
				json_decref(out);
				return NULL;
			}
		}
	} else if (json_is_array(t)) {
		size_t i;
		json_t *val;
		out = json_array();
		json_array_foreach(t, i, val) {
			json_t *r = render(val, v, unknown);
			if (!out || !r || json_array_append_new(out, r) < 0) {   /* append steals r */
				if (!out)
					json_decref(r);
				json_decref(out);
				return NULL;
			}
		}
	} else {
		out = json_incref((json_t *)t);   /* numbers, true, false, null: as written */
	}
	return out;
}

char *carrier_template_render(const json_t *tpl, const struct carrier_vars *v)
{
	json_t *doc = render(tpl, v, NULL);
	char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(doc);
	return body;
}

json_t *carrier_template_parse(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *tpl = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);

	if (!tpl) {
		/* "{{to}}" outside a string lands here: jansson sees an object where a value belongs. */
		snprintf(err, errlen, "template: not JSON at line %d column %d: %s (placeholders go inside strings)",
			 je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(tpl) && !json_is_array(tpl)) {
		snprintf(err, errlen, "template: expected a JSON object or array");
		json_decref(tpl);
		return NULL;
	}
	/* A test render with values that would break naive substitution: quotes, backslashes, newlines,
	 * a control character, non-ASCII and a 4-byte emoji. The body must parse back. */
	const char *nasty = "\"}\\\n\t\x01 caf\xc3\xa9 \xf0\x9f\x98\x80 {{text}}";
	struct carrier_vars v = { nasty, nasty, "123", nasty, nasty, nasty };
	int unknown = 0;
	json_t *doc = render(tpl, &v, &unknown);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_t *back = body ? json_loads(body, 0, NULL) : NULL;
	json_decref(doc);
	free(body);
	if (unknown || !back) {
		snprintf(err, errlen, unknown ? "template: unknown placeholder (known: {{to}} {{text}} {{id}} {{from}} "
						"{{reference}} {{callback_url}})"
					      : "template: a test rendering did not give valid JSON");
		json_decref(back);
		json_decref(tpl);
		return NULL;
	}
	json_decref(back);
	return tpl;
}

/* RFC 6901: "/a/0/b", with ~1 for '/' and ~0 for '~'. */
static json_t *pointer_get(json_t *root, const char *ptr)
{
	char tok[256];

	while (root && *ptr == '/') {
		const char *end = strchr(ptr + 1, '/');
		size_t n = end ? (size_t)(end - ptr - 1) : strlen(ptr + 1), k = 0;
		if (n >= sizeof(tok))
			return NULL;
		for (size_t i = 0; i < n; i++) {
			char c = ptr[1 + i];
			if (c == '~' && i + 1 < n && (ptr[2 + i] == '0' || ptr[2 + i] == '1'))
				c = ptr[2 + i++] == '0' ? '~' : '/';
			tok[k++] = c;
		}
		tok[k] = '\0';
		if (json_is_object(root)) {
			root = json_object_get(root, tok);
		} else if (json_is_array(root)) {
			char *e;
			unsigned long idx = strtoul(tok, &e, 10);
			root = k && *e == '\0' && strspn(tok, "0123456789") == k ? json_array_get(root, idx) : NULL;
		} else {
			root = NULL;
		}
		ptr += 1 + n;
	}
	return *ptr ? NULL : root;
}

static void copy_id(json_t *n, char *id, size_t idlen)
{
	if (json_is_string(n))
		snprintf(id, idlen, "%s", json_string_value(n));
	else if (json_is_integer(n))
		snprintf(id, idlen, "%lld", (long long)json_integer_value(n));
}

void carrier_template_response_id(const char *body, size_t len, const char *path, char *id, size_t idlen)
{
	static const char *const defaults[] = { "id", "sid", "message_id" };
	json_t *root = json_loadb(body, len, 0, NULL);

	id[0] = '\0';
	if (!root)
		return;
	if (path && *path == '/')
		copy_id(pointer_get(root, path), id, idlen);
	else if (path && *path)
		copy_id(json_object_get(root, path), id, idlen);
	for (size_t i = 0; (!path || !*path) && !*id && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		copy_id(json_object_get(root, defaults[i]), id, idlen);
	json_decref(root);
}
