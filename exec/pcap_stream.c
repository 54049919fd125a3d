/* pcap_stream: a pcap stream's frames from bytes (pcap_stream.h). */
#include "pcap_stream.h"

#include <byteswap.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>

static uint32_t pcap_stream_rd32(const uint8_t *p, int swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? bswap_32(v) : v;
}

long pcap_stream_parse(const uint8_t *buf, size_t len, int *swapped, struct pcap_stream_rec *rec)
{
	uint32_t magic;

	if (*swapped < 0) {
		if (len < PCAP_STREAM_FILE_HDR)
			return 0;
		magic = pcap_stream_rd32(buf, 0);
		if (magic != 0xa1b2c3d4 && magic != 0xd4c3b2a1)
			return -EPROTO;
		if (pcap_stream_rd32(buf + 20, magic != 0xa1b2c3d4) != DLT_EN10MB)
			return -EPROTO;
		*swapped = magic != 0xa1b2c3d4;
		rec->data = NULL;
		return PCAP_STREAM_FILE_HDR;
	}
	if (len < PCAP_STREAM_REC_HDR)
		return 0;
	*rec = (struct pcap_stream_rec){
		.sec = pcap_stream_rd32(buf, *swapped),
		.usec = pcap_stream_rd32(buf + 4, *swapped),
		.caplen = pcap_stream_rd32(buf + 8, *swapped),
		.len = pcap_stream_rd32(buf + 12, *swapped),
	};
	if (rec->usec >= 1000000 || rec->caplen > PCAP_STREAM_MAX_FRAME || rec->len < rec->caplen)
		return -EPROTO;
	if (len - PCAP_STREAM_REC_HDR < rec->caplen)
		return 0;
	rec->data = buf + PCAP_STREAM_REC_HDR;
	return PCAP_STREAM_REC_HDR + (long)rec->caplen;
}
