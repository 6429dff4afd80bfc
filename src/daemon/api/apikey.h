/* apikey: API keys created at run time — generation, their hash and the checks on names and scopes. */
#ifndef SIMROUTED_APIKEY_H
#define SIMROUTED_APIKEY_H

#include <stddef.h>

#define APIKEY_RAW 32                 /* random bytes in a key */
#define APIKEY_MAX 48                 /* "sk_" + 43 base64url characters and the NUL */
#define APIKEY_ID_MAX 12              /* "k_" + 8 hex and the NUL */
#define APIKEY_HASH_MAX 72            /* "sha256:" + 64 hex and the NUL: the config's format */
#define APIKEY_NAME_MAX 64            /* characters in a name */
#define APIKEY_SCOPES_MAX 32          /* "send,read,admin" and the NUL */

/* The key for raw bytes: "sk_" + unpadded base64url (RFC 4648 section 5). */
void apikey_encode(const unsigned char raw[APIKEY_RAW], char key[APIKEY_MAX]);
/* The public id for raw bytes: "k_" + 8 lower-case hex digits. */
void apikey_id_encode(const unsigned char raw[4], char id[APIKEY_ID_MAX]);
/* A new key and id from getrandom(): 0, or -1 (no entropy: nothing is made up instead). */
int apikey_generate(char key[APIKEY_MAX], char id[APIKEY_ID_MAX]);
/* "sha256:<hex of SHA-256(key)>", as [api_key:*] hash = spells it. */
void apikey_hash(const char *key, char out[APIKEY_HASH_MAX]);
/* "sha256:<64 hex>" -> digest: 0, or -1 if malformed. */
int apikey_hash_parse(const char *text, unsigned char digest[32]);
/* 1 if name is 1..64 characters of [A-Za-z0-9_.-], else 0. */
int apikey_valid_name(const char *name);
/* One scope name (send | read | admin) -> the enum config_scope bits it grants (admin: all three, as
 * in the config), or 0. */
unsigned apikey_scope_bit(const char *name);
/* "send,read" (commas, optional spaces) -> bits: 0, or -1 for an unknown or empty scope. */
int apikey_scopes_parse(const char *text, unsigned *scopes);
/* bits -> "send,read,admin" (in that order). */
void apikey_scopes_format(unsigned scopes, char out[APIKEY_SCOPES_MAX]);

#endif
