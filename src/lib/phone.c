/* phone: E.164 validation and masking for logs. */
#include <string.h>

#include "simroute/phone.h"

int
phone_e164_valid(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	n = strspn(s + 1, "0123456789");
	return s[1 + n] == '\0' && n >= 7 && n <= 15;
}

void
phone_mask(const char *num, char *out, size_t outlen)
{
	size_t len, i, masked = 0;

	if (outlen == 0)
		return;
	if (num == NULL) {
		out[0] = '\0';
		return;
	}
	len = strlen(num);
	/* walk backwards so that exactly the last four digits (not separators) are hidden */
	for (i = len; i > 0; i--) {
		char ch = num[i - 1];

		if (ch >= '0' && ch <= '9' && masked < 4) {
			masked++;
			if (i - 1 < outlen - 1)
				out[i - 1] = '*';
			continue;
		}
		if (i - 1 < outlen - 1)
			out[i - 1] = ch;
	}
	out[len < outlen - 1 ? len : outlen - 1] = '\0';
}

void
phone_mask_in_text(char *text)
{
	size_t run = 0;

	if (text == NULL)
		return;
	/* at each end of a run of digits, hide the run's last four when it is long enough to be a number */
	for (size_t i = 0;; i++) {
		if (text[i] >= '0' && text[i] <= '9') {
			run++;
			continue;
		}
		if (run >= PHONE_TEXT_MIN_DIGITS)
			memset(text + i - 4, '*', 4);
		run = 0;
		if (text[i] == '\0')
			break;
	}
}
