/* fuzz_pcap_stream: libFuzzer target for the parser of the pcap streams
 * other hosts' `vtb capture` send a merged capture (exec/pcap_stream.c,
 * cli/capture_cluster.c): the bytes are one stream, parsed piece by piece
 * as the merge does. Each piece is refused with -EPROTO, or is whole and
 * inside the bytes given (a frame of at most PCAP_STREAM_MAX_FRAME, its
 * data right behind its header), and every shorter prefix of it is "not
 * whole yet" (0), as the merge reads a pipe a few bytes at a time. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pcap_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every prefix of the piece of n bytes at p is not whole yet. Prefixes are
 * tried at a stride so that a 256 KiB frame costs little. */
static void check_prefixes(const uint8_t *p, long n, int swapped)
{
	struct pcap_stream_rec rec;
	long k, step = n > 64 ? n / 64 : 1;

	for (k = 0; k < n; k += step) {
		int sw = swapped;

		if (pcap_stream_parse(p, (size_t)k, &sw, &rec) != 0 || sw != swapped)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_stream_rec rec;
	int swapped = -1;
	size_t off = 0;

	while (off < size) {
		int before = swapped;
		long n = pcap_stream_parse(data + off, size - off, &swapped, &rec);

		if (n == 0 || n == -EPROTO)
			break;
		if (n < 0 || (size_t)n > size - off || (swapped != 0 && swapped != 1))
			abort();
		if (before >= 0) {
			if (!rec.data || rec.data != data + off + PCAP_STREAM_REC_HDR ||
			    rec.caplen > PCAP_STREAM_MAX_FRAME || rec.caplen > rec.len ||
			    rec.usec >= 1000000 || (size_t)n != PCAP_STREAM_REC_HDR + rec.caplen)
				abort();
		} else if (n != PCAP_STREAM_FILE_HDR || rec.data) {
			abort();
		}
		check_prefixes(data + off, n, before);
		off += (size_t)n;
	}
	return 0;
}
