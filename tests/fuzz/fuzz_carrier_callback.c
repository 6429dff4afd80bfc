/* libFuzzer target: what simroute reads from carriers and operators around a cloud carrier —
 * carrier_template_parse/render (an operator's body template), carrier_callback_form_parse and the
 * Twilio signature (a callback's form body), carrier_template_response_id (a carrier's answer).
 * Checks: no crash or leak; a template that parses renders, with the input itself as every value, to
 * JSON that parses back with the same shape (no value breaks out of its string); a decoded form has
 * no NUL inside its strings and signs. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier/carrier_callback.h"
#include "carrier/carrier_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Same keys, same kinds, all the way down (strings may differ: they got the values). */
static void same_shape(json_t *a, json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		abort();
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			abort();
		for (size_t i = 0; i < json_array_size(a); i++)
			same_shape(json_array_get(a, i), json_array_get(b, i));
	} else if (json_is_object(a) && json_object_size(a) < json_object_size(b)) {
		abort();   /* keys may merge after substitution, never multiply */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], id[80];
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	json_t *tpl = carrier_template_parse(s, err, sizeof(err));
	if (tpl) {
		/* the input as every value: valid UTF-8 or not, quotes, braces and all */
		struct carrier_vars v = { s, s, "7", s, s, s };
		char *body = carrier_template_render(tpl, &v);
		if (body) {
			json_t *back = json_loads(body, JSON_DECODE_ANY, NULL);
			if (!back)
				abort();
			same_shape(tpl, back);
			json_decref(back);
			free(body);
		}
		json_decref(tpl);
	}

	struct carrier_callback_form f;
	if (carrier_callback_form_parse((const char *)data, size, &f) == 0) {
		char sig[CARRIER_TWILIO_SIG_MAX];
		if (carrier_callback_twilio_sign("token", "https://gw.example/v1/carrier/tw/status", &f, sig) != 0 ||
		    strlen(sig) != 28)
			abort();
		carrier_callback_form_get(&f, "MessageSid");
		carrier_callback_form_clear(&f);
	}

	carrier_template_response_id((const char *)data, size, NULL, id, sizeof(id));
	carrier_template_response_id((const char *)data, size, "/data/0/id", id, sizeof(id));
	if (strlen(id) >= sizeof(id))
		abort();
	free(s);
	return 0;
}
