/* supervisor: one process per experiment that lives as long as the
 * experiment. It holds a root-only control socket in the state directory
 * (<id>.sock) and answers requests from the vtb command: "ping", "status"
 * (with the emulated links' counters), "stop", "links_start" (open the
 * link emulator's ports and start it: vtb up asks once the network is
 * built), "link_set" (see links_set), "vms_start", "vms", "vm_exec" and
 * "vm_attach". Requests and replies are JSON objects on a SOCK_SEQPACKET
 * socket, a request in one message, a reply in as many as it takes
 * (sup_proto.h), checked by sup_proto.c; the operations dispatch through a
 * table (supervisor.c). Every client is served at once (one poll loop; the
 * long operations on threads of their own), each with a deadline. The supervisor logs to
 * <statedir>/<id>.sup.log (sup_log.h). The client side is sup_client.c. */
#ifndef VTB_SUPERVISOR_H
#define VTB_SUPERVISOR_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "sup_proto.h"

/* The control socket path of experiment id. */
void sup_socket_path(const char *id, char *buf, size_t len);

/* Start the supervisor of experiment id (fork + exec of this program with
 * the hidden command "__supervise") in the experiment's substrate network
 * namespace (build_substrate_name; it must exist). It returns once the supervisor is
 * listening; it then waits for sup_release before serving, and exits if
 * the caller dies first. Returns 0 with *pid, or a negative errno. */
int sup_start(const char *id, pid_t *pid, int *release_fd);
/* Let the supervisor serve (after its pid has been journaled). */
int sup_release(int release_fd);

/* Send the next message of a reply's text[*off..len] on conn: a SUP_PART
 * piece of SUP_CHUNK bytes while more than that is left, else the rest
 * plain (sup_proto.h). Returns 0 with *off moved on, or a negative errno
 * (-EAGAIN with MSG_DONTWAIT in flags: the socket is full, go on once it
 * is writable). The caller keeps text. */
int sup_send_piece(int conn, const char *text, size_t len, size_t *off, int flags);

/* The body of "vtb __supervise ID READY_FD RELEASE_FD". Returns the exit status. */
int sup_main(const char *id, int ready_fd, int release_fd);

/* Send {"op": op} to the supervisor of id and wait (up to timeout_ms) for
 * the reply, which the caller json_decref()s. -ECONNREFUSED / -ENOENT when
 * no supervisor listens. */
int sup_request(const char *id, const char *op, int timeout_ms, json_t **reply);
/* The same with a whole request object (not taken). */
int sup_call(const char *id, json_t *request, int timeout_ms, json_t **reply);

/* Run cmd on VM node of experiment id through its supervisor: the output
 * written to out_fd as it comes, the command's exit status in *status.
 * Returns 0, or a negative errno with err saying why (the VM is booting or
 * failed, the command timed out, no supervisor). */
int sup_vm_exec(const char *id, const char *node, const char *cmd, int timeout_ms, int out_fd,
		int *status, char *err, size_t errlen);
/* Ask for node's console: a connected fd that carries it (the caller
 * copies bytes both ways and closes it), or a negative errno with err. */
int sup_vm_attach(const char *id, const char *node, char *err, size_t errlen);

#endif
