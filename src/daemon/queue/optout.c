/* optout: the opt-out (suppression) list as an in-memory set for the accept path, kept in step with
 * the store, and the inbound STOP / START keywords that change it.
 *
 * POST /v1/messages checks every destination at tens of thousands of messages a second, so the check
 * is an open-addressing hash lookup (FNV-1a, linear probing, tombstones for removals), never a query.
 * The store is the truth: the set is loaded from it at start-up and changed only after a write to it
 * succeeded. */
#include "queue/optout.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store.h"
#include "simroute/log.h"
#include "simroute/phone.h"

#define TOMBSTONE ((char *)&tombstone_mark)
static const char tombstone_mark = 0;

struct optout {
	struct store *st;
	const char *stop, *start;
	char **slots;          /* NULL empty, TOMBSTONE removed, else a strdup'd number */
	size_t cap;            /* a power of two */
	size_t n;              /* live numbers */
	size_t used;           /* live numbers and tombstones: what probing walks over */
};

/* ---- keywords (pure) ---- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* Is [s, s + len) one of the comma-separated words of list (each trimmed), without case? */
static bool in_list(const char *s, size_t len, const char *list)
{
	if (list == NULL || len == 0)
		return false;
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t wlen = end ? (size_t)(end - p) : strlen(p);
		const char *w = p;
		while (wlen && is_space(*w)) {
			w++;
			wlen--;
		}
		while (wlen && is_space(w[wlen - 1]))
			wlen--;
		if (wlen == len && strncasecmp(w, s, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

enum optout_keyword optout_keyword_match(const char *text, const char *stop, const char *start)
{
	if (text == NULL)
		return OPTOUT_KW_NONE;
	while (is_space(*text))
		text++;
	size_t len = strlen(text);
	while (len && is_space(text[len - 1]))
		len--;
	if (in_list(text, len, stop))
		return OPTOUT_KW_STOP;
	if (in_list(text, len, start))
		return OPTOUT_KW_START;
	return OPTOUT_KW_NONE;
}

/* ---- the set ---- */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot holding number, or NULL. */
static char **find(const struct optout *o, const char *number)
{
	if (o->cap == 0)
		return NULL;
	for (size_t i = hash(number) & (o->cap - 1), k = 0; k < o->cap; i = (i + 1) & (o->cap - 1), k++) {
		char *v = o->slots[i];
		if (v == NULL)
			return NULL;
		if (v != TOMBSTONE && strcmp(v, number) == 0)
			return &o->slots[i];
	}
	return NULL;
}

/* Puts key (owned) in the first free slot of its probe; the table has room. */
static void place(char **slots, size_t cap, char *key)
{
	size_t i = hash(key) & (cap - 1);
	while (slots[i] != NULL && slots[i] != TOMBSTONE)
		i = (i + 1) & (cap - 1);
	slots[i] = key;
}

/* Keeps live + tombstones at most half the table: rebuilt (tombstones dropped) when it would not be. */
static int reserve(struct optout *o)
{
	if ((o->used + 1) * 2 <= o->cap)
		return 0;
	size_t ncap = o->cap ? o->cap : 64;
	while ((o->n + 1) * 2 > ncap)
		ncap *= 2;
	if ((o->n + 1) * 4 > ncap)   /* mostly live: grow, or a full table would rebuild on every add */
		ncap *= 2;
	char **ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < o->cap; i++)
		if (o->slots[i] != NULL && o->slots[i] != TOMBSTONE)
			place(ns, ncap, o->slots[i]);
	free(o->slots);
	o->slots = ns;
	o->cap = ncap;
	o->used = o->n;
	return 0;
}

static int set_add(struct optout *o, const char *number)
{
	char *key;

	if (find(o, number))
		return 1;
	if (reserve(o) < 0 || (key = strdup(number)) == NULL)
		return -1;
	place(o->slots, o->cap, key);
	o->n++;
	o->used++;
	return 0;
}

static void set_remove(struct optout *o, const char *number)
{
	char **slot = find(o, number);
	if (slot == NULL)
		return;
	free(*slot);
	*slot = TOMBSTONE;
	o->n--;
}

bool optout_contains(const struct optout *o, const char *number)
{
	return o && number && find(o, number) != NULL;
}

size_t optout_count(const struct optout *o) { return o ? o->n : 0; }

/* ---- store and set together ---- */

static int load_cb(void *arg, const struct store_optout *row)
{
	return set_add(arg, row->number) < 0;
}

struct optout *optout_new(struct store *st, const char *stop, const char *start, char *err, size_t errlen)
{
	struct optout *o = calloc(1, sizeof(*o));
	struct store_optout_filter f = { .limit = SIZE_MAX };

	if (o == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->st = st;
	o->stop = stop;
	o->start = start;
	int n = store_optout_list(st, &f, load_cb, o);
	if (n < 0 || (size_t)n != o->n) {
		snprintf(err, errlen, n < 0 ? "the opt-out list could not be read from the store" : "out of memory");
		optout_free(o);
		return NULL;
	}
	log_info("optout: %zu number(s) on the opt-out list", o->n);
	return o;
}

static void slots_free(char **slots, size_t cap)
{
	for (size_t i = 0; i < cap; i++)
		if (slots[i] != TOMBSTONE)
			free(slots[i]);
	free(slots);
}

/* The set read again into a fresh table, swapped in only once complete: a failed read keeps the old. */
int optout_refresh(struct optout *o)
{
	struct optout fresh = { .st = o->st, .stop = o->stop, .start = o->start };
	struct store_optout_filter f = { .limit = SIZE_MAX };
	int n = store_optout_list(o->st, &f, load_cb, &fresh);

	if (n < 0 || (size_t)n != fresh.n) {
		slots_free(fresh.slots, fresh.cap);
		return -1;
	}
	slots_free(o->slots, o->cap);
	o->slots = fresh.slots;
	o->cap = fresh.cap;
	o->n = fresh.n;
	o->used = fresh.used;
	log_info("optout: list read again from the shared store: %zu number(s)", o->n);
	return 0;
}

void optout_free(struct optout *o)
{
	if (o == NULL)
		return;
	slots_free(o->slots, o->cap);
	free(o);
}

int optout_add(struct optout *o, const char *number, const char *source, const char *note, int64_t now_ms)
{
	struct store_optout row = { .number = number, .source = source, .note = note, .created_ms = now_ms };
	int rc = store_optout_add(o->st, &row);

	if (rc < 0)
		return -1;
	/* listed in the store either way (1: it was already): the set must say so too */
	if (set_add(o, number) < 0) {
		log_warnx("optout: out of memory: a listed number is not checked until the next start");
		return -1;
	}
	return rc;
}

int optout_remove(struct optout *o, const char *number)
{
	int rc = store_optout_remove(o->st, number);

	if (rc >= 0)
		set_remove(o, number);
	return rc;
}

/* The text of inbound message id (malloc'd), or NULL. */
struct find_text {
	int64_t id;
	char *text;
};

static int text_cb(void *arg, const struct store_inbound *in)
{
	struct find_text *f = arg;
	if (in->id == f->id && in->complete)
		f->text = strdup(in->text ? in->text : "");
	return 1;
}

void optout_inbound(void *arg, int64_t inbound_id, const char *from, int64_t now_ms)
{
	struct optout *o = arg;
	struct store_inbound_filter f = { .before_id = inbound_id + 1, .limit = 1 };
	struct find_text ft = { .id = inbound_id };
	char masked[STORE_TO_MAX], detail[96];
	int rc;

	/* an alphanumeric or national sender cannot be a destination of POST /v1/messages */
	if (!phone_e164_valid(from) || ((!o->stop || !o->stop[0]) && (!o->start || !o->start[0])))
		return;
	if (store_inbound_list(o->st, &f, text_cb, &ft) < 0 || ft.text == NULL) {
		free(ft.text);
		return;
	}
	enum optout_keyword kw = optout_keyword_match(ft.text, o->stop, o->start);
	if (kw == OPTOUT_KW_NONE) {
		free(ft.text);
		return;
	}
	/* the keyword as received (trimmed), for the list's note and the audit row */
	const char *t = ft.text;
	while (is_space(*t))
		t++;
	size_t len = strlen(t);
	while (len && is_space(t[len - 1]))
		len--;
	char word[64];
	snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) ? len : sizeof(word) - 1), t);
	free(ft.text);
	phone_mask(from, masked, sizeof(masked));
	if (kw == OPTOUT_KW_STOP)
		rc = optout_add(o, from, "inbound", word, now_ms);
	else
		rc = optout_remove(o, from);
	if (rc < 0) {
		log_warnx("optout: inbound %lld: \"%s\" from %s: store error: the list is unchanged",
			  (long long)inbound_id, word, masked);
		return;
	}
	if (rc == 1) {
		log_info("optout: inbound %lld: \"%s\" from %s: already %s", (long long)inbound_id, word, masked,
			 kw == OPTOUT_KW_STOP ? "listed" : "not listed");
		return;
	}
	log_info("optout: %s %s the opt-out list (inbound %lld: \"%s\")", masked,
		 kw == OPTOUT_KW_STOP ? "added to" : "removed from", (long long)inbound_id, word);
	snprintf(detail, sizeof(detail), "keyword \"%s\" in inbound %lld", word, (long long)inbound_id);
	struct store_audit_new a = { .at_ms = now_ms, .actor = "inbound",
				     .action = kw == OPTOUT_KW_STOP ? "optout.add" : "optout.remove", .target = from,
				     .detail = detail };
	if (store_audit_add(o->st, &a) < 0)
		log_warnx("optout: inbound %lld: the audit row could not be written", (long long)inbound_id);
}
