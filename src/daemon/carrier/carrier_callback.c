/* carrier_callback: reading a carrier's delivery callback (pure; the endpoint is api/api_carrier.c). */
#include "carrier/carrier_callback.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

enum carrier_callback_dlr carrier_callback_status(const char *status)
{
	/* Twilio's message statuses (Messages resource "status"); "read" is WhatsApp's delivered-and-read. */
	static const struct { const char *word; enum carrier_callback_dlr dlr; } words[] = {
		{ "accepted", CARRIER_CALLBACK_PENDING }, { "scheduled", CARRIER_CALLBACK_PENDING },
		{ "queued", CARRIER_CALLBACK_PENDING }, { "sending", CARRIER_CALLBACK_PENDING },
		{ "sent", CARRIER_CALLBACK_PENDING }, { "delivered", CARRIER_CALLBACK_DELIVERED },
		{ "read", CARRIER_CALLBACK_DELIVERED }, { "undelivered", CARRIER_CALLBACK_UNDELIVERED },
		{ "failed", CARRIER_CALLBACK_UNDELIVERED },
	};
	for (size_t i = 0; status && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(status, words[i].word) == 0)
			return words[i].dlr;
	return CARRIER_CALLBACK_UNKNOWN;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into a new string; NULL on a bad escape, an encoded NUL or no memory. */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	for (size_t i = 0; out && i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int a = i + 2 < n ? hexval(s[i + 1]) : -1, b = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (a < 0 || b < 0 || (a == 0 && b == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(a * 16 + b);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	if (out)
		*o = '\0';
	return out;
}

int carrier_callback_form_parse(const char *body, size_t len, struct carrier_callback_form *f)
{
	const char *p = body, *end = body + len;

	memset(f, 0, sizeof(*f));
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (stop > p) {
			if (f->n == CARRIER_CALLBACK_MAX_PAIRS)
				goto fail;
			struct carrier_callback_pair *np = realloc(f->pairs, (f->n + 1) * sizeof(*np));
			if (!np)
				goto fail;
			f->pairs = np;
			const char *kend = eq ? eq : stop;
			char *k = decode(p, (size_t)(kend - p));
			char *v = eq ? decode(eq + 1, (size_t)(stop - eq - 1)) : strdup("");
			if (!k || !v) {
				free(k);
				free(v);
				goto fail;
			}
			f->pairs[f->n].key = k;
			f->pairs[f->n].value = v;
			f->n++;
		}
		p = stop + 1;
	}
	return 0;
fail:
	carrier_callback_form_clear(f);
	return -1;
}

const char *carrier_callback_form_get(const struct carrier_callback_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].key, key) == 0)
			return f->pairs[i].value;
	return NULL;
}

void carrier_callback_form_clear(struct carrier_callback_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->pairs[i].key);
		free(f->pairs[i].value);
	}
	free(f->pairs);
	memset(f, 0, sizeof(*f));
}

/* Byte order, as Twilio's own validators sort (name, then value for a repeated name). */
static int pair_cmp(const void *a, const void *b)
{
	const struct carrier_callback_pair *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

int carrier_callback_twilio_sign(const char *auth_token, const char *url, const struct carrier_callback_form *f,
				 char out[CARRIER_TWILIO_SIG_MAX])
{
	struct carrier_callback_pair *sorted = f->n ? malloc(f->n * sizeof(*sorted)) : NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t len = strlen(url), at;

	if (f->n && !sorted)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		sorted[i] = f->pairs[i];
		len += strlen(f->pairs[i].key) + strlen(f->pairs[i].value);
	}
	if (f->n)
		qsort(sorted, f->n, sizeof(*sorted), pair_cmp);
	char *msg = malloc(len + 1);
	if (!msg) {
		free(sorted);
		return -1;
	}
	at = strlen(url);
	memcpy(msg, url, at);
	for (size_t i = 0; i < f->n; i++) {
		size_t kl = strlen(sorted[i].key), vl = strlen(sorted[i].value);
		memcpy(msg + at, sorted[i].key, kl);
		memcpy(msg + at + kl, sorted[i].value, vl);
		at += kl + vl;
	}
	unsigned char *r = HMAC(EVP_sha1(), auth_token, (int)strlen(auth_token), (unsigned char *)msg, len, mac, &maclen);
	free(msg);
	free(sorted);
	if (!r || maclen != 20)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);   /* 28 characters and a NUL */
	return 0;
}

int carrier_callback_sig_equal(const char *got, const char *want)
{
	size_t n = strlen(want);
	return got && strlen(got) == n && CRYPTO_memcmp(got, want, n) == 0;
}
