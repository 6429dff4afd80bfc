/* optout: the opt-out (suppression) list as an in-memory set for the accept path, kept in step with
 * the store, and the inbound STOP / START keywords that change it. */
#ifndef SIMROUTED_OPTOUT_H
#define SIMROUTED_OPTOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct optout;

enum optout_keyword { OPTOUT_KW_NONE, OPTOUT_KW_STOP, OPTOUT_KW_START };

/* Pure: is text, trimmed of white space and compared without case, exactly one of the comma-separated
 * keywords of stop (OPTOUT_KW_STOP) or start (OPTOUT_KW_START)? NULL or "" lists match nothing.
 * "stop" and " Stop\n" match STOP; "stop please" and "STOP STOP" do not. */
enum optout_keyword optout_keyword_match(const char *text, const char *stop, const char *start);

/* Loads the list from st. stop/start point at the keyword lists and are read on every inbound SMS,
 * so changing the strings in place (a SIGHUP reload of struct config) takes effect at once.
 * NULL and err on failure (store unreadable, out of memory). */
struct optout *optout_new(struct store *st, const char *stop, const char *start, char *err, size_t errlen);
void optout_free(struct optout *o);
/* Read the set again from the store (another node changed it: store_versions). 0, or -1 (kept). */
int optout_refresh(struct optout *o);

/* The accept path's check: a hash lookup, no store access. */
bool optout_contains(const struct optout *o, const char *number);
size_t optout_count(const struct optout *o);

/* Store first, then the set (a store error leaves both as they were). number must be E.164.
 * add: 0 added, 1 already listed, -1 error. remove: 0 removed, 1 not listed, -1 error. */
int optout_add(struct optout *o, const char *number, const char *source, const char *note, int64_t now_ms);
int optout_remove(struct optout *o, const char *number);

/* A complete inbound SMS was stored (the scheduler's inbound callback): a stop or start keyword from an
 * E.164 sender changes the list, with an audit row (actor "inbound"). Runs inside the inbound batch. */
void optout_inbound(void *arg, int64_t inbound_id, const char *from, int64_t now_ms);

#endif
