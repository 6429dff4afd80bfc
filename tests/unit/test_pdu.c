/* Unit tests for pdu: vectors from the specifications and published examples, and ones computed by
 * hand (with a calculator independent of this codec) following TS 23.040 / TS 23.038. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simroute/pdu.h"

static struct pdu_submit_opts
opts0(void)
{
	struct pdu_submit_opts o;

	memset(&o, 0, sizeof(o));
	return o;
}

static char *
repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

/* Decode every part as gsmsim would and check the concatenation headers and the text. */
static void
check_round_trip(const struct pdu_submit *s, const char *text, unsigned ref)
{
	char *all = calloc(1, (size_t)s->nparts * PDU_TEXT_MAX);
	struct pdu_decoded d;
	int i;

	assert_non_null(all);
	for (i = 0; i < s->nparts; i++) {
		assert_int_equal(pdu_decode_submit(s->parts[i].hex, true, &d), PDU_OK);
		assert_int_equal((int)strlen(s->parts[i].hex), 2 + 2 * s->parts[i].length);
		assert_int_equal(d.tpdu_len, s->parts[i].length);
		assert_int_equal(d.ud_len, s->parts[i].ud_len);
		assert_int_equal(d.encoding, s->encoding);
		assert_int_equal(d.lang_locking, s->lang_locking);
		assert_int_equal(d.lang_single, s->lang_single);
		if (s->nparts > 1) {
			assert_true(d.concat.present);
			assert_int_equal(d.concat.total, s->nparts);
			assert_int_equal(d.concat.seq, i + 1);
			assert_int_equal(d.concat.ref, ref);
		} else {
			assert_false(d.concat.present);
		}
		strcat(all, d.text);
	}
	assert_string_equal(all, text);
	free(all);
}

/* ---- SUBMIT: published vectors ---- */

static void
test_submit_hellohello(void **state)
{
	/* The classic example: TP-VP AA (4 days), to +46708251358 */
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;

	(void)state;
	o.validity_minutes = 4 * 24 * 60;
	assert_int_equal(pdu_encode_submit("+46708251358", "hellohello", &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 1);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_string_equal(s->parts[0].hex, "0011000B916407281553F80000AA0AE8329BFD4697D9EC37");
	assert_int_equal(s->parts[0].length, 23);
	assert_int_equal(s->parts[0].ud_len, 10);
	pdu_submit_free(s);
}

static void
test_submit_options(void **state)
{
	/* Hand-computed: national "0123456" (TON 0/NPI 1 = 81, F filler), no VP (first octet 01),
	 * "{€}" = ESC 28 ESC 65 ESC 29, 6 septets packed = 1BD4A6BC4901 */
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_encode_submit("0123456", "{\xE2\x82\xAC}", &o, &s), PDU_OK);
	assert_string_equal(s->parts[0].hex, "0001000781103254F60000061BD4A6BC4901");
	assert_int_equal(s->parts[0].length, 17);
	pdu_submit_free(s);
	/* SRR (0x20) + relative VP (0x10) + MR, and an SMSC instead of 00 */
	o.status_report = true;
	o.validity_minutes = 60;   /* (60 / 5) - 1 = 11 = 0x0B */
	o.mr = 0x42;
	o.smsc = "+27381000015";
	assert_int_equal(pdu_encode_submit("+46708251358", "hellohello", &o, &s), PDU_OK);
	assert_string_equal(s->parts[0].hex,
			    "07917283010010F5" "3142" "0B916407281553F8" "0000" "0B" "0AE8329BFD4697D9EC37");
	assert_int_equal(s->parts[0].length, 23);
	assert_int_equal(pdu_decode_submit(s->parts[0].hex, true, &d), PDU_OK);
	assert_string_equal(d.smsc, "+27381000015");
	assert_string_equal(d.addr, "+46708251358");
	assert_true(d.srr);
	assert_int_equal(d.mr, 0x42);
	assert_int_equal(d.validity_minutes, 60);
	pdu_submit_free(s);
}

static void
test_validity_mapping(void **state)
{
	/* TS 23.040 9.2.3.12.1, rounded up; read back the VP octet from the PDU */
	static const struct { int minutes; const char *vp; } v[] = {
		{ 1, "00" }, { 5, "00" }, { 6, "01" }, { 720, "8F" }, { 721, "90" }, { 1440, "A7" },
		{ 1441, "A8" }, { 2880, "A8" }, { 43200, "C4" }, { 43201, "C5" }, { 635040, "FF" },
		{ 10000000, "FF" },
	};
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		o.validity_minutes = v[i].minutes;
		assert_int_equal(pdu_encode_submit("+46708251358", "hellohello", &o, &s), PDU_OK);
		/* 00 11 00 0B91 6407281553F8 00 00 <VP> */
		assert_memory_equal(s->parts[0].hex + 26, v[i].vp, 2);
		pdu_submit_free(s);
	}
}

static void
test_submit_bad_input(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s = NULL;
	int n;
	enum pdu_encoding enc;

	(void)state;
	assert_int_equal(pdu_encode_submit("+44770090012x", "hi", &o, &s), PDU_ERR_ADDRESS);
	assert_int_equal(pdu_encode_submit("+", "hi", &o, &s), PDU_ERR_ADDRESS);
	assert_int_equal(pdu_encode_submit("", "hi", &o, &s), PDU_ERR_ADDRESS);
	assert_int_equal(pdu_encode_submit("+123456789012345678901", "hi", &o, &s), PDU_ERR_ADDRESS);
	assert_int_equal(pdu_encode_submit("+447700900123", "", &o, &s), PDU_ERR_TEXT);
	assert_int_equal(pdu_encode_submit("+447700900123", "a\xC3", &o, &s), PDU_ERR_TEXT);
	assert_int_equal(pdu_encode_submit("+447700900123", "\xED\xA0\x80", &o, &s), PDU_ERR_TEXT);
	assert_int_equal(pdu_count_parts("\xFF", &o, &n, &enc), PDU_ERR_TEXT);
	o.max_parts = 1000;
	assert_int_equal(pdu_encode_submit("+447700900123", "hi", &o, &s), PDU_ERR_ARG);
	assert_null(s);
	/* service numbers: '*' = A, '#' = B (TS 23.040 9.1.2.3) */
	o = opts0();
	assert_int_equal(pdu_encode_submit("*100#", "hi", &o, &s), PDU_OK);
	assert_memory_equal(s->parts[0].hex + 6, "0581" "1A00FB", 10);
	pdu_submit_free(s);
}

/* ---- segmentation ---- */

static void
test_160_161(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char *t;
	int n;
	enum pdu_encoding enc;

	(void)state;
	t = repeat("a", 160);
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 1);
	assert_int_equal(s->parts[0].ud_len, 160);
	assert_int_equal(s->parts[0].length, 1 + 1 + 8 + 2 + 1 + 140);
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
	free(t);

	t = repeat("a", 161);
	o.concat_ref = 0x1A7;   /* masked to 8 bits */
	assert_int_equal(pdu_count_parts(t, &o, &n, &enc), PDU_OK);
	assert_int_equal(n, 2);
	assert_int_equal(enc, PDU_ENC_GSM7);
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 2);
	/* 6 octets of UDH = 7 septets (1 fill bit), then 153 + 8 characters */
	assert_int_equal(s->parts[0].ud_len, 7 + 153);
	assert_int_equal(s->parts[1].ud_len, 7 + 8);
	/* first octet 41 (UDHI), UDH 05 00 03 A7 02 01 at the start of the UD */
	assert_memory_equal(s->parts[0].hex, "0041", 4);
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 12, "A0" "050003A70201", 14);
	assert_memory_equal(s->parts[1].hex + 2 + 2 * 12, "0F" "050003A70202", 14);
	check_round_trip(s, t, 0xA7);
	pdu_submit_free(s);
	free(t);
}

static void
test_escape_never_split(void **state)
{
	/* 159 chars + one extension char = 161 septets: 2 parts */
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char *a = repeat("a", 159), t[400];

	(void)state;
	snprintf(t, sizeof(t), "%s\xE2\x82\xAC", a);
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 2);
	assert_int_equal(s->parts[0].ud_len, 7 + 153);
	assert_int_equal(s->parts[1].ud_len, 7 + 6 + 2);
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
	/* 152 a + € + 7 a: the escape pair does not fit in 153 septets, so it starts part 2 */
	a[152] = '\0';
	snprintf(t, sizeof(t), "%s\xE2\x82\xAC" "aaaaaaa", a);
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 2);
	assert_int_equal(s->parts[0].ud_len, 7 + 152);
	assert_int_equal(s->parts[1].ud_len, 7 + 2 + 7);
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
	/* 158 a + € = 160 septets: still one part */
	a[152] = 'a';
	a[158] = '\0';
	snprintf(t, sizeof(t), "%s\xE2\x82\xAC", a);
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 1);
	assert_int_equal(s->parts[0].ud_len, 160);
	pdu_submit_free(s);
	free(a);
}

static void
test_every_extension_char_round_trips(void **state)
{
	const char *t = "\x0C^{}\\[~]|\xE2\x82\xAC";
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;

	(void)state;
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->parts[0].ud_len, 20);
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
}

static void
test_ucs2_70_71(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char *t = repeat("\xD0\xB9", 70);   /* й */
	char *t2;

	(void)state;
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	assert_int_equal(s->nparts, 1);
	assert_int_equal(s->parts[0].ud_len, 140);
	/* DCS 08 then UDL 8C then 0439 ... */
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 11, "08" "8C" "0439", 8);
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
	t2 = repeat("\xD0\xB9", 71);
	assert_int_equal(pdu_encode_submit("+447700900123", t2, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 2);
	assert_int_equal(s->parts[0].ud_len, 6 + 2 * 67);
	assert_int_equal(s->parts[1].ud_len, 6 + 2 * 4);
	check_round_trip(s, t2, 0);
	pdu_submit_free(s);
	free(t);
	free(t2);
}

static void
test_emoji_at_every_boundary(void **state)
{
	/* A surrogate pair (U+1F600) at every position of a 3-part UCS-2 message: no part may end
	 * with a high surrogate, and the text must come back whole. */
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char t[1024];
	size_t pos, i, len;

	(void)state;
	for (pos = 0; pos <= 140; pos++) {
		len = 0;
		for (i = 0; i < 140; i++) {
			if (i == pos) {
				memcpy(t + len, "\xF0\x9F\x98\x80", 4);
				len += 4;
			}
			memcpy(t + len, "\xD0\xB9", 2);
			len += 2;
		}
		if (pos == 140) {
			memcpy(t + len, "\xF0\x9F\x98\x80", 4);
			len += 4;
		}
		t[len] = '\0';
		assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
		assert_int_equal(s->encoding, PDU_ENC_UCS2);
		assert_int_equal(s->nparts, 3);   /* 142 units: 67 + 67 + 8 at most */
		for (i = 0; i < (size_t)s->nparts; i++) {
			const char *hex = s->parts[i].hex;
			size_t hl = strlen(hex);

			assert_true(s->parts[i].ud_len <= 140);
			/* last UTF-16 unit of the part is not a high surrogate D800-DBFF */
			assert_false(hex[hl - 4] == 'D' && strchr("89AB", hex[hl - 3]) != NULL);
		}
		check_round_trip(s, t, 0);
		pdu_submit_free(s);
	}
}

static void
test_concat16(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char *t = repeat("b", 200);

	(void)state;
	o.concat16 = true;
	o.concat_ref = 0x51234;   /* masked to 16 bits */
	assert_int_equal(pdu_encode_submit("+447700900123", t, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 2);
	/* 7 octets of UDH = 8 septets (no fill), 152 characters per part */
	assert_int_equal(s->parts[0].ud_len, 8 + 152);
	assert_int_equal(s->parts[1].ud_len, 8 + 48);
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 12, "A0" "06080412340201", 16);
	check_round_trip(s, t, 0x1234);
	pdu_submit_free(s);
	free(t);
}

static void
test_max_parts(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s = NULL;
	char *t = repeat("c", 153 * 10), *t2 = repeat("c", 153 * 10 + 1);
	int n;

	(void)state;
	assert_int_equal(pdu_count_parts(t, &o, &n, NULL), PDU_OK);
	assert_int_equal(n, 10);
	assert_int_equal(pdu_encode_submit("+447700900123", t2, &o, &s), PDU_ERR_TOO_LONG);
	assert_null(s);
	o.max_parts = 11;
	assert_int_equal(pdu_encode_submit("+447700900123", t2, &o, &s), PDU_OK);
	assert_int_equal(s->nparts, 11);
	pdu_submit_free(s);
	free(t);
	free(t2);
}

/* ---- national language shift tables ---- */

static void
test_turkish(void **state)
{
	/* "Ağaç": not in the default alphabet -> UCS-2 when no language is allowed */
	const char *t = "A\xC4\x9F" "a\xC3\xA7";
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;

	(void)state;
	assert_int_equal(pdu_encode_submit("+905321234567", t, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 11, "08" "08" "0041011F006100E7", 20);
	pdu_submit_free(s);
	/* with Turkish allowed: locking shift IE 25 01 01, 3 fill bits, A=41 ğ=0C a=61 ç=60
	 * (TS 23.038 A.3.1), UDL 5 + 4 septets; computed by hand */
	o.languages = 1u << PDU_LANG_TR;
	assert_int_equal(pdu_encode_submit("+905321234567", t, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, PDU_LANG_TR);
	assert_int_equal(s->lang_single, 0);
	assert_string_equal(s->parts[0].hex, "0041000C91093512325476000009032501010832C260");
	check_round_trip(s, t, 0);
	pdu_submit_free(s);
	/* Spanish only: ç is in the Spanish single shift table, ğ is not: UCS-2 */
	o.languages = 1u << PDU_LANG_ES;
	assert_int_equal(pdu_encode_submit("+905321234567", t, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	pdu_submit_free(s);
}

static void
test_language_choice(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	char t[512];
	int n;
	enum pdu_encoding enc;

	(void)state;
	/* plain text stays plain GSM 7 bit even with languages allowed */
	o.languages = (1u << PDU_LANG_TR) | (1u << PDU_LANG_ES) | (1u << PDU_LANG_PT);
	assert_int_equal(pdu_encode_submit("+447700900123", "hello", &o, &s), PDU_OK);
	assert_int_equal(s->lang_locking + s->lang_single, 0);
	assert_string_equal(s->parts[0].hex + 2 + 2 * 11, "0005E8329BFD06");
	pdu_submit_free(s);
	/* "Más": á is in the Portuguese locking table (A.3.3, 0x0F): 3 septets beat ESC+á (A.2.2) */
	assert_int_equal(pdu_encode_submit("+34600000000", "M\xC3\xA1s", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, PDU_LANG_PT);
	assert_int_equal(s->lang_single, 0);
	pdu_submit_free(s);
	/* "Mañana más": ñ is in the default alphabet but not in the Portuguese locking table, so
	 * the Spanish single shift table (one IE) is the only one-IE choice */
	assert_int_equal(pdu_encode_submit("+34600000000", "Ma\xC3\xB1" "ana m\xC3\xA1s", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, 0);
	assert_int_equal(s->lang_single, PDU_LANG_ES);
	/* UDH 03 24 01 02, 3 fill bits */
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 12, "10" "03240102", 10);
	check_round_trip(s, "Ma\xC3\xB1" "ana m\xC3\xA1s", 0);
	pdu_submit_free(s);
	/* Portuguese: "ação" - ç and ã: locking table A.3.3 has both (09, 7B) */
	assert_int_equal(pdu_encode_submit("+351910000000", "a\xC3\xA7\xC3\xA3o", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, PDU_LANG_PT);
	check_round_trip(s, "a\xC3\xA7\xC3\xA3o", 0);
	pdu_submit_free(s);
	/* 150 Turkish characters: UCS-2 would need 3 parts, Turkish locking shift 1 part (155) */
	memset(t, 0, sizeof(t));
	for (n = 0; n < 150; n++)
		strcat(t, "\xC4\x9F");
	o.languages = 1u << PDU_LANG_TR;
	assert_int_equal(pdu_count_parts(t, &o, &n, &enc), PDU_OK);
	assert_int_equal(n, 1);
	assert_int_equal(enc, PDU_ENC_GSM7);
	o.languages = 0;
	assert_int_equal(pdu_count_parts(t, &o, &n, &enc), PDU_OK);
	assert_int_equal(n, 3);
	assert_int_equal(enc, PDU_ENC_UCS2);
}

/* Hindi "नमस्ते": septets 2F 42 4C 5F 27 59 in TS 23.038 A.3.6 */
#define NAMASTE "\u0928\u092E\u0938\u094D\u0924\u0947"

static void
test_indic_languages(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	struct pdu_decoded d;
	enum pdu_encoding enc;
	char t[1024];
	int n;

	(void)state;
	/* ISO 639-1 codes <-> TS 23.038 national language identifiers */
	assert_int_equal(pdu_lang_parse("hi"), 6);
	assert_int_equal(pdu_lang_parse("ur"), 13);
	assert_int_equal(pdu_lang_parse("HI"), -1);
	assert_string_equal(pdu_lang_code(PDU_LANG_OR), "or");
	assert_null(pdu_lang_code(0));
	assert_null(pdu_lang_code(14));
	for (n = 1; n <= PDU_LANG_UR; n++)
		assert_int_equal(pdu_lang_parse(pdu_lang_code((unsigned)n)), n);
	/* Hindi locking shift: UDH 03 25 01 06, 3 fill bits, UDL 5 + 6 septets; packed by hand */
	o.languages = 1u << PDU_LANG_HI;
	assert_int_equal(pdu_encode_submit("+919812345678", NAMASTE, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, PDU_LANG_HI);
	assert_int_equal(s->lang_single, 0);
	assert_string_equal(s->parts[0].hex, "0041000C911989214365870000" "0B" "03250106780999DF5316");
	check_round_trip(s, NAMASTE, 0);
	pdu_submit_free(s);
	/* without Hindi allowed: UCS-2 */
	o.languages = (1u << PDU_LANG_TR) | (1u << PDU_LANG_TA);
	assert_int_equal(pdu_encode_submit("+919812345678", NAMASTE, &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	assert_int_equal(s->lang_locking + s->lang_single, 0);
	pdu_submit_free(s);
	/* a Devanagari digit (A.2.6 0x1D) needs the Hindi single shift table too: both IEs,
	 * 24 01 06 then 25 01 06 */
	o.languages = 1u << PDU_LANG_HI;
	assert_int_equal(pdu_encode_submit("+919812345678", NAMASTE " \u0967", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_GSM7);
	assert_int_equal(s->lang_locking, PDU_LANG_HI);
	assert_int_equal(s->lang_single, PDU_LANG_HI);
	assert_memory_equal(s->parts[0].hex + 2 + 2 * 12, "11" "06240106250106", 16);
	check_round_trip(s, NAMASTE " \u0967", 0);
	pdu_submit_free(s);
	/* a Tamil letter in Hindi text: no enabled table pair holds both -> UCS-2 */
	o.languages = (1u << PDU_LANG_HI) | (1u << PDU_LANG_TA);
	assert_int_equal(pdu_encode_submit("+919812345678", NAMASTE "\u0B95", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	pdu_submit_free(s);
	/* Kannada DDA sits at a misprinted cell (A.3.7 0x24): never encoded with the table */
	o.languages = 1u << PDU_LANG_KN;
	assert_int_equal(pdu_encode_submit("+919812345678", "\u0C85\u0CA1", &o, &s), PDU_OK);
	assert_int_equal(s->encoding, PDU_ENC_UCS2);
	pdu_submit_free(s);
	/* 150 Hindi letters: 1 part with the Hindi locking table (155 septets), 3 in UCS-2 */
	t[0] = '\0';
	for (n = 0; n < 150; n++)
		strcat(t, "\u0915");
	o.languages = 1u << PDU_LANG_HI;
	assert_int_equal(pdu_count_parts(t, &o, &n, &enc), PDU_OK);
	assert_int_equal(n, 1);
	assert_int_equal(enc, PDU_ENC_GSM7);
	o.languages = 0;
	assert_int_equal(pdu_count_parts(t, &o, &n, &enc), PDU_OK);
	assert_int_equal(n, 3);
	assert_int_equal(enc, PDU_ENC_UCS2);
	/* every Indic language round-trips a letter, a vowel sign and a digit of its own script:
	 * the digit is only in the single shift table, so both IEs name the language */
	{
		static const struct {
			enum pdu_lang lang;
			const char *text;
		} v[] = {
			{ PDU_LANG_BN, "\u0995\u09BF \u09E6" }, { PDU_LANG_GU, "\u0A95\u0ABF \u0AE6" },
			{ PDU_LANG_HI, "\u0915\u093F \u0966" }, { PDU_LANG_KN, "\u0C95\u0CBF \u0CE6" },
			{ PDU_LANG_ML, "\u0D15\u0D3F \u0D66" }, { PDU_LANG_OR, "\u0B15\u0B3F \u0B66" },
			{ PDU_LANG_PA, "\u0A15\u0A3F \u0A66" }, { PDU_LANG_TA, "\u0B95\u0BBF \u0BE6" },
			{ PDU_LANG_TE, "\u0C15\u0C3F \u0C66" }, { PDU_LANG_UR, "\u0633\u0644\u0627\u0645 \u06F1" },
		};
		size_t i;

		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			o.languages = 1u << v[i].lang;
			assert_int_equal(pdu_encode_submit("+919812345678", v[i].text, &o, &s), PDU_OK);
			assert_int_equal(s->encoding, PDU_ENC_GSM7);
			assert_int_equal(s->nparts, 1);
			assert_int_equal(s->lang_locking, v[i].lang);
			assert_int_equal(s->lang_single, v[i].lang);
			check_round_trip(s, v[i].text, 0);
			assert_int_equal(pdu_decode_submit(s->parts[0].hex, true, &d), PDU_OK);
			assert_int_equal(d.lang_locking, v[i].lang);
			pdu_submit_free(s);
		}
	}
}

/* ---- DELIVER decoding ---- */

static void
test_deliver_published(void **state)
{
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
				    true, &d), PDU_OK);
	assert_int_equal(d.type, PDU_TYPE_DELIVER);
	assert_string_equal(d.smsc, "+27381000015");
	assert_string_equal(d.addr, "27838890001");   /* TON 4, NPI 8: not international */
	assert_false(d.addr_alpha);
	assert_string_equal(d.text, "hellohello");
	assert_string_equal(d.scts, "1999-03-29T15:16:59+02:00");
	assert_int_equal(d.encoding, PDU_ENC_GSM7);
	assert_int_equal(d.msg_class, -1);
	assert_false(d.concat.present);
	assert_int_equal(d.tpdu_len, 28);
	assert_int_equal(d.ud_len, 10);
}

static void
test_deliver_alphanumeric(void **state)
{
	/* Hand-computed: OA length 0D (13 semi-octets = 7 septets), TOA D0, "InfoSMS" packed;
	 * SCTS 2026-11-23 13:45:00 +01:00 = 62 11 32 31 54 00 40 */
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("00040DD049B7F93D6D4E0100006211323154004011D9775D0E1ABFC965507A0E8AC96634",
				    true, &d), PDU_OK);
	assert_true(d.addr_alpha);
	assert_string_equal(d.addr, "InfoSMS");
	assert_string_equal(d.smsc, "");
	assert_string_equal(d.text, "Your code is 1234");
	assert_string_equal(d.scts, "2026-11-23T13:45:00+01:00");
}

static void
test_deliver_ucs2_negative_tz(void **state)
{
	/* "Привет" from +79161234567, SCTS 2026-01-02 03:04:05 -03:00 (TZ octet 29: 12 quarters, sign) */
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("00040B919761214365F70008621020304050290C041F04400438043204350442",
				    true, &d), PDU_OK);
	assert_string_equal(d.addr, "+79161234567");
	assert_int_equal(d.encoding, PDU_ENC_UCS2);
	assert_string_equal(d.text, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
	assert_string_equal(d.scts, "2026-01-02T03:04:05-03:00");
}

static void
test_deliver_concat(void **state)
{
	/* 8-bit reference: UDH 05 00 03 A7 02 01, 1 fill bit, "Hi" */
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("00440C9144770009103200006211323154004009050003A702019069", true, &d),
			 PDU_OK);
	assert_true(d.concat.present);
	assert_int_equal(d.concat.ref, 0xA7);
	assert_int_equal(d.concat.total, 2);
	assert_int_equal(d.concat.seq, 1);
	assert_string_equal(d.text, "Hi");
	assert_string_equal(d.addr, "+447700900123");
	/* 16-bit reference: UDH 06 08 04 12 34 03 02, no fill, "abc" */
	assert_int_equal(pdu_decode("00440C914477000910320000621132315400400B0608041234030261F118", true, &d),
			 PDU_OK);
	assert_true(d.concat.present);
	assert_int_equal(d.concat.ref, 0x1234);
	assert_int_equal(d.concat.total, 3);
	assert_int_equal(d.concat.seq, 2);
	assert_string_equal(d.text, "abc");
}

static void
test_deliver_turkish(void **state)
{
	/* Hand-computed DELIVER with locking shift IE 25 01 01 (TS 23.040 9.2.3.24.16), 3 fill bits,
	 * septets 41 0C 61 60 = "Ağaç" in TS 23.038 A.3.1 */
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("00440C9109351232547600006211323154004009032501010832C260", true, &d),
			 PDU_OK);
	assert_int_equal(d.lang_locking, PDU_LANG_TR);
	assert_string_equal(d.text, "A\xC4\x9F" "a\xC3\xA7");
	assert_string_equal(d.addr, "+905321234567");
	/* the same septets without the IE are default-alphabet text: "A" "ø"(0C) "a" "¿"(60) */
	assert_int_equal(pdu_decode("00040C91093512325476000062113231540040044146180C", true, &d), PDU_OK);
	assert_string_equal(d.text, "A\xC3\xB8" "a\xC2\xBF");
}

static void
test_deliver_indic(void **state)
{
	struct pdu_decoded d;

	(void)state;
	/* Hand-computed DELIVER: locking shift IE 25 01 06 (Hindi), 3 fill bits, septets
	 * 2F 42 4C 5F 27 59 of TS 23.038 A.3.6 */
	assert_int_equal(pdu_decode("00440C91198921436587000062113231540040" "0B" "03250106780999DF5316",
				    true, &d), PDU_OK);
	assert_int_equal(d.lang_locking, PDU_LANG_HI);
	assert_int_equal(d.lang_single, 0);
	assert_string_equal(d.text, NAMASTE);
	/* the same user data with IE 25 01 0B (Tamil, A.3.11): 2F=U+0BA8 42=U+0BAE 4C=U+0BB8
	 * 5F=U+0BCD 27=U+0BA4 59=U+0BC7 */
	assert_int_equal(pdu_decode("00440C91198921436587000062113231540040" "0B" "0325010B780999DF5316",
				    true, &d), PDU_OK);
	assert_int_equal(d.lang_locking, PDU_LANG_TA);
	assert_string_equal(d.text, "\u0BA8\u0BAE\u0BB8\u0BCD\u0BA4\u0BC7");
	/* Tamil single shift only (IE 24 01 0B), default locking: ESC 1C = U+0BE6 then 'A':
	 * UDH 03 24 01 0B, 3 fill bits, UDL 5 + 3 septets 1B 1C 41 */
	assert_int_equal(pdu_decode("00440C91198921436587000062113231540040" "08" "0324010BD87082",
				    true, &d), PDU_OK);
	assert_int_equal(d.lang_single, PDU_LANG_TA);
	assert_int_equal(d.lang_locking, 0);
	assert_string_equal(d.text, "\u0BE6" "A");
}

static void
test_deliver_dcs(void **state)
{
	struct pdu_decoded d;

	(void)state;
	/* DCS 04: 8-bit data, text is the hex */
	assert_int_equal(pdu_decode("00040B919761214365F7000462102030405029030102FF", true, &d), PDU_OK);
	assert_int_equal(d.encoding, PDU_ENC_8BIT);
	assert_int_equal(d.data_len, 3);
	assert_string_equal(d.text, "0102FF");
	/* DCS 10: GSM 7 bit, class 0 (flash); F1: class 1 */
	assert_int_equal(pdu_decode("00040B919761214365F700106210203040502901C1", true, &d), PDU_OK);
	assert_int_equal(d.msg_class, 0);
	assert_string_equal(d.text, "A");
	assert_int_equal(pdu_decode("00040B919761214365F700F16210203040502901C1", true, &d), PDU_OK);
	assert_int_equal(d.msg_class, 1);
	/* DCS 20: compressed */
	assert_int_equal(pdu_decode("00040B919761214365F700206210203040502901C1", true, &d), PDU_ERR_DCS);
}

/* ---- STATUS-REPORT ---- */

static void
test_status_reports(void **state)
{
	/* Hand-computed: SMSC +44779740000, first octet 06, MR 2A, RA +447700900123,
	 * SCTS 2026-11-23 13:45:00 +01:00, DT 13:46:30, then TP-ST */
	static const struct { const char *st; int v; enum pdu_status_class cls; } v[] = {
		{ "00", 0x00, PDU_ST_DELIVERED }, { "21", 0x21, PDU_ST_TEMPORARY },
		{ "41", 0x41, PDU_ST_PERMANENT }, { "62", 0x62, PDU_ST_TEMP_GAVE_UP },
	};
	char hex[128];
	struct pdu_decoded d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(hex, sizeof(hex), "%s%s", "07914477790400F0062A0C91447700091032"
			 "62113231540040" "62113231640340", v[i].st);
		assert_int_equal(pdu_decode(hex, true, &d), PDU_OK);
		assert_int_equal(d.type, PDU_TYPE_STATUS_REPORT);
		assert_string_equal(d.smsc, "+44779740000");
		assert_int_equal(d.mr, 0x2A);
		assert_string_equal(d.addr, "+447700900123");
		assert_string_equal(d.scts, "2026-11-23T13:45:00+01:00");
		assert_string_equal(d.discharge, "2026-11-23T13:46:30+01:00");
		assert_int_equal(d.status, v[i].v);
		assert_int_equal(pdu_status_classify(d.status), v[i].cls);
	}
	assert_int_equal(pdu_status_classify(0x02), PDU_ST_DELIVERED);
	assert_int_equal(pdu_status_classify(0x3F), PDU_ST_TEMPORARY);
	assert_int_equal(pdu_status_classify(0x5F), PDU_ST_PERMANENT);
	assert_int_equal(pdu_status_classify(0x7F), PDU_ST_TEMP_GAVE_UP);
	/* a report cut before TP-ST */
	assert_int_equal(pdu_decode("07914477790400F0062A0C91447700091032621132315400406211323164034", true, &d),
			 PDU_ERR_HEX);
	assert_int_equal(pdu_decode("07914477790400F0062A0C9144770009103262113231540040621132316403", true, &d),
			 PDU_ERR_TRUNCATED);
}

static void
test_encode_deliver_and_report(void **state)
{
	struct pdu_submit_opts o = opts0();
	struct pdu_submit *s;
	struct pdu_part p;
	struct pdu_decoded d;

	(void)state;
	/* must give exactly the hand-computed DELIVERs above */
	assert_int_equal(pdu_encode_deliver("InfoSMS", "Your code is 1234", "2026-11-23T13:45:00+01:00",
					    &o, &s), PDU_OK);
	assert_string_equal(s->parts[0].hex,
			    "00040DD049B7F93D6D4E0100006211323154004011D9775D0E1ABFC965507A0E8AC96634");
	assert_int_equal(s->parts[0].length, 35);
	pdu_submit_free(s);
	assert_int_equal(pdu_encode_deliver("+79161234567", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
					    "2026-01-02T03:04:05-03:00", &o, &s), PDU_OK);
	assert_string_equal(s->parts[0].hex, "00040B919761214365F70008621020304050290C041F04400438043204350442");
	pdu_submit_free(s);
	assert_int_equal(pdu_encode_deliver("+7916", "x", "not a time", &o, &s), PDU_ERR_ARG);
	assert_int_equal(pdu_encode_deliver("TooLongSenderName", "x", "2026-01-02T03:04:05Z", &o, &s),
			 PDU_ERR_ADDRESS);
	assert_int_equal(pdu_encode_status_report(0x2A, "+447700900123", "2026-11-23T13:45:00+01:00",
						  "2026-11-23T13:46:30+01:00", 0x41, "+44779740000", &p),
			 PDU_OK);
	assert_string_equal(p.hex, "07914477790400F0062A0C91447700091032621132315400406211323164034041");
	assert_int_equal(p.length, 25);
	assert_int_equal(pdu_decode(p.hex, true, &d), PDU_OK);
	assert_int_equal(d.status, 0x41);
}

/* ---- hostile input ---- */

static void
test_decode_errors(void **state)
{
	struct pdu_decoded d;

	(void)state;
	assert_int_equal(pdu_decode("", true, &d), PDU_ERR_HEX);
	assert_int_equal(pdu_decode("0", true, &d), PDU_ERR_HEX);
	assert_int_equal(pdu_decode("0G", true, &d), PDU_ERR_HEX);
	assert_int_equal(pdu_decode("00", true, &d), PDU_ERR_TRUNCATED);
	assert_int_equal(pdu_decode("0C", true, &d), PDU_ERR_ADDRESS);   /* SMSC length 12 */
	assert_int_equal(pdu_decode("0791", true, &d), PDU_ERR_TRUNCATED);
	assert_int_equal(pdu_decode("0001", true, &d), PDU_ERR_MTI);      /* SUBMIT in SC->MS */
	assert_int_equal(pdu_decode("0003", true, &d), PDU_ERR_MTI);
	assert_int_equal(pdu_decode_submit("0004", true, &d), PDU_ERR_MTI);
	assert_int_equal(pdu_decode("00041591", true, &d), PDU_ERR_ADDRESS);   /* 21 digits */
	/* UDL 0x0A but one octet short / one too many */
	assert_int_equal(pdu_decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC",
				    true, &d), PDU_ERR_TRUNCATED);
	assert_int_equal(pdu_decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC3700",
				    true, &d), PDU_ERR_TRAILING);
	/* UDL over 160 septets */
	assert_int_equal(pdu_decode("00040B919761214365F7000062102030405029A1", true, &d), PDU_ERR_UDL);
	/* UDHI with a UDHL past the user data */
	assert_int_equal(pdu_decode("00440B919761214365F700006210203040502902FF00", true, &d), PDU_ERR_UDH);
	/* IE longer than the header */
	assert_int_equal(pdu_decode("00440B919761214365F7000462102030405029030200FF", true, &d), PDU_ERR_UDH);
	/* concatenation IE with sequence 0: ignored, not an error */
	assert_int_equal(pdu_decode("00440B919761214365F70004621020304050290705000302000041", true, &d),
			 PDU_OK);
	assert_false(d.concat.present);
	assert_string_equal(d.text, "41");
	/* a locking shift IE for Spanish, which has no locking table (TS 23.038 A.3.2 void): a value
	 * not supported, so the IE is ignored (TS 23.040 9.2.3.24) and the default alphabet applies */
	assert_int_equal(pdu_decode("00440C9109351232547600006211323154004009032501020832C260", true, &d),
			 PDU_OK);
	assert_int_equal(d.lang_locking, 0);
	assert_string_equal(d.text, "A\xC3\xB8" "a\xC2\xBF");
	/* a bad time stamp gives "" but keeps the message */
	assert_int_equal(pdu_decode("00040B919761214365F70004FF102030405029010A", true, &d), PDU_OK);
	assert_string_equal(d.scts, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_hellohello),
		cmocka_unit_test(test_submit_options),
		cmocka_unit_test(test_validity_mapping),
		cmocka_unit_test(test_submit_bad_input),
		cmocka_unit_test(test_160_161),
		cmocka_unit_test(test_escape_never_split),
		cmocka_unit_test(test_every_extension_char_round_trips),
		cmocka_unit_test(test_ucs2_70_71),
		cmocka_unit_test(test_emoji_at_every_boundary),
		cmocka_unit_test(test_concat16),
		cmocka_unit_test(test_max_parts),
		cmocka_unit_test(test_turkish),
		cmocka_unit_test(test_language_choice),
		cmocka_unit_test(test_indic_languages),
		cmocka_unit_test(test_deliver_published),
		cmocka_unit_test(test_deliver_alphanumeric),
		cmocka_unit_test(test_deliver_ucs2_negative_tz),
		cmocka_unit_test(test_deliver_concat),
		cmocka_unit_test(test_deliver_turkish),
		cmocka_unit_test(test_deliver_indic),
		cmocka_unit_test(test_deliver_dcs),
		cmocka_unit_test(test_status_reports),
		cmocka_unit_test(test_encode_deliver_and_report),
		cmocka_unit_test(test_decode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
