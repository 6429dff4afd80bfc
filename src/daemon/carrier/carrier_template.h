/* carrier_template: the JSON body of a generic HTTP carrier, built from an operator's template. */
#ifndef SIMROUTED_CARRIER_TEMPLATE_H
#define SIMROUTED_CARRIER_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

/* What the placeholders {{to}} {{text}} {{id}} {{from}} {{reference}} {{callback_url}} stand for;
 * NULL is "". */
struct carrier_vars {
	const char *to, *text, *id, *from, *reference, *callback_url;
};

/*
 * A template is JSON text whose strings (values and keys) may hold placeholders. It is parsed once;
 * rendering walks the parsed tree and replaces placeholders inside each string, then jansson writes
 * the body. A value therefore can never leave its string, whatever quotes, backslashes, newlines or
 * emoji it holds: escaping is jansson's, not ours. A placeholder outside a string is not JSON and is
 * refused when the template is parsed.
 */

/* Parses and checks a template (an object or array; only the placeholders above; a test render must
 * give valid JSON). NULL with err filled. Free with json_decref. */
json_t *carrier_template_parse(const char *text, char *err, size_t errlen);
/* The body (malloc'd compact JSON), or NULL (out of memory). */
char *carrier_template_render(const json_t *tpl, const struct carrier_vars *v);
/* Replaces the placeholders in one string: malloc'd, or NULL (out of memory). unknown, if not NULL,
 * is set to 1 when a {{name}} is not one of the placeholders (it is kept as written). */
char *carrier_template_expand(const char *s, const struct carrier_vars *v, int *unknown);

/* The carrier's message id in a JSON answer: `path` is a JSON pointer ("/data/0/sid", RFC 6901) or
 * a top-level key ("sid"); NULL or "" tries "id", "sid", then "message_id". A string or an integer
 * is taken. id is left "" when there is none. */
void carrier_template_response_id(const char *body, size_t len, const char *path, char *id, size_t idlen);

#endif
