/* gsm7: GSM 7 bit alphabet (TS 23.038 6.2.1, Annex A shift tables) and septet packing (TS 23.038 6.1.2.1). */
#ifndef SIMROUTE_GSM7_H
#define SIMROUTE_GSM7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSM7_ESC 0x1B          /* escape to the (single shift / extension) table, TS 23.038 6.2.1.1 */
#define GSM7_LANG_COUNT 14     /* 0 = default, 1..13 = national language identifiers, TS 23.038 6.2.1.2.4 */

/* Septet -> code point tables (128 entries, 0 = undefined), or NULL if the language has no such table.
 * lang 0: the default alphabet / the default extension table. */
const uint16_t *gsm7_lang_locking(unsigned lang);
const uint16_t *gsm7_lang_single(unsigned lang);
/* True for a cell the decoder maps but the encoder must never produce: one where the printed standard
 * and deployed implementations disagree (a misprint; see gsm7_lang.c). */
bool gsm7_lang_decode_only(unsigned lang, bool locking, unsigned septet);

/* Septet of cp in the locking table of lang, or -1. */
int gsm7_find_locking(unsigned lang, uint32_t cp);
/* Septet (to follow an escape) of cp in the single shift table of lang, or -1. */
int gsm7_find_single(unsigned lang, uint32_t cp);

/* Encode one code point with a locking/single table pair: writes 1 septet, or ESC + septet.
 * Returns the number of septets (1 or 2), or 0 if cp has no representation. */
int gsm7_encode_char(uint32_t cp, unsigned locking, unsigned single, uint8_t out[2]);

/* Decode n septets to NUL-terminated UTF-8 (TS 23.038 6.2.1.1 rules for unknown escapes).
 * Returns 0, or -1 if out is too small (output truncated at a character boundary). */
int gsm7_decode(const uint8_t *septets, size_t n, unsigned locking, unsigned single, char *out,
		size_t outlen);

/* Pack n septets into out, the first at septet position `start` (TS 23.040 9.2.3.24: septets after a
 * UDH start at the next septet boundary, the gap being fill bits). out must hold
 * gsm7_packed_len(start + n) octets; octets from start*7/8 on must be zero on entry. */
void gsm7_pack(const uint8_t *septets, size_t n, size_t start, uint8_t *out);
/* Unpack n septets starting at septet position start from in[0..inlen); stops early if the input
 * runs out. Returns the number of septets written to out. */
size_t gsm7_unpack(const uint8_t *in, size_t inlen, size_t start, size_t n, uint8_t *out);
/* Octets needed for n septets. */
size_t gsm7_packed_len(size_t nseptets);

#endif
