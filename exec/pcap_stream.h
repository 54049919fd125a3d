/* pcap_stream: the frames of a pcap file read as a stream (a host's `vtb
 * capture` through a pipe or the relay: cli/capture_cluster.c), parsed
 * from bytes so that a fuzzer can feed it. */
#ifndef VTB_PCAP_STREAM_H
#define VTB_PCAP_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* The biggest frame a stream may carry: exec/capture.c's snaplen (9216)
 * and libpcap's own limit for anything else. */
#define PCAP_STREAM_MAX_FRAME 262144
/* pcap's file header and each frame's header, in bytes */
#define PCAP_STREAM_FILE_HDR 24
#define PCAP_STREAM_REC_HDR 16

/* The header of one frame of a pcap stream, as parsed. */
struct pcap_stream_rec {
	int64_t sec;
	uint32_t usec, caplen, len;
	const uint8_t *data; /* caplen bytes, inside the parsed buffer */
};

/* Parse the next piece of a pcap stream (microsecond timestamps,
 * Ethernet, either byte order) from buf's len bytes; *swapped is -1 until
 * the file header is parsed, then 0 or 1. Returns the bytes used (the
 * file header's, with *rec untouched and rec->data NULL, or one frame's,
 * with *rec), 0 when buf holds no whole piece yet, or -EPROTO for bytes
 * that are no such pcap. */
long pcap_stream_parse(const uint8_t *buf, size_t len, int *swapped, struct pcap_stream_rec *rec);

#endif
