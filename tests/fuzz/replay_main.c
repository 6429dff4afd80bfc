/* Replays fuzz corpus files through LLVMFuzzerTestOneInput without libFuzzer, so that `make check`
 * exercises every target under gcc + ASan/UBSan with no clang installed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i, failed = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			if (f != NULL)
				fclose(f);
			failed = 1;
			continue;
		}
		buf = malloc((size_t)len + 1);   /* +1: a zero-length file still gets a pointer */
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			failed = 1;
		} else {
			LLVMFuzzerTestOneInput(buf, (size_t)len);
		}
		free(buf);
		fclose(f);
	}
	printf("replayed %d file(s)\n", argc - 1);
	return failed;
}
