/* bench_compile.c — compile speed: for every policy under SHARED/corpus, the median time to compile
 * it in memory (YAML → AST → bytecode → bundle bytes) and its ratio to the floor, a bare libyaml
 * parse of the same bytes (the event stream, no tree). Usage: bench_compile [SHARED_DIR] [REPS]. */
#include <dirent.h>
#include <yaml.h>

#include "bench_util.h"
#include "bundle.h"
#include "compile.h"

#define MAX_POLICIES 256

static double parse_floor(const char *data, size_t len) {
  double t0 = bench_now();
  yaml_parser_t p;
  yaml_event_t ev;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
  for (;;) {
    if (!yaml_parser_parse(&p, &ev)) break;
    int done = ev.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (done) break;
  }
  yaml_parser_delete(&p);
  return bench_now() - t0;
}

static double compile_once(const char *path, const char *data, size_t len, int *ok) {
  double t0 = bench_now();
  diag_list *d = diag_list_new();
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_buffer(path, data, len, &co, d);
  uint8_t *bytes = NULL;
  size_t n = 0;
  char err[256];
  *ok = p && bundle_write(p, NULL, &bytes, &n, err, sizeof err) == 0;
  free(bytes);
  program_free(p);
  diag_list_free(d);
  return bench_now() - t0;
}

static int collect(const char *dir, char **out, int n) {
  DIR *d = opendir(dir);
  if (!d) return n;
  struct dirent *e;
  while ((e = readdir(d)) && n < MAX_POLICIES) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t l = strlen(e->d_name);
    if (l > 4 && strcmp(e->d_name + l - 4, ".yml") == 0) out[n++] = strdup(path);
    else if (e->d_type == DT_DIR) n = collect(path, out, n);
  }
  closedir(d);
  return n;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  const char *shared = bench_shared_dir(argc, argv);
  int reps = argc > 2 ? atoi(argv[2]) : 9;
  if (reps < 1) reps = 9;
  char corpus[4096];
  snprintf(corpus, sizeof corpus, "%s/corpus", shared);
  char *files[MAX_POLICIES];
  int n = collect(corpus, files, 0);
  if (!n) {
    fprintf(stderr, "bench_compile: no policies under %s\n", corpus);
    return 1;
  }
  qsort(files, (size_t)n, sizeof *files, by_name);
  printf("%-62s %9s %10s %10s %7s\n", "policy", "bytes", "parse ms", "compile ms", "ratio");
  double tot_parse = 0, tot_compile = 0, worst_ratio = 0, big_ratio = 0;
  size_t biggest = 0;
  double *tp = calloc((size_t)reps, sizeof *tp), *tc = calloc((size_t)reps, sizeof *tc);
  for (int i = 0; i < n; i++) {
    size_t len;
    char *data = bench_read_file(files[i], &len);
    if (!data) continue;
    int ok = 1;
    for (int r = 0; r < reps; r++) { /* interleaved, so both see the same machine state */
      tp[r] = parse_floor(data, len);
      tc[r] = compile_once(files[i], data, len, &ok);
    }
    double mp = bench_median(tp, reps), mc = bench_median(tc, reps), ratio = mc / mp;
    const char *name = strstr(files[i], "corpus/") ? strstr(files[i], "corpus/") + 7 : files[i];
    printf("%-62s %9zu %10.3f %10.3f %7.2f%s\n", name, len, mp * 1e3, mc * 1e3, ratio, ok ? "" : "  (compile failed)");
    tot_parse += mp;
    tot_compile += mc;
    if (ratio > worst_ratio) worst_ratio = ratio;
    if (len > biggest) biggest = len, big_ratio = ratio;
    free(data);
  }
  printf("%-62s %9s %10.3f %10.3f %7.2f\n", "TOTAL (sum of medians)", "", tot_parse * 1e3, tot_compile * 1e3,
         tot_compile / tot_parse);
  printf("largest policy (%zu bytes): ratio %.2f (target <= 3); worst ratio %.2f; %d reps, medians\n", biggest,
         big_ratio, worst_ratio, reps);
  for (int i = 0; i < n; i++) free(files[i]);
  free(tp);
  free(tc);
  return 0;
}
