/* proclist.h — the process list of p: rules (SCA-SEMANTICS §2.8).
 *
 * The Wazuh 4.x agent runs `ps -p PID` for every PID and keeps the text of its CMD column: the
 * process's command name (comm, at most 15 bytes; longer for kernel workers) as procps prints it,
 * non-printable bytes escaped to '?', leading spaces dropped by Wazuh's parser. Tenet reads the
 * same name from /proc/PID/stat directly (the conformance statement's one intended difference:
 * no PID limit, no ps per PID). Threads are not listed (`ps -p TID` prints nothing). */
#ifndef TENET_PROCLIST_H
#define TENET_PROCLIST_H

#include <stddef.h>

typedef struct proclist {
  char **name; /* owned, in ascending PID order */
  int *pid;    /* owned, parallel to name */
  size_t n;
} proclist;

/* Read every process of /proc. A process that ends while it is being read is skipped.
 * Returns TN_OK (*out owned by the caller, free with proclist_free), TN_EIO when /proc cannot be
 * listed, or TN_ENOMEM. */
int proclist_read(proclist **out);
void proclist_free(proclist *p);

/* The name Wazuh's parser gets from ps for a raw comm of n bytes, written to out (at least n+1
 * bytes, NUL-terminated): procps in a UTF-8 locale prints one '?' for each invalid byte and for
 * each character that is not printable (control bytes, DEL, C1 controls, ...); Wazuh then skips
 * leading spaces. Returns the length written. Thread-safe. */
size_t proclist_display_name(const char *comm, size_t n, char *out);

#endif
