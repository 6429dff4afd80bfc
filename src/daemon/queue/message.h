/* message: the message state machine (DESIGN.md) — states, lanes, and which transitions are legal. */
#ifndef SIMROUTED_MESSAGE_H
#define SIMROUTED_MESSAGE_H

#include <stdbool.h>

enum msg_state {
	MSG_QUEUED = 0,
	MSG_SENDING,
	MSG_SENT,
	MSG_DELIVERED,
	MSG_UNDELIVERED,
	MSG_FAILED,
	MSG_EXPIRED,
	MSG_CANCELLED,
	MSG_UNCERTAIN,
	MSG_STATE_COUNT
};

enum msg_lane { LANE_OTP = 0, LANE_NORMAL, LANE_BULK, LANE_COUNT };

const char *message_state_name(enum msg_state s);
int message_state_parse(const char *name, enum msg_state *out);     /* 0 or -1 */
bool message_state_final(enum msg_state s);
/* Whether from -> to is a legal move of the state machine. */
bool message_transition_ok(enum msg_state from, enum msg_state to);

const char *message_lane_name(enum msg_lane l);                     /* "otp" | "normal" | "bulk" */
int message_lane_parse(const char *name, enum msg_lane *out);       /* 0 or -1 */

#endif
