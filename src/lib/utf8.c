/* utf8: strict UTF-8 (RFC 3629 section 3). Strict because a lenient decoder would let the API accept
 * text that we then could not represent in GSM-7 or UCS-2 faithfully. */
#include <stdlib.h>
#include <string.h>

#include "simroute/utf8.h"

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;   /* continuation byte, C0/C1 (always overlong) or F5..FF */
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

size_t
utf8_encode(uint32_t cp, char out[4])
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cp <= 0x10FFFF) {
		o[0] = (unsigned char)(0xF0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (unsigned char)(0x80 | (cp & 0x3F));
		return 4;
	}
	return 0;
}

int
utf8_to_codepoints(const char *s, uint32_t **cps, size_t *n)
{
	size_t len = strlen(s), off = 0, k = 0, used;
	uint32_t *v;

	/* never more code points than bytes; +1 so that an empty string still gets a buffer */
	v = malloc((len + 1) * sizeof(*v));
	if (v == NULL)
		return -2;
	while (off < len) {
		used = utf8_decode(s + off, len - off, &v[k]);
		if (used == 0) {
			free(v);
			return -1;
		}
		off += used;
		k++;
	}
	*cps = v;
	*n = k;
	return 0;
}

int
utf8_append(char *out, size_t cap, size_t *pos, uint32_t cp)
{
	char buf[4];
	size_t n = utf8_encode(cp, buf);

	if (n == 0)
		n = utf8_encode(0xFFFD, buf);
	if (*pos + n + 1 > cap)
		return -1;
	memcpy(out + *pos, buf, n);
	*pos += n;
	out[*pos] = '\0';
	return 0;
}
