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

/* In free text (an error from a carrier, an SMS body), hide the last 4 digits of every run of at least
 * PHONE_TEXT_MIN_DIGITS digits — a phone number, national or international — in place. Shorter runs
 * (amounts, times, short codes, error numbers) are left as they are. */
#define PHONE_TEXT_MIN_DIGITS 7
void phone_mask_in_text(char *text);

#endif
