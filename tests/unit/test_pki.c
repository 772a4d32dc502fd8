/* test_pki.c — `tenet pki` library: files, modes, refusal to overwrite, agent id rules, and the
 * certificates themselves, inspected independently with OpenSSL (chain, CN, SAN, key usages). */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "pki.h"
#include "test.h"

static char err[512];
static char root[256];

static const char *at(const char *rel) {
  static char buf[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", root, rel);
  return buf[i];
}

static int file_mode(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static X509 *load_cert(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  return x;
}

/* Does cert chain to ca for the given purpose (X509_PURPOSE_SSL_SERVER / _CLIENT)? */
static int verifies(const char *ca_path, const char *cert_path, int purpose) {
  X509 *ca = load_cert(ca_path), *x = load_cert(cert_path);
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int ok =
      ca && x && st && ctx && X509_STORE_add_cert(st, ca) == 1 && X509_STORE_CTX_init(ctx, st, x, NULL) == 1;
  if (ok) {
    X509_STORE_CTX_set_purpose(ctx, purpose);
    ok = X509_verify_cert(ctx) == 1;
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  X509_free(ca);
  X509_free(x);
  return ok;
}

static void cn_of(X509 *x, char *out, size_t len) {
  out[0] = '\0';
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len);
}

static void test_agent_id_rules(void) {
  CHECK(pki_agent_id_valid("agent-001"));
  CHECK(pki_agent_id_valid("A.b_c-9"));
  CHECK(pki_agent_id_valid("x"));
  char id64[65], id65[66];
  memset(id64, 'a', 64);
  id64[64] = '\0';
  memset(id65, 'a', 65);
  id65[65] = '\0';
  CHECK(pki_agent_id_valid(id64));
  CHECK(!pki_agent_id_valid(id65));
  CHECK(!pki_agent_id_valid(""));
  CHECK(!pki_agent_id_valid(NULL));
  CHECK(!pki_agent_id_valid("a/b"));
  CHECK(!pki_agent_id_valid("a b"));
  CHECK(!pki_agent_id_valid("h\xc3\xa9llo"));
  CHECK(!pki_agent_id_valid("a:b"));
}

static void test_init(void) {
  pki_result r;
  CHECK_INT(pki_init(at("pki"), NULL, NULL, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.cert, at("pki/ca.crt"));
  CHECK_STR(r.key, at("pki/ca.key"));
  CHECK(strncmp(r.subject, "CN=Tenet CA ", 12) == 0);
  CHECK_INT(file_mode(at("pki")), 0700);
  CHECK_INT(file_mode(at("pki/ca.key")), 0600);
  CHECK_INT(file_mode(at("pki/ca.crt")), 0644);
  X509 *ca = load_cert(at("pki/ca.crt"));
  REQUIRE(ca);
  CHECK_INT(X509_check_ca(ca), 1);
  CHECK(X509_check_issued(ca, ca) == X509_V_OK); /* self-signed */
  EVP_PKEY *pk = X509_get0_pubkey(ca);
  CHECK_INT(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
  CHECK_INT(EVP_PKEY_get_bits(pk), 256);
  X509_free(ca);

  /* never overwritten without force */
  FILE *f = fopen(at("pki/ca.crt"), "r");
  char before[64] = "";
  if (f) {
    CHECK(fread(before, 1, sizeof before - 1, f) > 0);
    fclose(f);
  }
  CHECK_INT(pki_init(at("pki"), NULL, NULL, &r, err, sizeof err), TN_EIO);
  CHECK(strstr(err, "already exists") != NULL);
  CHECK(strstr(err, "--force") != NULL);
  /* with force it is replaced (a new CA with a new name) */
  pki_options force = {1, 30};
  CHECK_INT(pki_init(at("pki2"), "My CA", NULL, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.subject, "CN=My CA");
  CHECK_INT(pki_init(at("pki2"), "Other CA", &force, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.subject, "CN=Other CA");
  CHECK_INT(file_mode(at("pki2/ca.key")), 0600);
  X509 *x = load_cert(at("pki2/ca.crt"));
  REQUIRE(x);
  char cn[128];
  cn_of(x, cn, sizeof cn);
  CHECK_STR(cn, "Other CA");
  X509_free(x);
  /* no temporary files left behind */
  DIR *d = opendir(at("pki2"));
  int entries = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') entries++;
  if (d) closedir(d);
  CHECK_INT(entries, 2);

  CHECK_INT(pki_init(at("no/such/parent"), NULL, NULL, &r, err, sizeof err), TN_EIO);
  CHECK_INT(pki_init(at("pki3"), "bad\nname", NULL, &r, err, sizeof err), TN_EUSAGE);
}

static void test_issue_manager(void) {
  pki_result r;
  CHECK_INT(pki_issue_manager(at("pki"), "manager.example", NULL, 0, NULL, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.cert, at("pki/manager.crt"));
  CHECK_STR(r.alt_names, "DNS:manager.example, DNS:localhost, IP:127.0.0.1");
  CHECK_INT(file_mode(at("pki/manager.key")), 0600);
  CHECK(verifies(at("pki/ca.crt"), at("pki/manager.crt"), X509_PURPOSE_SSL_SERVER));
  CHECK(!verifies(at("pki/ca.crt"), at("pki/manager.crt"), X509_PURPOSE_SSL_CLIENT));
  CHECK(!verifies(at("pki2/ca.crt"), at("pki/manager.crt"), X509_PURPOSE_SSL_SERVER));
  X509 *x = load_cert(at("pki/manager.crt"));
  REQUIRE(x);
  char cn[128];
  cn_of(x, cn, sizeof cn);
  CHECK_STR(cn, "manager.example");
  CHECK_INT(X509_check_host(x, "localhost", 0, 0, NULL), 1);
  CHECK_INT(X509_check_host(x, "manager.example", 0, 0, NULL), 1);
  CHECK_INT(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  CHECK_INT(X509_check_host(x, "other.example", 0, 0, NULL), 0);
  CHECK_INT(X509_check_ca(x), 0);
  X509_free(x);

  /* refuses to overwrite; --force replaces; explicit SANs replace the defaults */
  CHECK_INT(pki_issue_manager(at("pki"), "manager.example", NULL, 0, NULL, &r, err, sizeof err), TN_EIO);
  const char *sans[] = {"10.1.2.3", "mgr.internal", "::1", "mgr.internal"};
  pki_options force = {1, 0};
  CHECK_INT(pki_issue_manager(at("pki"), "Tenet manager", sans, 4, &force, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.alt_names,
            "IP:10.1.2.3, DNS:mgr.internal, IP:::1"); /* NAME is no DNS name; duplicates dropped */
  x = load_cert(at("pki/manager.crt"));
  REQUIRE(x);
  CHECK_INT(X509_check_ip_asc(x, "10.1.2.3", 0), 1);
  CHECK_INT(X509_check_ip_asc(x, "::1", 0), 1);
  CHECK_INT(X509_check_host(x, "mgr.internal", 0, 0, NULL), 1);
  CHECK_INT(X509_check_host(x, "localhost", 0, 0, NULL), 0);
  CHECK_INT(X509_check_ip_asc(x, "127.0.0.1", 0), 0);
  X509_free(x);

  const char *bad[] = {"bad host"};
  CHECK_INT(pki_issue_manager(at("pki"), "m", bad, 1, &force, &r, err, sizeof err), TN_EUSAGE);
  CHECK(strstr(err, "bad host") != NULL);
  CHECK_INT(pki_issue_manager(at("pki"), "", NULL, 0, &force, &r, err, sizeof err), TN_EUSAGE);
  CHECK_INT(pki_issue_manager(at("nope"), "m", NULL, 0, NULL, &r, err, sizeof err), TN_EKEY);
  CHECK(strstr(err, "tenet pki init") != NULL);
}

static void test_issue_agent(void) {
  pki_result r;
  CHECK_INT(pki_issue_agent(at("pki"), "agent-001", NULL, &r, err, sizeof err), TN_OK);
  CHECK_STR(r.cert, at("pki/agents/agent-001.crt"));
  CHECK_STR(r.key, at("pki/agents/agent-001.key"));
  CHECK_STR(r.subject, "CN=agent-001");
  CHECK_STR(r.alt_names, "");
  CHECK_INT(file_mode(at("pki/agents")), 0700);
  CHECK_INT(file_mode(at("pki/agents/agent-001.key")), 0600);
  CHECK(verifies(at("pki/ca.crt"), at("pki/agents/agent-001.crt"), X509_PURPOSE_SSL_CLIENT));
  CHECK(!verifies(at("pki/ca.crt"), at("pki/agents/agent-001.crt"), X509_PURPOSE_SSL_SERVER));
  X509 *x = load_cert(at("pki/agents/agent-001.crt"));
  REQUIRE(x);
  char cn[128];
  cn_of(x, cn, sizeof cn);
  CHECK_STR(cn, "agent-001");
  /* validity: the default from 5 minutes ago (clock skew) */
  int days = 0, secs = 0;
  CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1);
  CHECK_INT(days, PKI_CERT_DAYS_DEFAULT);
  CHECK(secs >= 299 && secs <= 301);
  X509_free(x);

  /* a second agent gets a different key and serial */
  CHECK_INT(pki_issue_agent(at("pki"), "agent-002", NULL, &r, err, sizeof err), TN_OK);
  X509 *a = load_cert(at("pki/agents/agent-001.crt")), *b = load_cert(at("pki/agents/agent-002.crt"));
  REQUIRE(a && b);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)) != 0);
  CHECK(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)) != 1);
  X509_free(a);
  X509_free(b);

  CHECK_INT(pki_issue_agent(at("pki"), "agent-001", NULL, &r, err, sizeof err), TN_EIO);
  CHECK(strstr(err, "already exists") != NULL);
  pki_options force = {1, 10};
  CHECK_INT(pki_issue_agent(at("pki"), "agent-001", &force, &r, err, sizeof err), TN_OK);
  CHECK_INT(file_mode(at("pki/agents/agent-001.key")), 0600);

  CHECK_INT(pki_issue_agent(at("pki"), "../evil", NULL, &r, err, sizeof err), TN_EUSAGE);
  CHECK(strstr(err, "invalid") != NULL);
  CHECK_INT(pki_issue_agent(at("pki"), "", NULL, &r, err, sizeof err), TN_EUSAGE);
  CHECK_INT(access(at("pki/evil.crt"), F_OK), -1);
  /* no CA: nothing is created */
  CHECK_INT(pki_issue_agent(at("empty"), "a1", NULL, &r, err, sizeof err), TN_EKEY);
  CHECK_INT(access(at("empty"), F_OK), -1);
}

/* A CA key that does not belong to the CA certificate is refused. */
static void test_mismatched_ca(void) {
  pki_result r;
  REQUIRE(pki_init(at("mix"), NULL, NULL, &r, err, sizeof err) == TN_OK);
  FILE *in = fopen(at("pki2/ca.key"), "r"), *out = fopen(at("mix/ca.key"), "w");
  REQUIRE(in && out);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, in);
  fwrite(buf, 1, n, out);
  fclose(in);
  fclose(out);
  CHECK_INT(pki_issue_agent(at("mix"), "a1", NULL, &r, err, sizeof err), TN_EKEY);
  CHECK(strstr(err, "does not belong") != NULL);
}

int main(void) {
  snprintf(root, sizeof root, "%s/tenet-test-pki-XXXXXX", test_env("TMPDIR", "/tmp"));
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_agent_id_rules);
  RUN(test_init);
  RUN(test_issue_manager);
  RUN(test_issue_agent);
  RUN(test_mismatched_ca);
  test_rm_rf(root);
  return test_report();
}
