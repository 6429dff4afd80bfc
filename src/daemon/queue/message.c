/* message: the message state machine — printable names, parsing and the one table of legal moves. */
#include "queue/message.h"

#include <string.h>

/* Indexed by enum msg_state. These strings are also what the sqlite store writes in the `state`
 * column and what the API shows, so they are part of the on-disk format: never rename one. */
static const char *const state_names[MSG_STATE_COUNT] = {
	[MSG_QUEUED] = "queued",
	[MSG_SENDING] = "sending",
	[MSG_SENT] = "sent",
	[MSG_DELIVERED] = "delivered",
	[MSG_UNDELIVERED] = "undelivered",
	[MSG_FAILED] = "failed",
	[MSG_EXPIRED] = "expired",
	[MSG_CANCELLED] = "cancelled",
	[MSG_UNCERTAIN] = "uncertain",
};

/* Indexed by enum msg_lane, highest priority first. */
static const char *const lane_names[LANE_COUNT] = {
	[LANE_OTP] = "otp",
	[LANE_NORMAL] = "normal",
	[LANE_BULK] = "bulk",
};

/*
 * legal[from][to]. Everything not listed is illegal, including from == to: a "transition" that
 * changes nothing is a caller bug worth a warning, not a silent success.
 *
 * - queued -> failed: the message can be judged unsendable before any attempt (no route may ever
 *   take it, e.g. the carrier is not allowed and every SIM refuses its destination).
 * - sending -> queued: a retry, legal only because nothing reached the network (the caller knows:
 *   the PDU was never written to a modem, or the modem refused it with a CMS error).
 * - sending -> uncertain: a timeout after the PDU reached the modem; it may have gone out, so it
 *   is never resent blindly.
 * - uncertain -> anything but sending/expired/cancelled: a status report (sent/delivered/
 *   undelivered), or an explicit operator/config policy (failed, or queued = "resend anyway").
 */
static const bool legal[MSG_STATE_COUNT][MSG_STATE_COUNT] = {
	[MSG_QUEUED] = {
		[MSG_SENDING] = true, [MSG_EXPIRED] = true, [MSG_CANCELLED] = true, [MSG_FAILED] = true,
	},
	[MSG_SENDING] = {
		[MSG_SENT] = true, [MSG_QUEUED] = true, [MSG_FAILED] = true, [MSG_UNCERTAIN] = true,
	},
	[MSG_SENT] = {
		[MSG_DELIVERED] = true, [MSG_UNDELIVERED] = true,
	},
	[MSG_UNCERTAIN] = {
		[MSG_SENT] = true, [MSG_DELIVERED] = true, [MSG_UNDELIVERED] = true,
		[MSG_FAILED] = true, [MSG_QUEUED] = true,
	},
	/* delivered, undelivered, failed, expired, cancelled: final, no way out. */
};

static bool state_valid(enum msg_state s)
{
	return (unsigned)s < MSG_STATE_COUNT;
}

const char *message_state_name(enum msg_state s)
{
	return state_valid(s) ? state_names[s] : "?";
}

int message_state_parse(const char *name, enum msg_state *out)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < MSG_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum msg_state)i;
			return 0;
		}
	}
	return -1;
}

bool message_state_final(enum msg_state s)
{
	switch (s) {
	case MSG_DELIVERED:
	case MSG_UNDELIVERED:
	case MSG_FAILED:
	case MSG_EXPIRED:
	case MSG_CANCELLED:
		return true;
	default:
		return false;
	}
}

bool message_transition_ok(enum msg_state from, enum msg_state to)
{
	if (!state_valid(from) || !state_valid(to))
		return false;
	return legal[from][to];
}

const char *message_lane_name(enum msg_lane l)
{
	return (unsigned)l < LANE_COUNT ? lane_names[l] : "?";
}

int message_lane_parse(const char *name, enum msg_lane *out)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < LANE_COUNT; i++) {
		if (strcmp(name, lane_names[i]) == 0) {
			*out = (enum msg_lane)i;
			return 0;
		}
	}
	return -1;
}
