/* checkid.c — check keys and text ids (checkid.h). */
#include "checkid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

int checkid_is_text_key(int64_t key) { return key >= CHECKID_TEXT_BASE; }

int64_t checkid_text_key(const char *text, size_t len) {
  uint8_t h[CRYPTO_SHA256_LEN];
  crypto_sha256(text ? text : "", text ? len : 0, h);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | h[i];
  return CHECKID_TEXT_BASE | (int64_t)(v & ((uint64_t)CHECKID_TEXT_BASE - 1));
}

int checkid_parse(const char *s, size_t len, int64_t *key) {
  size_t i = (len && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  int digits = i < len && len <= 20;
  for (size_t j = i; digits && j < len; j++)
    if (s[j] < '0' || s[j] > '9') digits = 0;
  if (digits) {
    char buf[24];
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    long long n = strtoll(buf, NULL, 10);
    if (errno == 0 && n >= INT32_MIN && n <= INT32_MAX) {
      *key = n;
      return 1;
    }
  }
  *key = checkid_text_key(s, len);
  return 0;
}

const char *checkid_show(int64_t key, const char *text, char buf[CHECKID_BUF]) {
  if (text) return text;
  snprintf(buf, CHECKID_BUF, "%lld", (long long)key);
  return buf;
}
