/* pki.c — create a CA and issue manager and agent certificates with OpenSSL (see pki.h). */
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "err.h"

/* ub-common-name (RFC 5280) */
#define PKI_CN_MAX 64
#define PKI_SAN_MAX 32

static const char *ssl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  if (r)
    snprintf(buf, len, "%s", r);
  else if (e)
    ERR_error_string_n(e, buf, len);
  else
    snprintf(buf, len, "unknown OpenSSL error");
  ERR_clear_error();
  return buf;
}

int pki_agent_id_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n < 1 || n > PKI_AGENT_ID_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

static int is_ip(const char *s) {
  unsigned char addr[16];
  return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* A DNS name: labels of [A-Za-z0-9-] (1-63, not starting or ending with '-') joined by dots, at
 * most 253 characters; a leading "*." wildcard label is allowed. */
static int is_dns_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 253) return 0;
  if (strncmp(s, "*.", 2) == 0) s += 2;
  size_t label = 0;
  char prev = '.';
  for (; *s; s++) {
    char c = *s;
    if (c == '.') {
      if (label == 0 || prev == '-') return 0;
      label = 0;
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      if (c == '-' && label == 0) return 0;
      if (++label > 63) return 0;
    } else {
      return 0;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

/* A CN we are willing to put in a certificate: printable ASCII, no leading/trailing space. */
static int cn_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > PKI_CN_MAX || s[0] == ' ' || s[n - 1] == ' ') return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return 0;
  return 1;
}

/* ---- files ---------------------------------------------------------------------------------- */

static int path_join(char *out, const char *dir, const char *name, const char *ext, char *err,
                     size_t errlen) {
  int n = snprintf(out, PKI_PATH_MAX, "%s/%s%s", dir, name, ext);
  if (n < 0 || n >= PKI_PATH_MAX)
    return tn_err_set(err, errlen, TN_EUSAGE, "path %s/%s%s is too long", dir, name, ext);
  return TN_OK;
}

static int ensure_dir(const char *dir, char *err, size_t errlen) {
  if (mkdir(dir, 0700) == 0) return TN_OK;
  struct stat st;
  if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return TN_OK;
  return tn_err_set(err, errlen, TN_EIO, "cannot create directory %s: %s", dir,
                    errno == EEXIST ? "a file of that name exists" : strerror(errno));
}

static int refuse_existing(const char *path, int force, char *err, size_t errlen) {
  if (!force && access(path, F_OK) == 0)
    return tn_err_set(err, errlen, TN_EIO, "%s already exists (use --force to replace it)", path);
  return TN_OK;
}

static int write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t w = write(fd, data, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    data += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Write a file with the given mode: created exclusively, or (force) through a temporary file
 * renamed over the old one. */
static int write_file(const char *path, const char *data, size_t len, mode_t mode, int force, char *err,
                      size_t errlen) {
  char tmp[PKI_PATH_MAX + 16];
  const char *target = path;
  int fd;
  if (force) {
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    target = tmp;
  } else {
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  }
  if (fd < 0)
    return tn_err_set(err, errlen, TN_EIO, "cannot create %s: %s%s", path, strerror(errno),
                      errno == EEXIST ? " (use --force to replace it)" : "");
  if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(target);
    return tn_err_set(err, errlen, TN_EIO, "cannot write %s: %s", path, strerror(e));
  }
  if (close(fd) != 0 || (force && rename(tmp, path) != 0)) {
    int e = errno;
    unlink(target);
    return tn_err_set(err, errlen, TN_EIO, "cannot write %s: %s", path, strerror(e));
  }
  return TN_OK;
}

/* PEM of a key (PKCS#8) or a certificate into a malloc'd buffer. */
static char *pem_of(EVP_PKEY *key, X509 *cert, size_t *len) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) return NULL;
  int ok = key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_X509(b, cert);
  char *out = NULL;
  if (ok == 1) {
    char *p;
    long n = BIO_get_mem_data(b, &p);
    out = n > 0 ? malloc((size_t)n) : NULL;
    if (out) {
      memcpy(out, p, (size_t)n);
      *len = (size_t)n;
    }
  }
  BIO_free(b);
  return out;
}

/* Write cert and key; on failure nothing new is left behind. */
static int write_pair(const char *cert_path, X509 *cert, const char *key_path, EVP_PKEY *key, int force,
                      char *err, size_t errlen) {
  size_t klen = 0, clen = 0;
  char *kpem = pem_of(key, NULL, &klen), *cpem = pem_of(NULL, cert, &clen);
  int rc;
  if (!kpem || !cpem) {
    char why[160];
    rc = tn_err_set(err, errlen, TN_ETLS, "cannot encode PEM: %s", ssl_reason(why, sizeof why));
  } else {
    rc = write_file(key_path, kpem, klen, 0600, force, err, errlen);
    if (rc == TN_OK) {
      rc = write_file(cert_path, cpem, clen, 0644, force, err, errlen);
      if (rc != TN_OK && !force) unlink(key_path);
    }
  }
  if (kpem) OPENSSL_cleanse(kpem, klen);
  free(kpem);
  free(cpem);
  return rc;
}

/* ---- certificates --------------------------------------------------------------------------- */

static EVP_PKEY *new_key(void) { return EVP_EC_gen("P-256"); }

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
  if (!ext) return 0;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* Fill res->not_after from now + days. */
static void format_not_after(int days, char *out, size_t len) {
  time_t t = time(NULL) + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

enum cert_kind { CERT_CA, CERT_MANAGER, CERT_AGENT };

/* A certificate for key with subject CN = cn, signed by issuer/issuer_key (NULL: self-signed).
 * alt_names is an OpenSSL subjectAltName value ("DNS:a,IP:1.2.3.4") or NULL. */
static X509 *make_cert(enum cert_kind kind, const char *cn, EVP_PKEY *key, int days, const char *alt_names,
                       X509 *issuer, EVP_PKEY *issuer_key) {
  X509 *x = X509_new();
  BIGNUM *bn = BN_new();
  int ok = x && bn;
  /* serial: 127 random bits, so it is positive and unique without any state */
  ok = ok && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) && !BN_is_zero(bn);
  ok = ok && X509_set_version(x, 2) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
       X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
  X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
  ok = ok && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  ok = ok && X509_set_pubkey(x, key);
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ok = add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (kind == CERT_CA) {
      ok = ok && add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      ok = ok && add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      ok = ok && add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
      ok = ok && add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
      ok = ok && add_ext(x, &ctx, NID_ext_key_usage, kind == CERT_MANAGER ? "serverAuth" : "clientAuth");
    }
    ok = ok && add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    if (ok && alt_names && *alt_names) ok = add_ext(x, &ctx, NID_subject_alt_name, alt_names);
  }
  ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static void fill_result(pki_result *res, const char *cert, const char *key, const char *cn, const char *alt,
                        int days) {
  if (!res) return;
  snprintf(res->cert, sizeof res->cert, "%s", cert);
  snprintf(res->key, sizeof res->key, "%s", key);
  snprintf(res->subject, sizeof res->subject, "CN=%s", cn);
  res->alt_names[0] = '\0';
  if (alt) { /* "DNS:a,IP:b" -> "DNS:a, IP:b" */
    size_t o = 0;
    for (const char *p = alt; *p && o + 2 < sizeof res->alt_names; p++) {
      res->alt_names[o++] = *p;
      if (*p == ',') res->alt_names[o++] = ' ';
    }
    res->alt_names[o] = '\0';
  }
  format_not_after(days, res->not_after, sizeof res->not_after);
}

static int days_of(const pki_options *opt, int dflt, char *err, size_t errlen, int *days) {
  *days = opt && opt->days > 0 ? opt->days : dflt;
  if (*days > 36500)
    return tn_err_set(err, errlen, TN_EUSAGE, "validity of %d days is more than 100 years", *days);
  return TN_OK;
}

int pki_init(const char *dir, const char *ca_name, const pki_options *opt, pki_result *res, char *err,
             size_t errlen) {
  int force = opt && opt->force, days, rc;
  char cn[PKI_CN_MAX + 1];
  char crt[PKI_PATH_MAX], key[PKI_PATH_MAX], why[160];
  if ((rc = days_of(opt, PKI_CA_DAYS_DEFAULT, err, errlen, &days)) != TN_OK) return rc;
  if (ca_name) {
    if (!cn_valid(ca_name))
      return tn_err_set(err, errlen, TN_EUSAGE, "CA name '%s' must be 1-%d printable ASCII characters",
                        ca_name, PKI_CN_MAX);
    snprintf(cn, sizeof cn, "%s", ca_name);
  } else {
    unsigned char r[4];
    if (RAND_bytes(r, sizeof r) != 1)
      return tn_err_set(err, errlen, TN_ETLS, "no randomness: %s", ssl_reason(why, sizeof why));
    snprintf(cn, sizeof cn, "Tenet CA %02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  }
  if ((rc = path_join(crt, dir, "ca", ".crt", err, errlen)) != TN_OK ||
      (rc = path_join(key, dir, "ca", ".key", err, errlen)) != TN_OK)
    return rc;
  if ((rc = ensure_dir(dir, err, errlen)) != TN_OK ||
      (rc = refuse_existing(key, force, err, errlen)) != TN_OK ||
      (rc = refuse_existing(crt, force, err, errlen)) != TN_OK)
    return rc;
  EVP_PKEY *k = new_key();
  X509 *x = k ? make_cert(CERT_CA, cn, k, days, NULL, NULL, NULL) : NULL;
  if (!x)
    rc = tn_err_set(err, errlen, TN_ETLS, "cannot create the CA: %s", ssl_reason(why, sizeof why));
  else
    rc = write_pair(crt, x, key, k, force, err, errlen);
  if (rc == TN_OK) fill_result(res, crt, key, cn, NULL, days);
  X509_free(x);
  EVP_PKEY_free(k);
  return rc;
}

/* Load dir/ca.crt and dir/ca.key and check that they belong together. */
static int load_ca(const char *dir, X509 **cert, EVP_PKEY **key, char *err, size_t errlen) {
  char crt[PKI_PATH_MAX], kp[PKI_PATH_MAX], why[160];
  int rc;
  *cert = NULL;
  *key = NULL;
  if ((rc = path_join(crt, dir, "ca", ".crt", err, errlen)) != TN_OK ||
      (rc = path_join(kp, dir, "ca", ".key", err, errlen)) != TN_OK)
    return rc;
  FILE *f = fopen(crt, "r");
  if (!f)
    return tn_err_set(err, errlen, TN_EKEY, "cannot read %s: %s (create a CA with `tenet pki init %s`)", crt,
                      strerror(errno), dir);
  *cert = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!*cert)
    return tn_err_set(err, errlen, TN_EKEY, "%s is not a PEM certificate: %s", crt,
                      ssl_reason(why, sizeof why));
  f = fopen(kp, "r");
  if (!f) {
    rc = tn_err_set(err, errlen, TN_EKEY, "cannot read %s: %s", kp, strerror(errno));
    goto fail;
  }
  *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (!*key) {
    rc = tn_err_set(err, errlen, TN_EKEY, "%s is not a PEM private key: %s", kp, ssl_reason(why, sizeof why));
    goto fail;
  }
  if (X509_check_private_key(*cert, *key) != 1) {
    ERR_clear_error();
    rc = tn_err_set(err, errlen, TN_EKEY, "%s does not belong to %s", kp, crt);
    goto fail;
  }
  if (X509_check_ca(*cert) == 0) {
    rc = tn_err_set(err, errlen, TN_EKEY, "%s is not a CA certificate", crt);
    goto fail;
  }
  return TN_OK;
fail:
  X509_free(*cert);
  EVP_PKEY_free(*key);
  *cert = NULL;
  *key = NULL;
  return rc;
}

/* Issue an end-entity certificate into crt/key. */
static int issue(const char *dir, enum cert_kind kind, const char *cn, const char *alt, const char *crt,
                 const char *key, const pki_options *opt, pki_result *res, char *err, size_t errlen) {
  int force = opt && opt->force, days, rc;
  char why[160];
  if ((rc = days_of(opt, PKI_CERT_DAYS_DEFAULT, err, errlen, &days)) != TN_OK) return rc;
  X509 *ca;
  EVP_PKEY *ca_key;
  if ((rc = load_ca(dir, &ca, &ca_key, err, errlen)) != TN_OK) return rc;
  if ((rc = refuse_existing(key, force, err, errlen)) != TN_OK ||
      (rc = refuse_existing(crt, force, err, errlen)) != TN_OK)
    goto done;
  EVP_PKEY *k = new_key();
  X509 *x = k ? make_cert(kind, cn, k, days, alt, ca, ca_key) : NULL;
  if (!x)
    rc = tn_err_set(err, errlen, TN_ETLS, "cannot create the certificate: %s", ssl_reason(why, sizeof why));
  else
    rc = write_pair(crt, x, key, k, force, err, errlen);
  if (rc == TN_OK) fill_result(res, crt, key, cn, alt, days);
  X509_free(x);
  EVP_PKEY_free(k);
done:
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return rc;
}

/* Append one SAN entry ("DNS:x" or "IP:x") unless already present. */
static int add_san(char *buf, size_t len, const char *host, char *err, size_t errlen) {
  char entry[300];
  if (is_ip(host))
    snprintf(entry, sizeof entry, "IP:%s", host);
  else if (is_dns_name(host))
    snprintf(entry, sizeof entry, "DNS:%s", host);
  else
    return tn_err_set(err, errlen, TN_EUSAGE, "'%s' is neither a DNS name nor an IP address", host);
  size_t el = strlen(entry);
  for (const char *p = buf; *p;) { /* skip duplicates */
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == el && strncmp(p, entry, n) == 0) return TN_OK;
    p += n + (end ? 1 : 0);
  }
  size_t used = strlen(buf);
  if (used + el + 2 > len) return tn_err_set(err, errlen, TN_EUSAGE, "too many subjectAltName entries");
  if (used) buf[used++] = ',';
  memcpy(buf + used, entry, el + 1);
  return TN_OK;
}

int pki_issue_manager(const char *dir, const char *name, const char *const *sans, size_t nsans,
                      const pki_options *opt, pki_result *res, char *err, size_t errlen) {
  if (!cn_valid(name))
    return tn_err_set(err, errlen, TN_EUSAGE, "manager name '%s' must be 1-%d printable ASCII characters",
                      name ? name : "", PKI_CN_MAX);
  if (nsans > PKI_SAN_MAX)
    return tn_err_set(err, errlen, TN_EUSAGE, "more than %d --san entries", PKI_SAN_MAX);
  char alt[1024] = "";
  int rc = TN_OK;
  if (is_ip(name) || is_dns_name(name)) rc = add_san(alt, sizeof alt, name, err, errlen);
  for (size_t i = 0; rc == TN_OK && i < nsans; i++)
    rc = add_san(alt, sizeof alt, sans[i], err, errlen);
  if (rc == TN_OK && nsans == 0) {
    rc = add_san(alt, sizeof alt, "localhost", err, errlen);
    if (rc == TN_OK) rc = add_san(alt, sizeof alt, "127.0.0.1", err, errlen);
  }
  if (rc != TN_OK) return rc;
  char crt[PKI_PATH_MAX], key[PKI_PATH_MAX];
  if ((rc = path_join(crt, dir, "manager", ".crt", err, errlen)) != TN_OK ||
      (rc = path_join(key, dir, "manager", ".key", err, errlen)) != TN_OK)
    return rc;
  return issue(dir, CERT_MANAGER, name, alt, crt, key, opt, res, err, errlen);
}

int pki_issue_agent(const char *dir, const char *agent_id, const pki_options *opt, pki_result *res, char *err,
                    size_t errlen) {
  if (!pki_agent_id_valid(agent_id))
    return tn_err_set(err, errlen, TN_EUSAGE,
                      "agent id '%s' is invalid: use 1-%d characters of A-Z a-z 0-9 _ . -",
                      agent_id ? agent_id : "", PKI_AGENT_ID_MAX);
  char agents[PKI_PATH_MAX], crt[PKI_PATH_MAX], key[PKI_PATH_MAX];
  int rc;
  if ((rc = path_join(agents, dir, "agents", "", err, errlen)) != TN_OK ||
      (rc = path_join(crt, agents, agent_id, ".crt", err, errlen)) != TN_OK ||
      (rc = path_join(key, agents, agent_id, ".key", err, errlen)) != TN_OK)
    return rc;
  /* check the CA before creating anything */
  X509 *ca;
  EVP_PKEY *ca_key;
  if ((rc = load_ca(dir, &ca, &ca_key, err, errlen)) != TN_OK) return rc;
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  if ((rc = ensure_dir(agents, err, errlen)) != TN_OK) return rc;
  return issue(dir, CERT_AGENT, agent_id, NULL, crt, key, opt, res, err, errlen);
}

/* ---- revocation ---- */

/* Read the certificate at path (PEM). NULL with a message in err. */
static X509 *read_cert(const char *path, char *err, size_t errlen) {
  char why[160];
  FILE *f = fopen(path, "r");
  if (!f) {
    tn_err_set(err, errlen, TN_EIO, "cannot read %s: %s", path, strerror(errno));
    return NULL;
  }
  X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!c)
    tn_err_set(err, errlen, TN_EUSAGE, "%s is not a PEM certificate: %s", path, ssl_reason(why, sizeof why));
  return c;
}

/* The existing dir/crl.pem signed by this CA (a new empty list when there is none). */
static X509_CRL *load_crl(const char *path, X509 *ca, EVP_PKEY *ca_key, char *err, size_t errlen) {
  char why[160];
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno != ENOENT) {
      tn_err_set(err, errlen, TN_EIO, "cannot read %s: %s", path, strerror(errno));
      return NULL;
    }
    X509_CRL *crl = X509_CRL_new();
    if (!crl || X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1) {
      X509_CRL_free(crl);
      tn_err_set(err, errlen, TN_ETLS, "cannot create a CRL: %s", ssl_reason(why, sizeof why));
      return NULL;
    }
    return crl;
  }
  X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
  fclose(f);
  if (!crl) {
    tn_err_set(err, errlen, TN_EIO, "%s is not a PEM CRL: %s", path, ssl_reason(why, sizeof why));
    return NULL;
  }
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0 ||
      X509_CRL_verify(crl, ca_key) != 1) {
    ERR_clear_error();
    X509_CRL_free(crl);
    tn_err_set(err, errlen, TN_EKEY, "%s was not issued by this CA", path);
    return NULL;
  }
  return crl;
}

int pki_revoke(const char *dir, const char *who, int *already, pki_revoked *res, char *err, size_t errlen) {
  char crt[PKI_PATH_MAX], crl_path[PKI_PATH_MAX], why[160];
  int rc;
  *already = 0;
  if (pki_agent_id_valid(who) && !strchr(who, '/')) {
    char agents[PKI_PATH_MAX];
    if ((rc = path_join(agents, dir, "agents", "", err, errlen)) != TN_OK ||
        (rc = path_join(crt, agents, who, ".crt", err, errlen)) != TN_OK)
      return rc;
    if (access(crt, F_OK) != 0 && access(who, F_OK) == 0) snprintf(crt, sizeof crt, "%s", who);
  } else if (snprintf(crt, sizeof crt, "%s", who) >= (int)sizeof crt) {
    return tn_err_set(err, errlen, TN_EUSAGE, "path %s is too long", who);
  }
  if ((rc = path_join(crl_path, dir, "crl", ".pem", err, errlen)) != TN_OK) return rc;
  X509 *ca = NULL, *cert = NULL;
  EVP_PKEY *ca_key = NULL;
  X509_CRL *crl = NULL;
  X509_REVOKED *rev = NULL;
  ASN1_TIME *now = NULL;
  char *pem = NULL;
  if ((rc = load_ca(dir, &ca, &ca_key, err, errlen)) != TN_OK) goto out;
  if (!(cert = read_cert(crt, err, errlen))) {
    rc = TN_EUSAGE;
    goto out;
  }
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca)) != 0 ||
      X509_verify(cert, ca_key) != 1) {
    ERR_clear_error();
    rc = tn_err_set(err, errlen, TN_EUSAGE, "%s was not issued by the CA of %s", crt, dir);
    goto out;
  }
  if (!(crl = load_crl(crl_path, ca, ca_key, err, errlen))) {
    rc = TN_EIO;
    goto out;
  }
  if (res) {
    snprintf(res->crl, sizeof res->crl, "%s", crl_path);
    snprintf(res->cert, sizeof res->cert, "%s", crt);
    X509_NAME_oneline(X509_get_subject_name(cert), res->subject, sizeof res->subject);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(res->serial, sizeof res->serial, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
  }
  X509_REVOKED *found = NULL;
  if (X509_CRL_get0_by_cert(crl, &found, cert) == 1) {
    *already = 1;
  } else {
    if (!(rev = X509_REVOKED_new()) || !(now = ASN1_TIME_set(NULL, time(NULL))) ||
        X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)X509_get0_serialNumber(cert)) != 1 ||
        X509_REVOKED_set_revocationDate(rev, now) != 1 || X509_CRL_add0_revoked(crl, rev) != 1) {
      rc = tn_err_set(err, errlen, TN_ETLS, "cannot add to the CRL: %s", ssl_reason(why, sizeof why));
      goto out;
    }
    rev = NULL; /* the CRL owns it */
    X509_CRL_sort(crl);
  }
  /* Re-signed every time: lastUpdate now, nextUpdate as far as the CA lives (the manager checks
   * revocation against this list; an expired list would refuse every agent). */
  ASN1_TIME_free(now);
  if (!(now = ASN1_TIME_set(NULL, time(NULL))) || X509_CRL_set1_lastUpdate(crl, now) != 1 ||
      X509_CRL_set1_nextUpdate(crl, X509_get0_notAfter(ca)) != 1 ||
      X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0) {
    rc = tn_err_set(err, errlen, TN_ETLS, "cannot sign the CRL: %s", ssl_reason(why, sizeof why));
    goto out;
  }
  BIO *b = BIO_new(BIO_s_mem());
  char *data = NULL;
  long len = 0;
  if (!b || PEM_write_bio_X509_CRL(b, crl) != 1 || (len = BIO_get_mem_data(b, &data)) <= 0 ||
      !(pem = malloc((size_t)len))) {
    BIO_free(b);
    rc = tn_err_set(err, errlen, TN_ETLS, "cannot encode the CRL: %s", ssl_reason(why, sizeof why));
    goto out;
  }
  memcpy(pem, data, (size_t)len);
  BIO_free(b);
  rc = write_file(crl_path, pem, (size_t)len, 0644, 1, err, errlen);
  if (res) res->entries = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
out:
  free(pem);
  ASN1_TIME_free(now);
  X509_REVOKED_free(rev);
  X509_CRL_free(crl);
  X509_free(cert);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return rc;
}
