/* api_redact: what a masked request (r->redact: a key with mask_numbers, or ?view=dashboard without
 * admin scope) hides — phone numbers, numbers inside free text, an OTP's digits, URL queries —
 * applied to a reply's JSON fields. */
#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"
#include "simroute/phone.h"

void api_redact_number(const struct api_req *r, json_t *o, const char *field)
{
	const char *v = json_string_value(json_object_get(o, field));
	char masked[64];
	if (!r->redact || !v)
		return;
	phone_mask(v, masked, sizeof(masked));
	json_object_set_new(o, field, json_string(masked));
}

void api_redact_url(const struct api_req *r, json_t *o, const char *field)
{
	const char *v = json_string_value(json_object_get(o, field)), *q;
	if (!r->redact || !v || !(q = strpbrk(v, "?#")))
		return;
	json_object_set_new(o, field, json_sprintf("%.*s?…", (int)(q - v), v));
}

void api_redact_text(const struct api_req *r, json_t *o, const char *field)
{
	const char *v = json_string_value(json_object_get(o, field));
	if (!r->redact || !v)
		return;
	size_t len = strlen(v) + 1;
	char *t = malloc(len);
	if (!t) {
		json_object_set_new(o, field, json_string(""));
		return;
	}
	json_object_set_new(o, field, json_string(phone_redact(v, t, len)));
	free(t);
}

void api_redact_digits(const struct api_req *r, json_t *o, const char *field)
{
	const char *v = json_string_value(json_object_get(o, field));
	if (!r->redact || !v)
		return;
	char *t = strdup(v);
	if (!t) {
		json_object_set_new(o, field, json_string(""));
		return;
	}
	for (char *p = t; *p; p++)
		if (*p >= '0' && *p <= '9')
			*p = '*';
	json_object_set_new(o, field, json_string(t));
	free(t);
}
