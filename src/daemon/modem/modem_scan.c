/* modem_scan: finds modems configured by IMEI that hold no port, by probing candidate ports.
 *
 * A look runs on a timer, and only while some modem wants a port. The probe is the modem's own first
 * words through the same serial.c and at.c: open (exclusive: a port another program holds is refused
 * and left alone), ESC + AT, then AT+CGSN, each with a short timeout; nothing blocks the loop. A port
 * that fails a probe (no answer: not a modem; or a modem nobody here wants) is backed off, doubling per
 * failure, so a GPS on /dev/ttyUSB0 costs one probe every few minutes, not a busy loop. */
#include "modem/modem_scan.h"

#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "modem/at.h"
#include "modem/modem.h"
#include "modem/modem_int.h"
#include "modem/serial.h"
#include "simroute/log.h"

#define SCAN_BACKOFF_MAX_MS  300000
#define SCAN_MAX_PROBES      8        /* probes at once */

/* What we know of one candidate port (by its real path). */
struct scan_port {
	char real[PATH_MAX];
	dev_t rdev;                   /* another device under the same name starts afresh */
	int failures;
	int64_t next_ms;              /* not probed before this */
	struct probe *probe;          /* in progress */
	bool seen;                    /* listed by the current look */
};

struct probe {
	struct modem_scan *sc;
	struct scan_port *port;
	char path[PATH_MAX];          /* as listed (a by-id link is kept: it names the modem for good) */
	struct serial_port *sp;
	struct at_chan *ch;
};

struct modem_scan {
	struct event_base *base;
	char *globs;
	int interval_ms, probe_timeout_ms;
	modem_scan_at_cb *modem_at;
	void *arg;
	struct event *timer;
	struct scan_port **ports;
	size_t nports;
	int nprobes;
};

static int64_t scan_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long modem_scan_backoff_ms(int interval_ms, int failures)
{
	long ms = interval_ms > 0 ? interval_ms : 1000;

	for (int i = 0; i < failures && ms < SCAN_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < SCAN_BACKOFF_MAX_MS ? ms : SCAN_BACKOFF_MAX_MS;
}

int modem_scan_pick(const char *imei, const char *const *expected, const bool *wants, size_t n)
{
	if (!imei || !imei[0])
		return -1;
	for (size_t i = 0; i < n; i++)
		if (wants[i] && expected[i] && strcmp(expected[i], imei) == 0)
			return (int)i;
	return -1;
}

static bool scan_wanted(const struct modem_scan *sc)
{
	struct modem *m;

	for (size_t i = 0; (m = sc->modem_at(sc->arg, i)); i++)
		if (modem_wants_port(m))
			return true;
	return false;
}

/* The port is one of ours: some modem holds it open. */
static bool scan_held(const struct modem_scan *sc, const char *real)
{
	char mine[PATH_MAX];
	struct modem *m;

	for (size_t i = 0; (m = sc->modem_at(sc->arg, i)); i++) {
		const char *p = modem_open_port(m);
		if (p && realpath(p, mine) && strcmp(mine, real) == 0)
			return true;
	}
	return false;
}

static struct scan_port *scan_port(struct modem_scan *sc, const char *real, dev_t rdev)
{
	struct scan_port **n, *p;

	for (size_t i = 0; i < sc->nports; i++) {
		p = sc->ports[i];
		if (strcmp(p->real, real) == 0) {
			if (p->rdev != rdev && !p->probe) {
				p->rdev = rdev;
				p->failures = 0;
				p->next_ms = 0;
			}
			return p;
		}
	}
	if (!(n = realloc(sc->ports, (sc->nports + 1) * sizeof(*n))))
		return NULL;
	sc->ports = n;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	snprintf(p->real, sizeof(p->real), "%s", real);
	p->rdev = rdev;
	sc->ports[sc->nports++] = p;
	return p;
}

/* ---- one probe ---- */

static void probe_close(struct probe *pr)
{
	struct at_chan *ch = pr->ch;

	pr->ch = NULL;
	at_free(ch);
	serial_close(pr->sp);
	pr->sp = NULL;
	pr->port->probe = NULL;
	pr->sc->nprobes--;
}

/* The probe is over: imei is what the port said ("" nothing usable). */
static void probe_done(struct probe *pr, const char *imei, const char *why)
{
	struct modem_scan *sc = pr->sc;
	struct scan_port *port = pr->port;
	struct modem *m, *match = NULL;
	size_t n = 0;

	probe_close(pr);   /* the port must be free before the modem opens it */
	while (sc->modem_at(sc->arg, n))
		n++;
	{
		const char *expected[n ? n : 1];
		bool wants[n ? n : 1];
		for (size_t i = 0; i < n; i++) {
			m = sc->modem_at(sc->arg, i);
			expected[i] = modem_expected_imei(m);
			wants[i] = modem_wants_port(m);
		}
		int k = modem_scan_pick(imei, expected, wants, n);
		if (k >= 0)
			match = sc->modem_at(sc->arg, (size_t)k);
	}
	if (match && modem_set_port(match, pr->path) == 0) {
		port->failures = 0;
		port->next_ms = 0;
	} else {
		port->failures++;
		port->next_ms = scan_now_ms() + modem_scan_backoff_ms(sc->interval_ms, port->failures);
		if (port->failures == 1)
			log_info("scan: %s: %s; next look in %ld s", pr->path, why,
				 modem_scan_backoff_ms(sc->interval_ms, port->failures) / 1000);
		else
			log_debug("scan: %s: %s (%d times); next look in %ld s", pr->path, why, port->failures,
				  modem_scan_backoff_ms(sc->interval_ms, port->failures) / 1000);
	}
	free(pr);
}

static void probe_cgsn(void *arg, const struct at_reply *r)
{
	struct probe *pr = arg;
	char imei[20], why[96];

	if (r->result == AT_RES_CANCELLED)
		return;
	modem_imei_from_reply(imei, sizeof(imei), r->result == AT_RES_OK ? at_reply_first(r) : NULL);
	if (!imei[0])
		snprintf(why, sizeof(why), "a modem without an IMEI (AT+CGSN: %s)", at_result_name(r->result));
	else
		snprintf(why, sizeof(why), "IMEI %s is no modem we are looking for", imei);
	probe_done(pr, imei, why);
}

static void probe_sync(void *arg, const struct at_reply *r)
{
	struct probe *pr = arg;
	char why[96];

	if (r->result == AT_RES_CANCELLED)
		return;
	if (r->result == AT_RES_OK &&
	    at_command(pr->ch, "AT+CGSN", pr->sc->probe_timeout_ms, probe_cgsn, pr) == 0)
		return;
	snprintf(why, sizeof(why), "no answer to AT (%s): not a modem", at_result_name(r->result));
	probe_done(pr, "", why);
}

static void probe_urc(void *arg, const char *line, const char *pdu)
{
	(void)arg;
	(void)line;
	(void)pdu;   /* a modem talking by itself: not ours (yet) */
}

static void probe_fail(void *arg, int err)
{
	(void)err;
	probe_done(arg, "", "the port failed");
}

static void probe_start(struct modem_scan *sc, struct scan_port *port, const char *path)
{
	struct probe *pr = calloc(1, sizeof(*pr));
	char err[256], name[PATH_MAX + 8];

	if (!pr)
		return;
	pr->sc = sc;
	pr->port = port;
	snprintf(pr->path, sizeof(pr->path), "%s", path);
	log_debug("scan: probing %s", path);
	if (!(pr->sp = serial_open(path, 115200, err, sizeof(err)))) {
		/* locked by another program (or gone): not ours to touch; look again next time */
		log_debug("scan: %s", err);
		port->next_ms = scan_now_ms() + sc->interval_ms;
		free(pr);
		return;
	}
	snprintf(name, sizeof(name), "probe %s", path);
	pr->ch = at_new(sc->base, serial_fd(pr->sp), name, probe_urc, probe_fail, pr);
	port->probe = pr;
	sc->nprobes++;
	if (!pr->ch || at_sync(pr->ch, sc->probe_timeout_ms, probe_sync, pr) < 0)
		probe_done(pr, "", "cannot set up the AT channel");
}

/* ---- a look ---- */

static void scan_candidate(struct modem_scan *sc, const char *path, int64_t now)
{
	char real[PATH_MAX];
	struct stat st;
	struct scan_port *port;

	if (!realpath(path, real) || stat(real, &st) < 0 || !S_ISCHR(st.st_mode))
		return;
	if (scan_held(sc, real) || !(port = scan_port(sc, real, st.st_rdev)))
		return;
	if (port->seen)
		return;   /* listed twice (a by-id link and its ttyUSB): the first name wins */
	port->seen = true;
	if (port->probe || port->next_ms > now || sc->nprobes >= SCAN_MAX_PROBES)
		return;
	probe_start(sc, port, path);
}

static void scan_look(struct modem_scan *sc)
{
	char buf[MODEM_SCAN_GLOBS_MAX];
	int64_t now = scan_now_ms();

	if (!scan_wanted(sc))
		return;
	for (size_t i = 0; i < sc->nports; i++)
		sc->ports[i]->seen = false;
	snprintf(buf, sizeof(buf), "%s", sc->globs);
	for (char *save = NULL, *pat = strtok_r(buf, " \t", &save); pat; pat = strtok_r(NULL, " \t", &save)) {
		glob_t g;
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			scan_candidate(sc, g.gl_pathv[i], now);
		globfree(&g);
	}
}

static void scan_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scan_look(arg);
}

struct modem_scan *modem_scan_new(struct event_base *base, const struct modem_scan_config *cfg,
				  modem_scan_at_cb *modem_at, void *arg)
{
	struct modem_scan *sc;
	struct timeval tv;

	if (!cfg || !cfg->globs || cfg->interval_ms <= 0 || strlen(cfg->globs) >= MODEM_SCAN_GLOBS_MAX ||
	    !(sc = calloc(1, sizeof(*sc))))
		return NULL;
	sc->base = base;
	sc->globs = strdup(cfg->globs);
	sc->interval_ms = cfg->interval_ms;
	sc->probe_timeout_ms = cfg->probe_timeout_ms > 0 ? cfg->probe_timeout_ms : 2000;
	sc->modem_at = modem_at;
	sc->arg = arg;
	/* one persistent timer: a look with no modem wanting a port is a loop over a few pointers */
	sc->timer = event_new(base, -1, EV_PERSIST, scan_timer, sc);
	tv.tv_sec = sc->interval_ms / 1000;
	tv.tv_usec = (sc->interval_ms % 1000) * 1000;
	if (!sc->globs || !sc->timer || event_add(sc->timer, &tv) < 0) {
		modem_scan_free(sc);
		return NULL;
	}
	return sc;
}

void modem_scan_free(struct modem_scan *sc)
{
	if (!sc)
		return;
	if (sc->timer)
		event_free(sc->timer);
	for (size_t i = 0; i < sc->nports; i++) {
		struct probe *pr = sc->ports[i]->probe;
		if (pr) {
			probe_close(pr);
			free(pr);
		}
		free(sc->ports[i]);
	}
	free(sc->ports);
	free(sc->globs);
	free(sc);
}
