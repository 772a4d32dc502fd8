/* replay_main.c — run a libFuzzer harness without libFuzzer.
 *
 * Linked with one tests/fuzz/fuzz_<name>.c, it calls LLVMFuzzerTestOneInput once per file named on
 * the command line, descending into directories (entries in sorted order, so runs are
 * reproducible). CTest runs it over tests/fuzz/corpus/<name>/ on every build, which turns the seed
 * corpus and every crash ever found into ordinary regression tests; under the sanitizer build a
 * bad input aborts the run. Exit status: 0 when every input ran, 1 when a path could not be read
 * or no input was found at all (an empty corpus is a configuration mistake, not a pass). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t ninputs, nerrors;

static void run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
    nerrors++;
    return;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (len == cap) {
      uint8_t *n = realloc(buf, cap * 2);
      if (!n) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = n;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    nerrors++;
    return;
  }
  /* Hand the harness an exact-size copy, as libFuzzer does, so overreads are caught. */
  uint8_t *exact = malloc(len ? len : 1);
  if (exact) {
    if (len) memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    ninputs++;
  } else {
    nerrors++;
  }
  free(exact);
  free(buf);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    nerrors++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    run_file(path);
    return;
  }
  DIR *d = opendir(path);
  if (!d) {
    fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
    nerrors++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue; /* ., .., and hidden files such as .gitkeep */
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) break;
      names = nn;
    }
    if (asprintf(&names[n], "%s/%s", path, e->d_name) < 0) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    run_path(names[i]);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) run_path(argv[i]);
  printf("replayed %zu input(s), %zu error(s)\n", ninputs, nerrors);
  return nerrors || ninputs == 0 ? 1 : 0;
}
