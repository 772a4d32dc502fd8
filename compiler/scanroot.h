/* scanroot.h — `tenet scan --root DIR`: scanning a mounted image or container root offline.
 *
 * Every f:/d: path resolves inside DIR (fs.h, symlinks included). c: commands run chrooted into DIR
 * (`chroot DIR COMMAND...`, the command found on DIR's own PATH) when tenet runs as root and DIR
 * holds the binary; otherwise the rule is not applicable with a reason saying why. p: rules are
 * not applicable ("process list not available with --root"): DIR's processes are not running. */
#ifndef TENET_SCANROOT_H
#define TENET_SCANROOT_H

#include <stddef.h>

#include "cache.h"

/* Make DIR the root of the coming scan and install its command and process providers on cache.
 * Returns TN_OK, or TN_EIO with a message in err (DIR missing or not a directory). */
int scanroot_begin(scan_cache *cache, const char *dir, char *err, size_t errlen);
/* After the scan: back to this host's file system. */
void scanroot_end(void);

#endif
