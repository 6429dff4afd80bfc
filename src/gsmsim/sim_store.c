/* sim_store: the SIM card's short message storage (TS 27.005 <mem> "SM"): indexed slots that fill up. */
#include "sim_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_slot {
	bool used;
	bool report;              /* an SMS-STATUS-REPORT stored by +CNMI <ds>=2 */
	int stat;
	int length;               /* TPDU octets, as +CMGR/+CMGL report <length> */
	char hex[PDU_HEX_MAX];    /* SMSC address + TPDU, as read back */
};

struct sim_store {
	int capacity;
	struct sim_slot slots[SIM_STORE_MAX];
};

struct sim_store *sim_store_new(int capacity)
{
	struct sim_store *s = calloc(1, sizeof(*s));

	if (s)
		sim_store_resize(s, capacity);
	return s;
}

void sim_store_free(struct sim_store *s) { free(s); }
int sim_store_capacity(const struct sim_store *s) { return s->capacity; }

void sim_store_resize(struct sim_store *s, int capacity)
{
	if (capacity < 1)
		capacity = 1;
	if (capacity > SIM_STORE_MAX)
		capacity = SIM_STORE_MAX;
	for (int i = capacity; i < SIM_STORE_MAX; i++)
		s->slots[i].used = false;
	s->capacity = capacity;
}

int sim_store_used(const struct sim_store *s)
{
	int n = 0;

	for (int i = 0; i < s->capacity; i++)
		n += s->slots[i].used;
	return n;
}

int sim_store_put(struct sim_store *s, const char *hex, int length, bool report)
{
	/* A SIM fills the lowest free record first, so deleted indices are reused (as on real modems). */
	for (int i = 0; i < s->capacity; i++) {
		struct sim_slot *slot = &s->slots[i];
		if (slot->used)
			continue;
		slot->used = true;
		slot->report = report;
		slot->stat = SIM_STAT_UNREAD;
		slot->length = length;
		snprintf(slot->hex, sizeof(slot->hex), "%s", hex);
		return i + 1;
	}
	return 0;
}

const char *sim_store_get(const struct sim_store *s, int index, int *length, int *stat, bool *report)
{
	const struct sim_slot *slot;

	if (index < 1 || index > s->capacity || !s->slots[index - 1].used)
		return NULL;
	slot = &s->slots[index - 1];
	if (length)
		*length = slot->length;
	if (stat)
		*stat = slot->stat;
	if (report)
		*report = slot->report;
	return slot->hex;
}

void sim_store_mark_read(struct sim_store *s, int index)
{
	if (index >= 1 && index <= s->capacity && s->slots[index - 1].used &&
	    s->slots[index - 1].stat == SIM_STAT_UNREAD)
		s->slots[index - 1].stat = SIM_STAT_READ;
}

bool sim_store_delete(struct sim_store *s, int index)
{
	if (index < 1 || index > s->capacity || !s->slots[index - 1].used)
		return false;
	s->slots[index - 1].used = false;
	return true;
}

void sim_store_clear(struct sim_store *s)
{
	for (int i = 0; i < SIM_STORE_MAX; i++)
		s->slots[i].used = false;
}
