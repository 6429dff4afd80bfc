/* sim_store: the SIM card's short message storage (TS 27.005 <mem> "SM"): indexed slots that fill up. */
#ifndef GSMSIM_SIM_STORE_H
#define GSMSIM_SIM_STORE_H

#include <stdbool.h>

#include "simroute/pdu.h"

#define SIM_STORE_MAX 255   /* the largest SIM storage we simulate (TS 51.011 EF_SMS record count) */

/* TS 27.005 3.1 <stat> in PDU mode */
enum sim_store_stat { SIM_STAT_UNREAD = 0, SIM_STAT_READ = 1, SIM_STAT_UNSENT = 2, SIM_STAT_SENT = 3 };

struct sim_store;

struct sim_store *sim_store_new(int capacity);
void sim_store_free(struct sim_store *s);

int sim_store_capacity(const struct sim_store *s);
/* Shrinks or grows the storage (1..SIM_STORE_MAX); messages in slots beyond the new size are lost. */
void sim_store_resize(struct sim_store *s, int capacity);
int sim_store_used(const struct sim_store *s);
/* Index (1-based, as +CMTI reports it) of the new slot, or 0 when full. */
int sim_store_put(struct sim_store *s, const char *hex, int length, bool report);
/* NULL when the slot is empty or out of range. */
const char *sim_store_get(const struct sim_store *s, int index, int *length, int *stat, bool *report);
void sim_store_mark_read(struct sim_store *s, int index);
/* false when the slot was empty */
bool sim_store_delete(struct sim_store *s, int index);
void sim_store_clear(struct sim_store *s);

#endif
