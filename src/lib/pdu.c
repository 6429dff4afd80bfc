/* pdu: SMS-SUBMIT / SMS-DELIVER / SMS-STATUS-REPORT encoding (TS 23.040 9.2.2) with segmentation
 * into concatenated parts (TS 23.040 9.2.3.24.1/.8) and the choice between GSM 7 bit (default or
 * national language tables, TS 23.038 6.2.1.2.4) and UCS-2. Decoding is in pdu_decode.c. */
#include <stdlib.h>
#include <string.h>

#include "pdu_field.h"
#include "simroute/gsm7.h"
#include "simroute/pdu.h"
#include "simroute/utf8.h"

#define UD_MAX 140                /* TS 23.040 9.2.3.16: 140 octets of user data */
#define MAX_PARTS_DEFAULT 10
#define MAX_PARTS_LIMIT 255       /* TS 23.040 9.2.3.24.1: total count is one octet */

static const struct pdu_submit_opts no_opts;   /* NULL options mean all defaults */

const char *
pdu_strerror(enum pdu_error err)
{
	switch (err) {
	case PDU_OK: return "ok";
	case PDU_ERR_HEX: return "not an even-length hex string";
	case PDU_ERR_TRUNCATED: return "PDU truncated";
	case PDU_ERR_TRAILING: return "trailing octets after the user data";
	case PDU_ERR_ADDRESS: return "bad address";
	case PDU_ERR_MTI: return "unexpected message type";
	case PDU_ERR_DCS: return "unsupported data coding scheme";
	case PDU_ERR_UDH: return "malformed user data header";
	case PDU_ERR_UDL: return "user data length inconsistent with the PDU";
	case PDU_ERR_TEXT: return "text is empty or not valid UTF-8";
	case PDU_ERR_TOO_LONG: return "text needs more parts than allowed";
	case PDU_ERR_ARG: return "bad argument";
	}
	return "unknown error";
}

const char *
pdu_encoding_name(enum pdu_encoding enc)
{
	switch (enc) {
	case PDU_ENC_GSM7: return "gsm7";
	case PDU_ENC_8BIT: return "8bit";
	case PDU_ENC_UCS2: return "ucs2";
	}
	return "unknown";
}

/* ISO 639-1 codes, in the order of the TS 23.038 6.2.1.2.4 national language identifiers */
static const char *const lang_codes[] = { "", "tr", "es", "pt", "bn", "gu", "hi", "kn", "ml", "or",
					  "pa", "ta", "te", "ur" };

const char *
pdu_lang_code(unsigned lang)
{
	return lang >= 1 && lang < sizeof(lang_codes) / sizeof(lang_codes[0]) ? lang_codes[lang] : NULL;
}

int
pdu_lang_parse(const char *code)
{
	const char *const *codes = lang_codes;
	int i;

	if (code == NULL)
		return -1;
	for (i = 1; i < (int)(sizeof(lang_codes) / sizeof(lang_codes[0])); i++)
		if (strcmp(code, codes[i]) == 0)
			return i;
	return -1;
}

enum pdu_status_class
pdu_status_classify(int st)
{
	/* TS 23.040 9.2.3.15: the top bits give the class; reserved values (1xxxxxxx) are taken as
	 * final failures so that a message is never left waiting for a report that will not come */
	switch ((st & 0xFF) >> 5) {
	case 0: return PDU_ST_DELIVERED;
	case 1: return PDU_ST_TEMPORARY;
	case 2: return PDU_ST_PERMANENT;
	case 3: return PDU_ST_TEMP_GAVE_UP;
	default: return PDU_ST_PERMANENT;
	}
}

void
pdu_submit_free(struct pdu_submit *s)
{
	free(s);
}

/* ---- planning: encoding, tables and part boundaries ---- */

struct plan {
	enum pdu_encoding enc;
	unsigned lock, single;    /* national language tables, 0 = default */
	bool concat16;
	unsigned max_parts;
	int nparts;
	size_t udh_shift;         /* octets of the shift IEs, in every part */
	uint32_t *cps;            /* the text as code points */
	uint8_t *cost;            /* septets (GSM 7 bit) or UTF-16 units (UCS-2) per code point */
	size_t n;
};

static size_t
cap_for(enum pdu_encoding enc, size_t udh)
{
	if (enc == PDU_ENC_UCS2)
		return (UD_MAX - udh) / 2;
	/* TS 23.040 9.2.3.16: the UDH and its fill bits take whole septets out of 160 */
	return udh == 0 ? 160 : ((UD_MAX - udh) * 8) / 7;
}

static size_t
udh_len(const struct plan *p, bool concat)
{
	size_t ies = p->udh_shift + (concat ? (p->concat16 ? 6 : 5) : 0);

	return ies == 0 ? 0 : 1 + ies;   /* UDHL octet + IEs */
}

/* Split into parts without cutting a character (nor an escape + septet, nor a surrogate pair).
 * Returns the part count (at most limit + 1); ends[] gets each part's end index if not NULL. */
static int
split(const struct plan *p, size_t *ends, int limit)
{
	size_t total = 0, used = 0, cap, i;
	int parts = 0;

	for (i = 0; i < p->n; i++)
		total += p->cost[i];
	if (total <= cap_for(p->enc, udh_len(p, false))) {
		if (ends != NULL)
			ends[0] = p->n;
		return 1;
	}
	cap = cap_for(p->enc, udh_len(p, true));
	for (i = 0; i < p->n; i++) {
		if (used + p->cost[i] > cap) {
			if (ends != NULL)
				ends[parts] = i;
			if (++parts > limit)
				return limit + 1;
			used = 0;
		}
		used += p->cost[i];
	}
	if (ends != NULL && parts < limit + 1)
		ends[parts] = p->n;
	return parts + 1;
}

static bool
gsm7_costs(struct plan *p, unsigned lock, unsigned single)
{
	uint8_t tmp[2];
	size_t i;
	int k;

	for (i = 0; i < p->n; i++) {
		if ((k = gsm7_encode_char(p->cps[i], lock, single, tmp)) == 0)
			return false;
		p->cost[i] = (uint8_t)k;
	}
	return true;
}

static void
ucs2_costs(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		p->cost[i] = p->cps[i] > 0xFFFF ? 2 : 1;   /* beyond the BMP: a surrogate pair */
}

static void
plan_free(struct plan *p)
{
	free(p->cps);
	free(p->cost);
	p->cps = NULL;
	p->cost = NULL;
}

/* Candidate tables: default first, then each allowed language that has such a table. */
static int
candidates(unsigned mask, bool locking, unsigned out[GSM7_LANG_COUNT])
{
	unsigned l;
	int n = 0;

	out[n++] = 0;
	for (l = 1; l < GSM7_LANG_COUNT; l++)
		if ((mask & (1u << l)) &&
		    (locking ? gsm7_lang_locking(l) : gsm7_lang_single(l)) != NULL)
			out[n++] = l;
	return n;
}

static enum pdu_error
plan_make(const char *text, const struct pdu_submit_opts *opts, struct plan *p)
{
	unsigned locks[GSM7_LANG_COUNT], singles[GSM7_LANG_COUNT];
	int nl, ns, i, j, best = -1, parts, limit;
	unsigned best_lock = 0, best_single = 0, best_ies = 0;
	size_t best_septets = 0, septets, k;

	memset(p, 0, sizeof(*p));
	if (text == NULL || opts == NULL)
		return PDU_ERR_ARG;
	p->max_parts = opts->max_parts == 0 ? MAX_PARTS_DEFAULT : opts->max_parts;
	if (p->max_parts > MAX_PARTS_LIMIT)
		return PDU_ERR_ARG;
	p->concat16 = opts->concat16;
	switch (utf8_to_codepoints(text, &p->cps, &p->n)) {
	case 0: break;
	case -1: return PDU_ERR_TEXT;
	default: return PDU_ERR_ARG;
	}
	if (p->n == 0) {
		plan_free(p);
		return PDU_ERR_TEXT;
	}
	/* no encoding fits more than 160 characters in a part: reject huge input before the work */
	if (p->n > (size_t)p->max_parts * 160) {
		plan_free(p);
		return PDU_ERR_TOO_LONG;
	}
	if ((p->cost = malloc(p->n)) == NULL) {
		plan_free(p);
		return PDU_ERR_ARG;
	}
	limit = (int)p->max_parts;
	nl = candidates(opts->languages, true, locks);
	ns = candidates(opts->languages, false, singles);
	p->enc = PDU_ENC_GSM7;
	for (i = 0; i < nl; i++) {
		for (j = 0; j < ns; j++) {
			unsigned ies = (locks[i] != 0) + (singles[j] != 0);

			if (!gsm7_costs(p, locks[i], singles[j]))
				continue;
			p->udh_shift = 3 * ies;   /* TS 23.040 9.2.3.24.15/16: IEI, length 1, language */
			parts = split(p, NULL, limit);
			for (septets = 0, k = 0; k < p->n; k++)
				septets += p->cost[k];
			/* fewest parts wins; on a tie, fewest shift IEs (plain GSM 7 bit first), then
			 * the shorter PDU */
			if (best < 0 || parts < best || (parts == best && ies < best_ies) ||
			    (parts == best && ies == best_ies && septets < best_septets)) {
				best = parts;
				best_septets = septets;
				best_lock = locks[i];
				best_single = singles[j];
				best_ies = ies;
			}
		}
	}
	p->udh_shift = 0;
	p->lock = p->single = 0;
	ucs2_costs(p);
	p->enc = PDU_ENC_UCS2;
	parts = split(p, NULL, limit);
	if (best < 0 || parts < best) {
		best = parts;
	} else {
		p->enc = PDU_ENC_GSM7;
		p->lock = best_lock;
		p->single = best_single;
		p->udh_shift = 3 * best_ies;
		gsm7_costs(p, p->lock, p->single);
	}
	if (best > limit) {
		plan_free(p);
		return PDU_ERR_TOO_LONG;
	}
	p->nparts = best;
	return PDU_OK;
}

enum pdu_error
pdu_count_parts(const char *text, const struct pdu_submit_opts *opts, int *nparts,
		enum pdu_encoding *encoding)
{
	struct plan p;
	enum pdu_error e = plan_make(text, opts != NULL ? opts : &no_opts, &p);

	if (e != PDU_OK)
		return e;
	if (nparts != NULL)
		*nparts = p.nparts;
	if (encoding != NULL)
		*encoding = p.enc;
	plan_free(&p);
	return PDU_OK;
}

/* ---- user data of one part ---- */

/* Build TP-UD for code points [from, to) of part seq (1-based) of total; returns TP-UDL. */
static int
build_ud(const struct plan *p, size_t from, size_t to, unsigned ref, int seq, uint8_t *ud,
	 size_t *udlen)
{
	size_t h = 0, i, n = 0;
	bool concat = p->nparts > 1;
	size_t hl = udh_len(p, concat);
	uint8_t sept[170];
	int k;

	memset(ud, 0, UD_MAX);
	if (hl > 0) {
		ud[h++] = (uint8_t)(hl - 1);   /* UDHL excludes itself */
		if (concat && !p->concat16) {
			/* TS 23.040 9.2.3.24.1: IEI 00, 8-bit reference, total, sequence */
			ud[h++] = 0x00; ud[h++] = 3;
			ud[h++] = (uint8_t)(ref & 0xFF);
			ud[h++] = (uint8_t)p->nparts; ud[h++] = (uint8_t)seq;
		} else if (concat) {
			/* TS 23.040 9.2.3.24.8: IEI 08, 16-bit reference */
			ud[h++] = 0x08; ud[h++] = 4;
			ud[h++] = (uint8_t)((ref >> 8) & 0xFF); ud[h++] = (uint8_t)(ref & 0xFF);
			ud[h++] = (uint8_t)p->nparts; ud[h++] = (uint8_t)seq;
		}
		if (p->single != 0) {   /* TS 23.040 9.2.3.24.15 */
			ud[h++] = 0x24; ud[h++] = 1; ud[h++] = (uint8_t)p->single;
		}
		if (p->lock != 0) {     /* TS 23.040 9.2.3.24.16 */
			ud[h++] = 0x25; ud[h++] = 1; ud[h++] = (uint8_t)p->lock;
		}
	}
	if (p->enc == PDU_ENC_UCS2) {
		for (i = from; i < to; i++) {
			uint32_t c = p->cps[i];

			if (c > 0xFFFF) {   /* UTF-16 surrogate pair, RFC 2781 2.1 */
				uint32_t v = c - 0x10000, hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);

				ud[h++] = (uint8_t)(hi >> 8); ud[h++] = (uint8_t)hi;
				ud[h++] = (uint8_t)(lo >> 8); ud[h++] = (uint8_t)lo;
			} else {
				ud[h++] = (uint8_t)(c >> 8); ud[h++] = (uint8_t)c;
			}
		}
		*udlen = h;
		return (int)h;
	}
	for (i = from; i < to; i++) {
		k = gsm7_encode_char(p->cps[i], p->lock, p->single, sept + n);
		n += (size_t)k;
	}
	/* TS 23.040 9.2.3.24: the septets start at the first septet boundary after the UDH */
	gsm7_pack(sept, n, (hl * 8 + 6) / 7, ud);
	*udlen = gsm7_packed_len((hl * 8 + 6) / 7 + n);
	return (int)((hl * 8 + 6) / 7 + n);
}

/* ---- whole PDUs ---- */

enum msg_kind { KIND_SUBMIT, KIND_DELIVER };

static enum pdu_error
encode_parts(enum msg_kind kind, const char *addr, const char *text, const char *scts,
	     const struct pdu_submit_opts *opts, struct pdu_submit **out)
{
	struct pdu_submit *s;
	struct plan p;
	struct pdu_buf smsc, w;
	size_t *ends, from = 0, udlen;
	uint8_t ud[UD_MAX];
	enum pdu_error e;
	bool alpha;
	int i, udl;

	if (out == NULL || addr == NULL)
		return PDU_ERR_ARG;
	*out = NULL;
	memset(&smsc, 0, sizeof(smsc));
	if (opts != NULL && opts->smsc != NULL && opts->smsc[0] != '\0') {
		if ((e = pdu_field_put_address(&smsc, opts->smsc, true)) != PDU_OK)
			return e;
	} else {
		pdu_field_put(&smsc, 0x00);   /* TS 27.005 3.3.1: length 0 = use the SMSC stored in the SIM */
	}
	/* validate the address before the text, so that a bad number is reported as such */
	memset(&w, 0, sizeof(w));
	alpha = kind == KIND_DELIVER && addr[0] != '+' && strspn(addr, "0123456789") != strlen(addr);
	e = alpha ? pdu_field_put_alpha(&w, addr) : pdu_field_put_address(&w, addr, false);
	if (e != PDU_OK)
		return e;
	if (kind == KIND_DELIVER && pdu_field_put_scts(&w, scts) != PDU_OK)
		return PDU_ERR_ARG;
	if ((e = plan_make(text, opts, &p)) != PDU_OK)
		return e;
	s = calloc(1, sizeof(*s) + (size_t)p.nparts * sizeof(struct pdu_part));
	ends = calloc((size_t)p.nparts + 1, sizeof(*ends));
	if (s == NULL || ends == NULL) {
		free(s);
		free(ends);
		plan_free(&p);
		return PDU_ERR_ARG;
	}
	split(&p, ends, p.nparts);
	s->encoding = p.enc;
	s->lang_locking = p.lock;
	s->lang_single = p.single;
	s->nparts = p.nparts;
	for (i = 0; i < p.nparts; i++) {
		bool udhi = p.nparts > 1 || p.udh_shift > 0;
		unsigned ref = opts->concat16 ? (opts->concat_ref & 0xFFFF) : (opts->concat_ref & 0xFF);

		udl = build_ud(&p, from, ends[i], ref, i + 1, ud, &udlen);
		from = ends[i];
		memset(&w, 0, sizeof(w));
		if (kind == KIND_SUBMIT) {
			/* TS 23.040 9.2.2.2: MTI 01, VPF 10 (relative) if a VP, SRR, UDHI */
			pdu_field_put(&w, (uint8_t)(0x01 | (opts->validity_minutes > 0 ? 0x10 : 0) |
						    (opts->status_report ? 0x20 : 0) | (udhi ? 0x40 : 0)));
			pdu_field_put(&w, (uint8_t)(opts->mr & 0xFF));
			pdu_field_put_address(&w, addr, false);
			pdu_field_put(&w, 0x00);   /* TP-PID: plain SME-to-SME */
			pdu_field_put(&w, p.enc == PDU_ENC_UCS2 ? 0x08 : 0x00);   /* TS 23.038 4 */
			if (opts->validity_minutes > 0)
				pdu_field_put(&w, pdu_field_vp_encode(opts->validity_minutes));
		} else {
			/* TS 23.040 9.2.2.1: MTI 00, MMS=1 (no more messages waiting), SRI, UDHI */
			pdu_field_put(&w, (uint8_t)(0x04 | (opts->status_report ? 0x20 : 0) |
						    (udhi ? 0x40 : 0)));
			if (alpha)
				pdu_field_put_alpha(&w, addr);
			else
				pdu_field_put_address(&w, addr, false);
			pdu_field_put(&w, 0x00);
			pdu_field_put(&w, p.enc == PDU_ENC_UCS2 ? 0x08 : 0x00);
			pdu_field_put_scts(&w, scts);
		}
		pdu_field_put(&w, (uint8_t)udl);
		pdu_field_put_bytes(&w, ud, udlen);
		if (w.overflow || (smsc.len + w.len) * 2 + 1 > PDU_HEX_MAX) {
			free(s);
			free(ends);
			plan_free(&p);
			return PDU_ERR_ARG;   /* cannot happen with the limits above; never overflow hex[] */
		}
		pdu_field_hex(smsc.b, smsc.len, s->parts[i].hex);
		pdu_field_hex(w.b, w.len, s->parts[i].hex + 2 * smsc.len);
		s->parts[i].length = (int)w.len;
		s->parts[i].ud_len = udl;
	}
	free(ends);
	plan_free(&p);
	*out = s;
	return PDU_OK;
}

enum pdu_error
pdu_encode_submit(const char *to, const char *text, const struct pdu_submit_opts *opts,
		  struct pdu_submit **out)
{
	return encode_parts(KIND_SUBMIT, to, text, NULL, opts != NULL ? opts : &no_opts, out);
}

enum pdu_error
pdu_encode_deliver(const char *from, const char *text, const char *scts,
		   const struct pdu_submit_opts *opts, struct pdu_submit **out)
{
	return encode_parts(KIND_DELIVER, from, text, scts, opts != NULL ? opts : &no_opts, out);
}

enum pdu_error
pdu_encode_status_report(int mr, const char *recipient, const char *scts, const char *discharge,
			 int status, const char *smsc, struct pdu_part *out)
{
	struct pdu_buf sc, w;
	enum pdu_error e;

	if (out == NULL || mr < 0 || mr > 255 || status < 0 || status > 255)
		return PDU_ERR_ARG;
	memset(&sc, 0, sizeof(sc));
	memset(&w, 0, sizeof(w));
	if (smsc != NULL && smsc[0] != '\0') {
		if ((e = pdu_field_put_address(&sc, smsc, true)) != PDU_OK)
			return e;
	} else {
		pdu_field_put(&sc, 0x00);
	}
	/* TS 23.040 9.2.2.3: MTI 10, MMS=1, SRQ=0 (report of an SMS-SUBMIT) */
	pdu_field_put(&w, 0x06);
	pdu_field_put(&w, (uint8_t)mr);
	if ((e = pdu_field_put_address(&w, recipient, false)) != PDU_OK)
		return e;
	if (pdu_field_put_scts(&w, scts) != PDU_OK || pdu_field_put_scts(&w, discharge) != PDU_OK)
		return PDU_ERR_ARG;
	pdu_field_put(&w, (uint8_t)status);
	pdu_field_hex(sc.b, sc.len, out->hex);
	pdu_field_hex(w.b, w.len, out->hex + 2 * sc.len);
	out->length = (int)w.len;
	out->ud_len = 0;
	return PDU_OK;
}
