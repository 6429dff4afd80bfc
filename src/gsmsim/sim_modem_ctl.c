/* sim_modem_ctl: the control surface of one modem - unplug, replug, reboot, settings, SIM swap, faults,
 * and its state as JSON for `gsmsim ctl`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "simroute/log.h"

#include "sim_at.h"
#include "sim_modem_int.h"
#include "sim_store.h"

json_t *sim_modem_counters(const struct sim_modem *m)
{
	const struct sim_counters *c = &m->count;

	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "sent", c->sent,
			 "cms_errors", c->cms_errors, "noanswer", c->noanswer, "late", c->late, "garbage", c->garbage,
			 "hangs", c->hangs, "received", c->received, "reports", c->reports, "unplugs", c->unplugs,
			 "reboots", c->reboots, "swaps", c->swaps, "storage_full", c->storage_full);
}

json_t *sim_modem_json(const struct sim_modem *m)
{
	const struct sim_identity *id = sim_at_identity(m->at);
	struct sim_inbound *in;
	int waiting = 0;

	TAILQ_FOREACH(in, &m->inbound, entry)
		waiting++;
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:i, s:i,"
			 " s:i, s:o, s:o}",
			 "index", m->index, "name", m->name, "dialect", m->dialect->name, "link", m->link,
			 "tty", sim_modem_tty(m), "present", m->pty != NULL, "state", sim_modem_state_name(m->state),
			 "imei", id->imei, "iccid", id->iccid, "imsi", id->imsi, "msisdn", id->msisdn,
			 "signal", sim_at_signal(m->at), "reg", sim_at_reg(m->at), "cfun", sim_at_cfun(m->at),
			 "sim", sim_at_sim_name(sim_at_sim(m->at)), "stored", sim_store_used(sim_at_store(m->at)),
			 "capacity", sim_store_capacity(sim_at_store(m->at)), "inbound_waiting", waiting,
			 "settings", sim_fault_json(&m->faults), "counters", sim_modem_counters(m));
}

int sim_modem_unplug(struct sim_modem *m, double replug_after, char *err, size_t errsize)
{
	if (m->state == SIM_MODEM_ABSENT) {
		snprintf(err, errsize, "%s is already unplugged", m->name);
		return -1;
	}
	m->count.unplugs++;
	sim_modem_event(m, "unplug", json_pack("{s:s, s:f}", "tty", sim_modem_tty(m), "replug_after",
					       replug_after));
	sim_modem_close_port(m);
	evbuffer_drain(m->held, evbuffer_get_length(m->held));
	m->replug_after_timer = false;
	sim_modem_enter_state(m, SIM_MODEM_ABSENT);
	sim_modem_update_timers(m, false);
	if (replug_after > 0) {
		struct timeval tv = { .tv_sec = (time_t)replug_after,
				      .tv_usec = (suseconds_t)((replug_after - (double)(time_t)replug_after) * 1e6) };
		m->replug_after_timer = true;
		evtimer_add(m->timer, &tv);
	}
	return 0;
}

/* Power comes back: a new pty (never the old name), the link re-pointed, the modem boots at once. With
 * rename, the link itself gets a new name too (RUNDIR/modemK-rJ), as a USB modem re-enumerated under
 * another device name (/dev/ttyUSB3 -> /dev/ttyUSB5): only a client that knows the modem by its IMEI
 * finds it again. */
int sim_modem_replug(struct sim_modem *m, bool rename, char *err, size_t errsize)
{
	if (m->state != SIM_MODEM_ABSENT) {
		snprintf(err, errsize, "%s is plugged in", m->name);
		return -1;
	}
	if (rename) {
		char *slash = strrchr(m->link, '/');
		int dir = slash ? (int)(slash - m->link) : 0;
		m->renames++;
		snprintf(m->link + dir, sizeof(m->link) - (size_t)dir, "%s%s-r%u", slash ? "/" : "", m->name,
			 m->renames);
	}
	m->replug_after_timer = false;
	if (sim_modem_open_port(m) < 0) {
		snprintf(err, errsize, "%s: cannot create a pty", m->name);
		return -1;
	}
	sim_modem_event(m, "replug", json_pack("{s:s, s:s}", "tty", sim_modem_tty(m), "link", m->link));
	sim_modem_boot_done(m);
	return 0;
}

int sim_modem_reboot(struct sim_modem *m, char *err, size_t errsize)
{
	if (m->state == SIM_MODEM_ABSENT) {
		snprintf(err, errsize, "%s is unplugged", m->name);
		return -1;
	}
	sim_modem_start_reboot(m, "ctl");
	return 0;
}

int sim_modem_fault(struct sim_modem *m, const char *kind, const char *arg, char *err, size_t errsize)
{
	if (strcmp(kind, "noise") == 0) {
		/* line noise now, out of the blue, whatever the modem is doing (a flaky USB cable) */
		struct evbuffer *b;
		if (!m->bev) {
			snprintf(err, errsize, "%s is unplugged", m->name);
			return -1;
		}
		b = evbuffer_new();
		if (!b)
			return -1;
		sim_modem_add_garbage(m, b);
		sim_modem_say(m, b);
		evbuffer_free(b);
		return 0;
	}
	if (sim_fault_arm(&m->faults, kind, arg, err, errsize) < 0)
		return -1;
	sim_modem_event(m, "fault_armed", json_pack("{s:s, s:s?}", "fault", kind, "arg", arg));
	return 0;
}

int sim_modem_swap_sim(struct sim_modem *m, const char *iccid, char *err, size_t errsize)
{
	struct sim_identity id, old = *sim_at_identity(m->at);

	if (iccid && (strlen(iccid) < 18 || strlen(iccid) > 20 || strspn(iccid, "0123456789") != strlen(iccid))) {
		snprintf(err, errsize, "swap-sim: ICCID must be 18..20 digits");
		return -1;
	}
	m->count.swaps++;
	/* Another SIM in the same modem: the IMEI stays, IMSI/ICCID/number change. */
	sim_dialect_identity(m->dialect, m->index, m->seed + 7919u * m->count.swaps, &id);
	memcpy(id.imei, old.imei, sizeof(id.imei));
	if (iccid)
		snprintf(id.iccid, sizeof(id.iccid), "%s", iccid);
	sim_at_set_identity(m->at, &id);
	sim_modem_event(m, "sim_swapped", json_pack("{s:s, s:s}", "old_iccid", old.iccid, "iccid", id.iccid));
	/* A hot swap is seen by the modem as removal and insertion: it re-reads the SIM. */
	if (sim_at_sim(m->at) != SIM_SIM_ABSENT)
		sim_at_set_sim(m->at, SIM_SIM_ABSENT);
	sim_at_set_sim(m->at, SIM_SIM_READY);
	sim_modem_flush_urc(m, true);
	return 0;
}

static bool parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

/* Settings of the modem's world (signal, reg, sim, pin, storage) and of its faults (sim_fault table). */
int sim_modem_set(struct sim_modem *m, const char *key, const char *value, char *err, size_t errsize)
{
	int v;

	if (strcmp(key, "signal") == 0) {
		if (!parse_int(value, 0, 99, &v) || (v > 31 && v != 99))
			goto bad;
		sim_at_set_signal(m->at, v);
		sim_modem_event(m, "signal", json_pack("{s:i}", "signal", v));
	} else if (strcmp(key, "reg") == 0) {
		/* TS 27.007 7.2 <stat>: 0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming */
		if (!parse_int(value, 0, 5, &v))
			goto bad;
		sim_at_set_reg(m->at, v);
		sim_modem_event(m, "registration", json_pack("{s:i}", "reg", v));
		sim_modem_deliver_pending(m);
	} else if (strcmp(key, "sim") == 0) {
		static const char *const names[] = { "ready", "pin", "puk", "absent" };
		for (v = 0; v < 4 && strcmp(value, names[v]) != 0; v++)
			;
		if (v == 4)
			goto bad;
		sim_at_set_sim(m->at, (enum sim_sim_state)v);
		sim_modem_event(m, v == SIM_SIM_ABSENT ? "sim_removed" : "sim_state", json_pack("{s:s}", "sim", value));
		sim_modem_deliver_pending(m);
	} else if (strcmp(key, "pin") == 0) {
		if (strlen(value) > 8 || strspn(value, "0123456789") != strlen(value) ||
		    (value[0] && strlen(value) < 4))
			goto bad;
		sim_at_set_pin(m->at, value);
		sim_modem_event(m, "pin_set", json_pack("{s:b}", "locked", value[0] != '\0'));
	} else if (strcmp(key, "storage") == 0) {
		if (!parse_int(value, 1, SIM_STORE_MAX, &v))
			goto bad;
		sim_store_resize(sim_at_store(m->at), v);
		sim_modem_deliver_pending(m);
	} else {
		if (sim_fault_set(&m->faults, key, value, err, errsize) < 0)
			return -1;
		sim_modem_update_timers(m, true);
	}
	sim_modem_flush_urc(m, true);
	return 0;
bad:
	snprintf(err, errsize, "bad value for %s: '%s'", key, value);
	return -1;
}
