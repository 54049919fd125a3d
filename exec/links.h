/* links: the supervisor's side of the link emulator. It finds the
 * experiment's emulated links (from its stored XIR, realized again), opens
 * their ports (the root ends build made, named in the realization's port map) and runs
 * the emulator's thread; it answers the supervisor's "link_set" requests and
 * adds per-direction counters to the status document. */
#ifndef VTB_LINKS_H
#define VTB_LINKS_H

#include <jansson.h>
#include <stddef.h>

struct sup_links;

/* Start the emulator of experiment id. With no emulated link, *out is a
 * valid empty set and no thread runs. err names the link and port with the
 * system's words on failure. Returns 0 or a negative errno. */
int links_start(const char *id, struct sup_links **out, char *err, size_t errlen);
void links_stop(struct sup_links *l);

/* Add "directions" to every emulated link of status (the document of
 * status_json): per direction from, to, the parameters and the counters. */
void links_annotate(struct sup_links *l, json_t *status);

/* Apply {"link": NAME, "from": NODE or null, "set": {PARAM: value, ...}}
 * to the running emulator: every direction of the link, or the one leaving
 * NODE. Parameters: latency_ns, jitter_ns, loss, burst (0 off), duplicate,
 * reorder, corrupt, rate_bps (0 unlimited), queue_pkts, queue_bytes.
 * Returns the number of directions changed, or a negative errno with err
 * saying why (unknown link or node, a value the emulator refuses). */
int links_set(struct sup_links *l, json_t *req, char *err, size_t errlen);

#endif
