/* err.h — Tenet's status codes (declared once in err.def) and their messages. */
#ifndef TENET_ERR_H
#define TENET_ERR_H

enum tn_status {
#define ERR(sym, num, msg) TN_##sym = num,
#include "err.def"
#undef ERR
};

/* The message of a status code; never NULL ("unknown error" for an unknown code). */
const char *tn_strerror(int status);

#endif
