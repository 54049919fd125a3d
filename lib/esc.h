/* esc: text from users (names, commands, a program's output labels) made
 * safe to print on a terminal. Control characters and the C1 controls a
 * terminal could act on become visible escapes: a newline "\n", a tab
 * "\t", a carriage return "\r", ESC "\x1b", DEL "\x7f", U+009B "\u009b";
 * a byte that is not part of valid UTF-8 "\xff". Printable ASCII and valid
 * UTF-8 are kept as they are; a backslash is kept too, so escaping twice
 * changes nothing. */
#ifndef VTB_ESC_H
#define VTB_ESC_H

#include <stddef.h>

#include "util.h"

/* Room for a name of 63 characters each escaped ("\x1b": 4 bytes) and
 * "...": an escaped name always fits (cut names end in "..."). */
#define ESC_NAME_BUF 260

/* Append s[0..len) to b, escaped (b->oom is set when out of memory). */
void esc_append(struct util_buf *b, const char *s, size_t len);
/* s (NULL: "") escaped into dst (cap >= 4 bytes); a result that does not
 * fit is cut at a character and ends in "...". Returns dst. */
const char *esc_str(char *dst, size_t cap, const char *s);

#endif
