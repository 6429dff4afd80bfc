/* Unit tests for gsm7: tables against TS 23.038 6.2.1/6.2.1.1/Annex A, septet packing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simroute/gsm7.h"
#include "simroute/utf8.h"

/* TS 23.038 6.2.1, written out column by column as printed in the specification (ESC as a space
 * placeholder at 0x1B, skipped). Typed independently of the generated tables in gsm7_lang.c. */
static const char *const default_by_septet =
	"@£$¥èéùìòÇ\nØø\rÅå"
	"Δ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ"
	" !\"#¤%&'()*+,-./"
	"0123456789:;<=>?"
	"¡ABCDEFGHIJKLMNO"
	"PQRSTUVWXYZÄÖÑÜ§"
	"¿abcdefghijklmno"
	"pqrstuvwxyzäöñüà";

static void
test_default_table_round_trip(void **state)
{
	const char *s = default_by_septet;
	size_t len = strlen(s), off = 0, used;
	uint8_t sept[2];
	char back[8];
	uint32_t cp;
	int k = 0;

	(void)state;
	while (off < len) {
		used = utf8_decode(s + off, len - off, &cp);
		assert_true(used > 0);
		off += used;
		if (k != GSM7_ESC) {
			assert_int_equal(gsm7_lang_locking(0)[k], cp);
			assert_int_equal(gsm7_encode_char(cp, 0, 0, sept), 1);
			assert_int_equal(sept[0], k);
			assert_int_equal(gsm7_decode(sept, 1, 0, 0, back, sizeof(back)), 0);
			assert_int_equal(utf8_decode(back, strlen(back), &cp), strlen(back));
			assert_int_equal(cp, gsm7_lang_locking(0)[k]);
		}
		k++;
	}
	assert_int_equal(k, 128);
}

static void
test_extension_table(void **state)
{
	/* TS 23.038 6.2.1.1: each is ESC + this septet */
	static const struct { uint32_t cp; uint8_t s; } ext[] = {
		{ 0x0C, 0x0A }, { '^', 0x14 }, { '{', 0x28 }, { '}', 0x29 }, { '\\', 0x2F },
		{ '[', 0x3C }, { '~', 0x3D }, { ']', 0x3E }, { '|', 0x40 }, { 0x20AC, 0x65 },
	};
	uint8_t sept[2];
	char back[8];
	size_t i;
	int n = 0;

	(void)state;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		assert_int_equal(gsm7_encode_char(ext[i].cp, 0, 0, sept), 2);
		assert_int_equal(sept[0], GSM7_ESC);
		assert_int_equal(sept[1], ext[i].s);
		assert_int_equal(gsm7_decode(sept, 2, 0, 0, back, sizeof(back)), 0);
		assert_int_equal(gsm7_find_single(0, ext[i].cp), ext[i].s);
	}
	for (i = 0; i < 128; i++)
		n += gsm7_lang_single(0)[i] != 0;
	assert_int_equal(n, 10);   /* nothing else in the default extension table */
	/* characters in neither table */
	assert_int_equal(gsm7_encode_char('`', 0, 0, sept), 0);
	assert_int_equal(gsm7_encode_char(0x00E7, 0, 0, sept), 0);   /* ç: only Ç is in 6.2.1 */
	assert_int_equal(gsm7_encode_char(0x1F600, 0, 0, sept), 0);
}

static void
test_decode_unknown_escape(void **state)
{
	/* 6.2.1.1: an escape to an undefined extension shows the main-table character;
	 * ESC ESC is shown as a space; a trailing ESC is dropped */
	uint8_t a[] = { GSM7_ESC, 'A', GSM7_ESC, GSM7_ESC, 'b', GSM7_ESC };
	char out[32];

	(void)state;
	assert_int_equal(gsm7_decode(a, sizeof(a), 0, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "A b");
	assert_int_equal(gsm7_decode(a, 1, 0, 0, out, 2), 0);
	assert_int_equal(gsm7_decode((const uint8_t *)"AAAA", 4, 0, 0, out, 3), -1);
}

static void
test_pack_hellohello(void **state)
{
	/* TS 23.038 6.1.2.1.1 packing; the classic "hellohello" user data E8329BFD4697D9EC37 */
	static const uint8_t expect[] = { 0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37 };
	uint8_t out[16] = { 0 }, back[16];

	(void)state;
	assert_int_equal(gsm7_packed_len(10), 9);
	gsm7_pack((const uint8_t *)"hellohello", 10, 0, out);
	assert_memory_equal(out, expect, sizeof(expect));
	assert_int_equal(out[9], 0);
	assert_int_equal(gsm7_unpack(expect, sizeof(expect), 0, 10, back), 10);
	assert_memory_equal(back, "hellohello", 10);
	/* asking for more septets than the octets hold stops early */
	assert_int_equal(gsm7_unpack(expect, 2, 0, 10, back), 2);
}

static void
test_pack_fill_bits(void **state)
{
	/* After a 6-octet UDH the first septet starts at septet 7 (1 fill bit): 'a' = 0x61 -> bit 49. */
	uint8_t out[16] = { 0 }, back[2];

	(void)state;
	gsm7_pack((const uint8_t *)"a", 1, 7, out);
	assert_int_equal(out[6], 0xC2);   /* 0x61 << 1 */
	assert_int_equal(out[7], 0x00);
	assert_int_equal(gsm7_unpack(out, 7, 7, 1, back), 1);
	assert_int_equal(back[0], 'a');
	/* after a 4-octet UDH (shift IE only): start septet 5, 3 fill bits */
	memset(out, 0, sizeof(out));
	gsm7_pack((const uint8_t *)"A", 1, 5, out);
	assert_int_equal(out[4], 0x08);
	assert_int_equal(out[5], 0x02);
}

static void
test_turkish_tables(void **state)
{
	/* TS 23.038 A.3.1 (locking) and A.2.1 (single shift) */
	const uint16_t *l = gsm7_lang_locking(1), *s = gsm7_lang_single(1);

	(void)state;
	assert_non_null(l);
	assert_non_null(s);
	assert_int_equal(l[0x04], 0x20AC);   /* € */
	assert_int_equal(l[0x07], 0x0131);   /* ı */
	assert_int_equal(l[0x0B], 0x011E);   /* Ğ */
	assert_int_equal(l[0x0C], 0x011F);   /* ğ */
	assert_int_equal(l[0x1C], 0x015E);   /* Ş */
	assert_int_equal(l[0x1D], 0x015F);   /* ş */
	assert_int_equal(l[0x40], 0x0130);   /* İ */
	assert_int_equal(l[0x60], 0x00E7);   /* ç */
	assert_int_equal(l[0x41], 'A');
	assert_int_equal(s[0x47], 0x011E);
	assert_int_equal(s[0x49], 0x0130);
	assert_int_equal(s[0x53], 0x015E);
	assert_int_equal(s[0x63], 0x00E7);
	assert_int_equal(s[0x65], 0x20AC);
	assert_int_equal(s[0x67], 0x011F);
	assert_int_equal(s[0x69], 0x0131);
	assert_int_equal(s[0x73], 0x015F);
	assert_int_equal(s[0x28], '{');
}

static void
test_spanish_portuguese_tables(void **state)
{
	const uint16_t *es = gsm7_lang_single(2), *pl = gsm7_lang_locking(3), *ps = gsm7_lang_single(3);

	(void)state;
	assert_null(gsm7_lang_locking(2));   /* Spanish has no locking shift table (A.3.2 absent) */
	assert_non_null(es);
	/* TS 23.038 A.2.2 */
	assert_int_equal(es[0x09], 0x00E7);
	assert_int_equal(es[0x41], 0x00C1);
	assert_int_equal(es[0x49], 0x00CD);
	assert_int_equal(es[0x4F], 0x00D3);
	assert_int_equal(es[0x55], 0x00DA);
	assert_int_equal(es[0x61], 0x00E1);
	assert_int_equal(es[0x69], 0x00ED);
	assert_int_equal(es[0x6F], 0x00F3);
	assert_int_equal(es[0x75], 0x00FA);
	/* TS 23.038 A.3.3 */
	assert_int_equal(pl[0x04], 0x00EA);   /* ê */
	assert_int_equal(pl[0x12], 0x00AA);   /* ª */
	assert_int_equal(pl[0x15], 0x221E);   /* ∞ */
	assert_int_equal(pl[0x16], '^');
	assert_int_equal(pl[0x17], '\\');
	assert_int_equal(pl[0x18], 0x20AC);
	assert_int_equal(pl[0x24], 0x00BA);   /* º */
	assert_int_equal(pl[0x5B], 0x00C3);   /* Ã */
	assert_int_equal(pl[0x60], '~');
	assert_int_equal(pl[0x7D], '`');
	/* TS 23.038 A.2.3 */
	assert_int_equal(ps[0x05], 0x00EA);
	assert_int_equal(ps[0x12], 0x03A6);
	assert_int_equal(ps[0x1F], 0x00CA);
	assert_int_equal(ps[0x7F], 0x00E2);
	assert_int_equal(ps[0x7B], 0x00E3);
}

/* Cells of the Indic tables at known positions, read off TS 23.038 A.3.x (locking) and A.2.x (single
 * shift) by hand, independently of gsm7_lang.c: two locking cells and one single shift cell each. */
static const struct {
	unsigned lang;
	uint8_t l1;
	uint16_t c1;
	uint8_t l2;
	uint16_t c2;
	uint8_t s1;
	uint16_t sc;
	const char *utf8;   /* c1 c2 sc as UTF-8 */
} indic[] = {
	{ 4, 0x03, 0x0985, 0x7F, 0x09F1, 0x19, 0x09E6, "\u0985\u09F1\u09E6" },   /* Bengali */
	{ 5, 0x03, 0x0A85, 0x7F, 0x0AF1, 0x1C, 0x0AE6, "\u0A85\u0AF1\u0AE6" },   /* Gujarati */
	{ 6, 0x03, 0x0905, 0x7F, 0x097F, 0x1C, 0x0966, "\u0905\u097F\u0966" },   /* Hindi */
	{ 7, 0x03, 0x0C85, 0x7F, 0x0CE3, 0x1C, 0x0CE6, "\u0C85\u0CE3\u0CE6" },   /* Kannada */
	{ 8, 0x03, 0x0D05, 0x7F, 0x0D79, 0x1C, 0x0D66, "\u0D05\u0D79\u0D66" },   /* Malayalam */
	{ 9, 0x03, 0x0B05, 0x7F, 0x0B63, 0x1C, 0x0B66, "\u0B05\u0B63\u0B66" },   /* Oriya */
	{ 10, 0x03, 0x0A05, 0x7F, 0x0A74, 0x1C, 0x0A66, "\u0A05\u0A74\u0A66" },  /* Punjabi */
	{ 11, 0x03, 0x0B85, 0x7F, 0x0BF9, 0x1C, 0x0BE6, "\u0B85\u0BF9\u0BE6" },  /* Tamil */
	{ 12, 0x03, 0x0C05, 0x7F, 0x0C63, 0x1D, 0x0C67, "\u0C05\u0C63\u0C67" },  /* Telugu */
	{ 13, 0x00, 0x0627, 0x7F, 0x0670, 0x1C, 0x06F0, "\u0627\u0670\u06F0" },  /* Urdu */
};

static void
test_indic_tables(void **state)
{
	uint8_t out[2], sept[4];
	char text[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(indic) / sizeof(indic[0]); i++) {
		unsigned lang = indic[i].lang;
		const uint16_t *l = gsm7_lang_locking(lang), *s = gsm7_lang_single(lang);

		assert_non_null(l);
		assert_non_null(s);
		assert_int_equal(l[indic[i].l1], indic[i].c1);
		assert_int_equal(l[indic[i].l2], indic[i].c2);
		assert_int_equal(s[indic[i].s1], indic[i].sc);
		/* the layout every Indic table shares: LF CR SP and ASCII letters/digits in place,
		 * ')' at 0x28 and '(' at 0x29 as printed; the single shift table carries the ASCII
		 * capitals and the default extension characters */
		assert_int_equal(l[0x20], ' ');
		assert_int_equal(l[0x28], ')');
		assert_int_equal(l[0x29], '(');
		assert_int_equal(l[0x2C], ',');
		assert_int_equal(l[0x61], 'a');
		assert_int_equal(l[0x39], '9');
		assert_int_equal(s[0x41], 'A');
		assert_int_equal(s[0x65], 0x20AC);
		assert_int_equal(s[0x0A], 0x000C);
		assert_int_equal(s[0x0D], 0);   /* reserved (CR2): no character */
		assert_int_equal(s[0x3C], '[');
		/* encode: one septet from the locking table, ESC + septet from the single shift one */
		assert_int_equal(gsm7_encode_char(indic[i].c1, lang, lang, out), 1);
		assert_int_equal(out[0], indic[i].l1);
		assert_int_equal(gsm7_encode_char(indic[i].c2, lang, lang, out), 1);
		assert_int_equal(out[0], indic[i].l2);
		assert_int_equal(gsm7_encode_char(indic[i].sc, lang, lang, out), 2);
		assert_int_equal(out[0], GSM7_ESC);
		assert_int_equal(out[1], indic[i].s1);
		/* not in the default tables, nor in another language's */
		assert_int_equal(gsm7_encode_char(indic[i].c1, 0, 0, out), 0);
		assert_int_equal(gsm7_encode_char(indic[i].c1, lang == 6 ? 11 : 6, lang == 6 ? 11 : 6, out), 0);
		/* decode */
		sept[0] = indic[i].l1;
		sept[1] = indic[i].l2;
		sept[2] = GSM7_ESC;
		sept[3] = indic[i].s1;
		assert_int_equal(gsm7_decode(sept, 4, lang, lang, text, sizeof(text)), 0);
		assert_string_equal(text, indic[i].utf8);
	}
}

static void
test_indic_disputed_cells(void **state)
{
	const uint16_t *kn = gsm7_lang_locking(7), *ta = gsm7_lang_locking(11), *te = gsm7_lang_locking(12);
	const uint16_t *tas = gsm7_lang_single(11), *ors = gsm7_lang_single(9), *tes = gsm7_lang_single(12);
	uint8_t out[2], sept[2];
	char text[16];

	(void)state;
	/* A.3.7 0x24 printed U+0CAA (PA, also at 0x3D): decoded as DDA U+0CA1, never encoded */
	assert_int_equal(kn[0x24], 0x0CA1);
	assert_int_equal(kn[0x3D], 0x0CAA);
	assert_true(gsm7_lang_decode_only(7, true, 0x24));
	assert_int_equal(gsm7_find_locking(7, 0x0CA1), -1);
	assert_int_equal(gsm7_encode_char(0x0CA1, 7, 7, out), 0);
	assert_int_equal(gsm7_encode_char(0x0CAA, 7, 7, out), 1);
	assert_int_equal(out[0], 0x3D);
	sept[0] = 0x24;
	assert_int_equal(gsm7_decode(sept, 1, 7, 7, text, sizeof(text)), 0);
	assert_string_equal(text, "\u0CA1");
	/* A.2.11 0x24 printed U+0BEF (also at 0x25): decoded as U+0BEE, never encoded */
	assert_int_equal(tas[0x24], 0x0BEE);
	assert_int_equal(tas[0x25], 0x0BEF);
	assert_int_equal(gsm7_encode_char(0x0BEE, 11, 11, out), 0);
	assert_int_equal(gsm7_encode_char(0x0BEF, 11, 11, out), 2);
	assert_int_equal(out[1], 0x25);
	sept[0] = GSM7_ESC;
	sept[1] = 0x24;
	assert_int_equal(gsm7_decode(sept, 2, 11, 11, text, sizeof(text)), 0);
	assert_string_equal(text, "\u0BEE");
	/* unassigned code points one transcription shows: undefined, decoded as a space */
	assert_int_equal(ta[0x11], 0);
	assert_int_equal(te[0x11], 0);
	sept[0] = 0x11;
	assert_int_equal(gsm7_decode(sept, 1, 11, 11, text, sizeof(text)), 0);
	assert_string_equal(text, " ");
	/* out-of-script values in one transcription: the script's own digits */
	assert_int_equal(ors[0x20], 0x0B6A);
	assert_int_equal(tes[0x1C], 0x0C66);
	assert_int_equal(tes[0x22], 0x0C6C);   /* V9.1.1 misprint U+06CC */
	assert_int_equal(tes[0x23], 0x0C6D);
	/* the first of a character printed twice is the one encoded: '*' at 0x0B and 0x18 */
	assert_int_equal(gsm7_encode_char('*', 6, 6, out), 2);
	assert_int_equal(out[1], 0x0B);
	sept[0] = GSM7_ESC;
	sept[1] = 0x18;
	assert_int_equal(gsm7_decode(sept, 2, 6, 6, text, sizeof(text)), 0);
	assert_string_equal(text, "*");
}

static void
test_all_tables_consistent(void **state)
{
	unsigned lang;
	int i;

	(void)state;
	/* every defined cell is found again at the same septet: no duplicates shadowing it */
	for (lang = 0; lang < GSM7_LANG_COUNT; lang++) {
		const uint16_t *l = gsm7_lang_locking(lang), *s = gsm7_lang_single(lang);

		for (i = 0; i < 128; i++) {
			int k;

			/* a character is found at its own septet or at a lower one printing it too; a
			 * decode-only cell is never produced */
			if (l != NULL && l[i] != 0) {
				k = gsm7_find_locking(lang, l[i]);
				if (gsm7_lang_decode_only(lang, true, (unsigned)i))
					assert_int_not_equal(k, i);
				else
					assert_true(k >= 0 && k <= i && l[k] == l[i]);
			}
			if (s != NULL && s[i] != 0) {
				k = gsm7_find_single(lang, s[i]);
				if (gsm7_lang_decode_only(lang, false, (unsigned)i))
					assert_int_not_equal(k, i);
				else
					assert_true(k >= 0 && k <= i && s[k] == s[i]);
			}
		}
		if (l != NULL) {
			assert_int_equal(l[GSM7_ESC], 0);
			assert_int_equal(l[0x0A], '\n');   /* LF and CR are in every locking table */
			assert_int_equal(l[0x0D], '\r');
		}
	}
	assert_null(gsm7_lang_locking(GSM7_LANG_COUNT));
	assert_null(gsm7_lang_single(99));
}

static void
test_utf8(void **state)
{
	uint32_t cp, *v;
	char buf[4];
	size_t n;

	(void)state;
	assert_int_equal(utf8_decode("\xC3\xA9", 2, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(utf8_decode("\xC0\x80", 2, &cp), 0);       /* overlong NUL */
	assert_int_equal(utf8_decode("\xE0\x80\x80", 3, &cp), 0);   /* overlong */
	assert_int_equal(utf8_decode("\xED\xA0\x80", 3, &cp), 0);   /* surrogate */
	assert_int_equal(utf8_decode("\xF4\x90\x80\x80", 4, &cp), 0);   /* > U+10FFFF */
	assert_int_equal(utf8_decode("\x80", 1, &cp), 0);
	assert_int_equal(utf8_decode("\xE2\x82", 2, &cp), 0);       /* truncated */
	assert_int_equal(utf8_encode(0x20AC, buf), 3);
	assert_memory_equal(buf, "\xE2\x82\xAC", 3);
	assert_int_equal(utf8_encode(0xD800, buf), 0);
	assert_int_equal(utf8_to_codepoints("a\xE2\x82\xAC", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1], 0x20AC);
	free(v);
	assert_int_equal(utf8_to_codepoints("a\xFF", &v, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_table_round_trip),
		cmocka_unit_test(test_extension_table),
		cmocka_unit_test(test_decode_unknown_escape),
		cmocka_unit_test(test_pack_hellohello),
		cmocka_unit_test(test_pack_fill_bits),
		cmocka_unit_test(test_turkish_tables),
		cmocka_unit_test(test_spanish_portuguese_tables),
		cmocka_unit_test(test_indic_tables),
		cmocka_unit_test(test_indic_disputed_cells),
		cmocka_unit_test(test_all_tables_consistent),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
