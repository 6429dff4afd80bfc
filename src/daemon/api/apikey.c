/* apikey: API keys created at run time — generation, their hash and the checks on names and scopes. */
#include "api/apikey.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"

static const char *const scope_names[] = { "send", "read", "admin" };   /* bit i = 1u << i */
_Static_assert(SCOPE_SEND == 1u << 0 && SCOPE_READ == 1u << 1 && SCOPE_ADMIN == 1u << 2, "scope_names order");

void apikey_encode(const unsigned char raw[APIKEY_RAW], char key[APIKEY_MAX])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *o = key + 3;

	memcpy(key, "sk_", 3);
	for (size_t i = 0; i < APIKEY_RAW; i += 3) {
		unsigned v = (unsigned)raw[i] << 16;
		size_t left = APIKEY_RAW - i;
		if (left > 1)
			v |= (unsigned)raw[i + 1] << 8;
		if (left > 2)
			v |= raw[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		if (left > 1)
			*o++ = b64[(v >> 6) & 63];
		if (left > 2)
			*o++ = b64[v & 63];
	}
	*o = '\0';
}

void apikey_id_encode(const unsigned char raw[4], char id[APIKEY_ID_MAX])
{
	snprintf(id, APIKEY_ID_MAX, "k_%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
}

/* getrandom() never returns short for <= 256 bytes once the pool is ready; loop for EINTR only. */
static int random_bytes(unsigned char *buf, size_t len)
{
	ssize_t n;
	do
		n = getrandom(buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

int apikey_generate(char key[APIKEY_MAX], char id[APIKEY_ID_MAX])
{
	unsigned char raw[APIKEY_RAW + 4];

	if (random_bytes(raw, sizeof(raw)) < 0)
		return -1;
	apikey_encode(raw, key);
	apikey_id_encode(raw + APIKEY_RAW, id);
	memset(raw, 0, sizeof(raw));
	return 0;
}

void apikey_hash(const char *key, char out[APIKEY_HASH_MAX])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)key, strlen(key), d);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
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

int apikey_hash_parse(const char *text, unsigned char digest[32])
{
	if (strncmp(text, "sha256:", 7) != 0 || strlen(text + 7) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(text[7 + 2 * i]), lo = hexval(text[8 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		digest[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int apikey_valid_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > APIKEY_NAME_MAX)
		return 0;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return 0;
	return 1;
}

unsigned apikey_scope_bit(const char *name)
{
	/* as in [api_key:*] scopes: admin implies send and read */
	if (strcmp(name, "admin") == 0)
		return SCOPE_ADMIN | SCOPE_SEND | SCOPE_READ;
	for (unsigned i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (strcmp(name, scope_names[i]) == 0)
			return 1u << i;
	return 0;
}

int apikey_scopes_parse(const char *text, unsigned *scopes)
{
	char buf[128], *save = NULL;
	unsigned bits = 0;

	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t len = strlen(tok);
		while (len > 0 && tok[len - 1] == ' ')
			tok[--len] = '\0';
		unsigned bit = apikey_scope_bit(tok);
		if (!bit)
			return -1;
		bits |= bit;
	}
	if (!bits)
		return -1;
	*scopes = bits;
	return 0;
}

void apikey_scopes_format(unsigned scopes, char out[APIKEY_SCOPES_MAX])
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (scopes & (1u << i))
			o += (size_t)snprintf(out + o, APIKEY_SCOPES_MAX - o, "%s%s", o ? "," : "", scope_names[i]);
}
