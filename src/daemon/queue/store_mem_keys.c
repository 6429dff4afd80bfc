/* store_mem_keys: the mem backend's API keys — same semantics as store_sqlite_keys.c. */
#include <stdlib.h>
#include <string.h>

#include "queue/store_backend.h"

/* Rows in creation order (a handful: an administrator creates them). */
struct store_mem_keys {
	struct store_api_key *rows;
	size_t n;
};

void store_mem_keys_free(struct store_mem_keys *mk)
{
	if (mk == NULL)
		return;
	free(mk->rows);
	free(mk);
}

int store_mem_keys_add(struct store_mem_keys **mkp, const struct store_api_key *k)
{
	struct store_mem_keys *mk = *mkp;

	if (mk == NULL && (mk = *mkp = calloc(1, sizeof(*mk))) == NULL)
		return -1;
	for (size_t i = 0; i < mk->n; i++)
		if (strcmp(mk->rows[i].id, k->id) == 0 || strcmp(mk->rows[i].name, k->name) == 0)
			return 1;
	struct store_api_key *p = realloc(mk->rows, (mk->n + 1) * sizeof(*p));
	if (p == NULL)
		return -1;
	mk->rows = p;
	p[mk->n] = *k;
	p[mk->n].revoked_ms = 0;
	mk->n++;
	return 0;
}

int store_mem_keys_list(struct store_mem_keys **mkp, store_key_cb *cb, void *arg)
{
	struct store_mem_keys *mk = *mkp;
	int n = 0;

	for (size_t i = 0; mk && i < mk->n; i++) {
		struct store_api_key k = mk->rows[i];
		n++;
		if (cb(arg, &k))
			break;
	}
	return n;
}

int store_mem_keys_revoke(struct store_mem_keys **mkp, const char *id, int64_t now_ms)
{
	struct store_mem_keys *mk = *mkp;

	for (size_t i = 0; mk && i < mk->n; i++) {
		if (strcmp(mk->rows[i].id, id) == 0 && mk->rows[i].revoked_ms == 0) {
			mk->rows[i].revoked_ms = now_ms;
			return 0;
		}
	}
	return 1;
}
