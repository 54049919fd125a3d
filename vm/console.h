/* console: the command-shell proxy of Qemunet. It drives a shell (busybox
 * ash in our guests) on a serial console: any connected, bidirectional fd
 * (QEMU's console socket, or a pty master in tests).
 *
 * The shell gets a unique prompt (PS1 = "__vtb_<random>__# "), echo off and
 * PS2 empty. A command is sent as one line
 *
 *     : ; printf '__vtb_s%s__\n' N; (JOB (eval 'CMD') </dev/null ...); printf '\n__vtb_e%s_%d__\n' N "$?"
 *
 * (the leading no-op takes any stray byte left on the shell's line; JOB
 * ends the command's process group when it ends or is interrupted: see
 * build_line in console.c), with a
 * fresh nonce N per command: its output is what comes between the
 * start marker and the end marker (which carries the exit status); then the
 * prompt must come back. The literal markers and the prompt never appear in
 * the line as sent, so an echo of it (before `stty -echo` took effect)
 * cannot be mistaken for them. Anything on the console before the start
 * marker (kernel messages, the tail of a timed-out command, echo) is
 * ignored. Each command runs in a subshell with stdin from /dev/null, as a
 * container command runs in a fresh process: `cd` or variables do not carry
 * over, `exit 7` gives status 7, and a command cannot read the console
 * (one that needs the tty names it: `stty -a </dev/tty`).
 *
 * A TCG guest's serial port carries about 85 KB/s of output (measured with
 * seq under TCG here); a pty carries 5 MB in half a second.
 *
 * What the console says is parsed by con_stream.h, which is fed the bytes
 * as they are read.
 *
 * One command at a time per console: a struct con is used by one thread.
 * Every function returns 0 or a negative errno; -EPIPE always means the
 * console closed (the VM died, the shell exited). */
#ifndef VTB_CONSOLE_H
#define VTB_CONSOLE_H

#include <stddef.h>

#include "util.h"

struct con;

/* The longest command con_exec accepts: the line as sent must fit the
 * guest tty's 4095-byte canonical line buffer. */
#define CON_CMD_MAX 3800

/* Wrap fd (a connected socket or a pty master). The console takes it: it
 * is made non-blocking and close-on-exec, and closed by con_close (also
 * when this fails). 0 or -ENOMEM. */
int con_open_fd(int fd, struct con **out);

/* Connect to the unix socket at unix_path (QEMU's console), waiting (on
 * inotify events) while nothing listens yet, up to timeout_ms. 0,
 * -ETIMEDOUT or another errno. */
int con_connect(const char *unix_path, int timeout_ms, struct con **out);

/* Wait until the shell answers: send a newline and the setup line every
 * 500 ms until the unique prompt comes back, with a Ctrl-C in between when
 * the shell did not answer (it drops a half-typed line or an open quote
 * left by an attached user, and stops a command left running in the
 * foreground). 0, -ETIMEDOUT, or -EPIPE (the console closed: the VM died).
 * On -ETIMEDOUT, con_tail shows what the console said meanwhile. */
int con_wait_ready(struct con *c, int timeout_ms);

/* Make the next waits for readiness send nothing until the console
 * printed marker (the guest's "vtb-guest-ready"), or until hold_ms from
 * now: the PL011 UART of QEMU 7.2's arm virt machine can lose its receive
 * interrupts for good when input arrives while the guest boots
 * (docs/vms.md, "Architectures"). */
void con_hold_pokes(struct con *c, const char *marker, int hold_ms);
/* The same for n consoles at once (many VMs boot in parallel): res[i] is
 * 0, -ETIMEDOUT or -EPIPE for cs[i]. Returns the number of consoles that
 * did not get ready (0: all ready) or a negative errno (-ENOMEM). */
int con_wait_ready_many(struct con *const *cs, size_t n, int timeout_ms, int *res);

/* Run one command (one line: a newline or another control character but a
 * tab in cmd gives -EINVAL, a command longer than CON_CMD_MAX -E2BIG).
 * Its output (stdout and stderr merged, as the console gives them, CRLF
 * turned into LF, exactly as printed: a missing final newline stays
 * missing) is appended to out, its exit status stored in *status (128+N
 * when a signal N ended it). A console that was not ready, or lost its way
 * after a timeout, is first re-synchronised as con_wait_ready does, within
 * the same timeout_ms.
 *
 * When the command does not end within timeout_ms: -ETIMEDOUT, after
 * sending Ctrl-C; if the prompt does not come back within a second the
 * console is marked out of sync and the next call re-synchronises. Output
 * received so far stays in out. -EPIPE when the console closed, -ENOMEM
 * when out could not grow. */
int con_exec(struct con *c, const char *cmd, int timeout_ms, struct util_buf *out, int *status);

/* The last (at most len - 1) bytes of raw console output (up to 8 KiB are
 * kept), NUL-terminated, for messages such as "boot timed out; last lines:
 * ...". Returns the number of bytes copied. */
size_t con_tail(const struct con *c, char *buf, size_t len);

/* The last lines the guest itself wrote, as con_tail keeps them, without
 * the tty's echo of the setup lines and Ctrl-Cs sent while waiting (a
 * guest that never answers echoes them for the whole wait and they would
 * push out what it said): the newest lines that fit in len - 1 bytes,
 * NUL-terminated, each ending in a newline, carriage returns and trailing
 * blanks dropped. *pokes is the number of echoed lines left out. Returns
 * the number of bytes copied. */
size_t con_tail_guest(const struct con *c, char *buf, size_t len, unsigned *pokes);

int con_fd(const struct con *c);

/* Interactive use (`vtb exec NAME VM` without a command): copy in_fd to
 * the console and the console to out_fd until the escape byte (e.g. 0x1d,
 * Ctrl-], as telnet) is read from in_fd, or in_fd ends. When in_fd is a
 * terminal it is put in raw mode and restored on return. The shell gets
 * its echo back and a plain prompt; the console is out of sync afterwards
 * (the next con_exec re-synchronises). 0 on escape or end of input, -EPIPE
 * when the console closed. */
int con_attach(struct con *c, int in_fd, int out_fd, char escape);

/* Close the console (and its fd). NULL is fine. */
void con_close(struct con *c);

#endif
