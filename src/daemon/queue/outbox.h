/* outbox: turns message state changes and inbound SMS into webhook outbox rows (store hooks). */
#ifndef SIMROUTED_OUTBOX_H
#define SIMROUTED_OUTBOX_H

#include <stdint.h>

#include "queue/message.h"

struct store;
struct store_msg;
struct store_inbound;
struct outbox;

/* A row was written: the delivery side may look for due rows now. */
typedef void outbox_kick_cb(void *arg);

/* global_url: where events go when a message has no callback_url (NULL or "": nowhere; inbound
 * events then go nowhere either). Registers itself as st's hooks; outbox_free unregisters. */
struct outbox *outbox_new(struct store *st, const char *global_url, outbox_kick_cb *kick, void *kick_arg);
void outbox_free(struct outbox *ob);

/* The event a move into `to` reports ("message.sent", ...), or NULL for none. */
const char *outbox_event_name(enum msg_state to);
/* The JSON bodies (malloc'd; NULL: out of memory). */
char *outbox_message_body(const struct store_msg *m, const char *event, int64_t now_ms);
char *outbox_inbound_body(const struct store_inbound *in, int64_t now_ms);

#endif
