/* bench_util.h — shared helpers of the benchmark programs: a monotonic clock, medians, file reading. */
#ifndef TENET_BENCH_UTIL_H
#define TENET_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The shared/ folder whose corpus/ the corpus benchmarks read: argv[1] when given, else
 * $TENET_SHARED_DIR, else ../shared (relative to the current directory: run them from the
 * repository root). Never a path fixed at build time. */
static inline const char *bench_shared_dir(int argc, char **argv) {
  if (argc > 1) return argv[1];
  const char *env = getenv("TENET_SHARED_DIR");
  return env && *env ? env : "../shared";
}

/* Median of n samples (sorts them in place). */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Read a whole file; caller frees. NULL on error. */
static inline char *bench_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    return NULL;
  }
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

#endif
