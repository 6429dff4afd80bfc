/* api: the local HTTP API (evhttp) on TCP (API key required) and on a Unix socket (file mode is the access). */
#ifndef SIMROUTED_API_H
#define SIMROUTED_API_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct config;
struct store;
struct ingest;
struct scheduler;
struct webhook;
struct optout;
struct api;

struct api_deps {
	const struct config *cfg;
	struct store *st;
	struct ingest *in;
	struct scheduler *sched;
	struct webhook *webhook;  /* NULL: no deliverer (replay only marks the row due) */
	struct optout *optout;    /* the opt-out list checked at accept time (NULL: none) */
	int64_t started_ms;
	const char *store_path;
	const char *node_id;      /* on a shared store (postgresql): this node's name; else "" or NULL */
};

/* Binds every configured listener; NULL and err on failure (address in use, socket path, ...). */
struct api *api_new(struct event_base *base, const struct api_deps *deps, char *err, size_t errlen);
/* The [api_key:*] set in the config was replaced (SIGHUP): per-key state (rate-limit buckets) is
 * rebuilt for the new set. Returns 0, or -1 (out of memory: rate limits are off until the next). */
int api_keys_reloaded(struct api *api);
/* The store's API keys changed on another node (store_versions): take them in. 0, or -1. */
int api_keys_refresh(struct api *api);
/* Closes the listeners and removes the socket file. */
void api_free(struct api *api);

#endif
