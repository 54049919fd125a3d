/* fuzz_gso: libFuzzer target for the link emulator's cutting of a VM's
 * GSO frames (emu/emu_gso.c): the frame and its virtio-net header come
 * from a guest. The first 10 bytes are the header, the rest the frame.
 * Whatever they hold, parse refuses or every segment fits the room the
 * emulator gives it (hlen + mss bytes) and is written inside it; a partial
 * checksum is written inside the frame or refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu_gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	struct emu_gso g;
	uint8_t *frame, *seg;
	size_t len;

	if (size < sizeof(vh))
		return 0;
	memcpy(&vh, data, sizeof(vh));
	len = size - sizeof(vh);
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + sizeof(vh), len);
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		emu_gso_csum(frame, len, vh.csum_start, vh.csum_offset);
	} else if (!emu_gso_parse(&vh, frame, len, &g)) {
		/* at most 64 segments: a fuzzer's frames are small, mss is not */
		seg = malloc((size_t)g.hlen + g.mss);
		for (uint32_t i = 0; seg && i < g.nseg && i < 64; i++)
			if (emu_gso_segment(&g, frame, i, seg) > g.hlen + g.mss)
				abort();
		free(seg);
	}
	free(frame);
	return 0;
}
