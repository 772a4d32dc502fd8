/* err.c — messages of the status codes in err.def. */
#include "err.h"

const char *tn_strerror(int status) {
  switch (status) {
#define ERR(sym, num, msg) \
  case num:                \
    return msg;
#include "err.def"
#undef ERR
  }
  return "unknown error";
}
