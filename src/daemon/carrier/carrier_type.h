/* carrier_type: how each kind of carrier shapes a request and reads the answer (a table of hooks). */
#ifndef SIMROUTED_CARRIER_TYPE_H
#define SIMROUTED_CARRIER_TYPE_H

#include <curl/curl.h>
#include <jansson.h>

#include "carrier/carrier.h"

struct carrier_type {
	const char *name;
	/* Checks the config; 0 or -1 with err. */
	int (*check)(const struct carrier_config *cfg, char *err, size_t errlen);
	/* Fills url (malloc'd), body (malloc'd), headers and auth on the easy handle. tpl: the parsed
	 * template, NULL for none. 0 or -1. */
	int (*prepare)(const struct carrier_config *cfg, const json_t *tpl, CURL *easy, const struct carrier_msg *m,
		       char **url, char **body, struct curl_slist **headers);
	/* Reads a 2xx answer's body for the carrier's id (may leave id empty). */
	void (*parse_id)(const struct carrier_config *cfg, const char *body, size_t len, char *id, size_t idlen);
};

const struct carrier_type *carrier_type_find(const char *name);
/* 2xx accepted; 408/425/429/5xx temporary; other 4xx permanent; anything else temporary. */
enum carrier_outcome carrier_type_classify(long http_status);

#endif
