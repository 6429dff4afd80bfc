/* utf8: strict UTF-8 decoding/encoding (RFC 3629) for the SMS text codecs. */
#ifndef SIMROUTE_UTF8_H
#define SIMROUTE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point from s[0..len). Returns the number of bytes consumed (1..4) and sets *cp,
 * or 0 on an invalid sequence (overlong, surrogate, > U+10FFFF, truncated, stray continuation). */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encode cp (must be a Unicode scalar value) into out[0..4). Returns bytes written (1..4), 0 if cp
 * is a surrogate or out of range. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Decode the whole NUL-terminated string into a malloc'd array of code points.
 * Returns 0 and sets *cps and *n, -1 if invalid UTF-8, -2 on allocation failure. */
int utf8_to_codepoints(const char *s, uint32_t **cps, size_t *n);

/* Append cp as UTF-8 to out (NUL-terminated, capacity cap) at *pos; returns -1 if it does not fit. */
int utf8_append(char *out, size_t cap, size_t *pos, uint32_t cp);

#endif
