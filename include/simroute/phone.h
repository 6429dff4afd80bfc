/* phone: E.164 number checks and masking of numbers for logs (never log a full number above debug). */
#ifndef SIMROUTE_PHONE_H
#define SIMROUTE_PHONE_H

#include <stddef.h>

/* 1 if s is "+" followed by 7..15 digits, the first 1-9 (ITU-T E.164: at most 15 digits, no
 * leading zero in the country code); else 0. */
int phone_e164_valid(const char *s);

/* Copy num to out with its last 4 digits replaced by '*' ("+447700900123" -> "+44770090****").
 * A number with 4 digits or fewer is masked entirely. Always NUL-terminates when outlen > 0;
 * truncates to fit. */
void phone_mask(const char *num, char *out, size_t outlen);

/* Copy text (e.g. a carrier's error answer or a modem line, quoted in a log) to out with the last
 * 4 digits of every run of 7 or more digits masked: "bad number +15005550001" -> "bad number
 * +1500555****". Shorter runs (HTTP statuses, counts) stay. Always NUL-terminates when outlen > 0;
 * truncates to fit. out may be text itself (masked in place). Returns out. */
char *phone_redact(const char *text, char *out, size_t outlen);

#endif
