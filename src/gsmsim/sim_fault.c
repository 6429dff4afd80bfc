/* sim_fault: one modem's network behaviour and fault injection knobs, as a table of named settings. */
#include "sim_fault.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_SECONDS, K_PROB, K_INT, K_CODES };

/* One row per setting (redis-style): name, type, bounds and where it lives. */
static const struct setting {
	const char *key;
	enum kind kind;
	double min, max;
	size_t off;
} settings[] = {
	{ "latency", K_SECONDS, 0, 3600, offsetof(struct sim_faults, latency) },
	{ "jitter", K_SECONDS, 0, 3600, offsetof(struct sim_faults, jitter) },
	{ "boot", K_SECONDS, 0, 600, offsetof(struct sim_faults, boot_s) },
	{ "report_delay", K_SECONDS, -1, 86400, offsetof(struct sim_faults, report_delay) },
	{ "report_status", K_INT, 0, 255, offsetof(struct sim_faults, report_status) },
	{ "report_fail_p", K_PROB, 0, 1, offsetof(struct sim_faults, report_fail_p) },
	{ "cms_p", K_PROB, 0, 1, offsetof(struct sim_faults, cms_p) },
	{ "cms_codes", K_CODES, 0, 999, offsetof(struct sim_faults, cms_codes) },
	{ "noanswer_p", K_PROB, 0, 1, offsetof(struct sim_faults, noanswer_p) },
	{ "late_p", K_PROB, 0, 1, offsetof(struct sim_faults, late_p) },
	{ "late_s", K_SECONDS, 0, 3600, offsetof(struct sim_faults, late_s) },
	{ "garbage_p", K_PROB, 0, 1, offsetof(struct sim_faults, garbage_p) },
	{ "hang_p", K_PROB, 0, 1, offsetof(struct sim_faults, hang_p) },
	{ "hang_s", K_SECONDS, 0, 86400, offsetof(struct sim_faults, hang_s) },
	{ "urc_cmgs_p", K_PROB, 0, 1, offsetof(struct sim_faults, urc_cmgs_p) },
	{ "urc_interleave_p", K_PROB, 0, 1, offsetof(struct sim_faults, urc_interleave_p) },
	{ "signal_walk", K_SECONDS, 0, 86400, offsetof(struct sim_faults, signal_walk_s) },
	{ "chatter", K_SECONDS, 0, 86400, offsetof(struct sim_faults, chatter_s) },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void sim_fault_defaults(struct sim_faults *f, double chatter_s)
{
	/* The network errors a SIM bank sees most (TS 24.011 E.2 / TS 27.005 3.2.5): out of order,
	 * congestion, not subscribed, not implemented, SMSC unknown, unknown, and vendor 512/515. */
	static const int codes[] = { 38, 42, 50, 69, 330, 500, 512, 515 };

	memset(f, 0, sizeof(*f));
	f->latency = 0.2;
	f->boot_s = 1.0;
	f->report_delay = -1;
	f->late_s = 5;
	f->chatter_s = chatter_s;
	memcpy(f->cms_codes, codes, sizeof(codes));
	f->n_cms_codes = (int)(sizeof(codes) / sizeof(codes[0]));
}

static bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool sim_fault_known(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return true;
	return false;
}

int sim_fault_set(struct sim_faults *f, const char *key, const char *value, char *err, size_t errsize)
{
	const struct setting *s = NULL;
	char *p = (char *)f, buf[256], *tok, *save;
	double v;
	int codes[SIM_FAULT_CODES_MAX], n = 0;

	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			s = &settings[i];
	if (!s) {
		snprintf(err, errsize, "unknown setting '%s'", key);
		return -1;
	}
	if (s->kind == K_CODES) {
		/* "38,42,500": the +CMS ERROR codes cms_p picks from */
		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (n == SIM_FAULT_CODES_MAX || !parse_double(tok, s->min, s->max, &v) || v != floor(v)) {
				snprintf(err, errsize, "%s: expected up to %d codes 0..999, got '%s'", key,
					 SIM_FAULT_CODES_MAX, value);
				return -1;
			}
			codes[n++] = (int)v;
		}
		if (n == 0) {
			snprintf(err, errsize, "%s: expected at least one code", key);
			return -1;
		}
		memcpy(f->cms_codes, codes, sizeof(int) * (size_t)n);
		f->n_cms_codes = n;
		return 0;
	}
	if (!parse_double(value, s->min, s->max, &v) || (s->kind == K_INT && v != floor(v))) {
		snprintf(err, errsize, "%s: expected a %s in %g..%g, got '%s'", key,
			 s->kind == K_INT ? "whole number" : s->kind == K_PROB ? "probability" : "number of seconds",
			 s->min, s->max, value);
		return -1;
	}
	if (s->kind == K_INT)
		*(int *)(p + s->off) = (int)v;
	else
		*(double *)(p + s->off) = v;
	return 0;
}

json_t *sim_fault_json(const struct sim_faults *f)
{
	json_t *o = json_object(), *codes = json_array();
	const char *p = (const char *)f;

	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (s->kind == K_INT)
			json_object_set_new(o, s->key, json_integer(*(const int *)(p + s->off)));
		else if (s->kind != K_CODES)
			json_object_set_new(o, s->key, json_real(*(const double *)(p + s->off)));
	}
	for (int i = 0; i < f->n_cms_codes; i++)
		json_array_append_new(codes, json_integer(f->cms_codes[i]));
	json_object_set_new(o, "cms_codes", codes);
	json_object_set_new(o, "armed", json_pack("{s:i, s:i, s:i, s:i, s:i}", "cms", f->next_cms, "noanswer",
						  f->next_noanswer, "late", f->next_late, "garbage", f->next_garbage,
						  "hang", f->next_hang));
	return o;
}

int sim_fault_arm(struct sim_faults *f, const char *kind, const char *arg, char *err, size_t errsize)
{
	double v;

	if (strcmp(kind, "cms") == 0) {
		if (!arg || !parse_double(arg, 1, 999, &v) || v != floor(v)) {
			snprintf(err, errsize, "fault cms: expected a code 1..999");
			return -1;
		}
		f->next_cms = (int)v;
	} else if (strcmp(kind, "noanswer") == 0) {
		f->next_noanswer++;
	} else if (strcmp(kind, "late") == 0) {
		if (arg && !parse_double(arg, 0, 3600, &f->late_s)) {
			snprintf(err, errsize, "fault late: expected seconds 0..3600");
			return -1;
		}
		f->next_late++;
	} else if (strcmp(kind, "garbage") == 0) {
		f->next_garbage++;
	} else if (strcmp(kind, "hang") == 0) {
		f->next_hang++;
	} else {
		snprintf(err, errsize, "unknown fault '%s' (cms CODE | noanswer | late [S] | garbage | hang)", kind);
		return -1;
	}
	return 0;
}

uint64_t sim_fault_seed(unsigned seed, unsigned index)
{
	/* splitmix64 of (seed, index): distinct, well-mixed, never zero streams */
	uint64_t z = ((uint64_t)seed << 32 | index) + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return z ? z : 1;
}

double sim_fault_uniform(uint64_t *rng)
{
	uint64_t x = *rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*rng = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

bool sim_fault_roll(uint64_t *rng, double p)
{
	return p > 0 && sim_fault_uniform(rng) < p;
}
