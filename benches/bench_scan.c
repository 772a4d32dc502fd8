/* bench_scan.c — scan speed on this host: cis_debian12.yml + sca_distro_independent_linux.yml
 * (Wazuh 4.14.7 corpus), compiled once, scanned repeatedly (together, as `tenet scan A B` does),
 * in three modes interleaved within each repetition:
 *   builtins     worker pool + per-scan cache + builtins (the default)
 *   no-builtins  worker pool + per-scan cache, every command forked
 *   wazuh-like   --jobs 1 --no-cache --no-builtins: one command after another, as Wazuh runs them
 * Reports medians of wall time and of CPU (getrusage RUSAGE_SELF + RUSAGE_CHILDREN deltas: tenet's
 * own CPU plus the commands'). Usage: bench_scan [SHARED_DIR] [REPS]. */
#include <sys/resource.h>
#include <unistd.h>

#include "bench_util.h"
#include "builtin.h"
#include "cache.h"
#include "compile.h"
#include "scan.h"
#include "vm.h"

static const char *const policies[] = {"wazuh-4.14.7/debian/cis_debian12.yml",
                                       "wazuh-4.14.7/generic/sca_distro_independent_linux.yml"};
#define NPOL 2

static double cpu_of(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

enum { M_BUILTINS, M_NO_BUILTINS, M_WAZUH, NMODES };
static const char *const mode_name[NMODES] = {"builtins (pool+cache)", "no builtins (pool+cache)",
                                              "wazuh-like (jobs 1, no cache, no builtins)"};

typedef struct sample {
  double wall, self, child;
  size_t checks, asked, native;
} sample;

static sample scan_all(vm_image **imgs, int mode) {
  sample s = {0};
  builtin_set_enabled(mode == M_BUILTINS);
  size_t native0 = builtin_answered_count();
  double s0 = cpu_of(RUSAGE_SELF), c0 = cpu_of(RUSAGE_CHILDREN);
  double t0 = bench_now();
  scan_cache *cache = scan_cache_new(mode != M_WAZUH);
  scan_options so = {.jobs = mode == M_WAZUH ? 1 : 0, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 1};
  policy_scan ps[NPOL];
  if (scan_run_many((const vm_image *const *)imgs, NULL, NPOL, cache, &so, ps) == 0)
    for (int i = 0; i < NPOL; i++)
      s.checks += ps[i].nchecks;
  for (int i = 0; i < NPOL; i++)
    policy_scan_free(&ps[i]);
  s.asked = scan_cache_commands_run(cache);
  scan_cache_free(cache);
  s.wall = bench_now() - t0;
  s.self = cpu_of(RUSAGE_SELF) - s0;
  s.child = cpu_of(RUSAGE_CHILDREN) - c0;
  s.native = builtin_answered_count() - native0;
  return s;
}

int main(int argc, char **argv) {
  const char *shared = bench_shared_dir(argc, argv);
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1) reps = 5;
  program *progs[NPOL];
  vm_image *imgs[NPOL];
  for (int i = 0; i < NPOL; i++) {
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/corpus/%s", shared, policies[i]);
    diag_list *d = diag_list_new();
    compile_options co = COMPILE_OPTIONS_DEFAULT;
    progs[i] = compile_policy_file(path, &co, d);
    diag_list_free(d);
    if (!progs[i] || !(imgs[i] = vm_image_load(progs[i], err, sizeof err))) {
      fprintf(stderr, "bench_scan: cannot compile %s\n", path);
      return 1;
    }
  }
  double *wall[NMODES], *cpu[NMODES], *self[NMODES], *child[NMODES];
  sample last[NMODES];
  for (int m = 0; m < NMODES; m++) {
    wall[m] = calloc((size_t)reps, sizeof(double));
    cpu[m] = calloc((size_t)reps, sizeof(double));
    self[m] = calloc((size_t)reps, sizeof(double));
    child[m] = calloc((size_t)reps, sizeof(double));
  }
  scan_all(imgs, M_BUILTINS); /* warm the page cache and the command costs once */
  for (int r = 0; r < reps; r++)
    for (int m = NMODES - 1; m >= 0; m--) {
      sample s = scan_all(imgs, m);
      wall[m][r] = s.wall;
      cpu[m][r] = s.self + s.child;
      self[m][r] = s.self;
      child[m][r] = s.child;
      last[m] = s;
    }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  printf("policies: %s + %s (%zu checks per scan), %ld cores, %d reps interleaved\n", policies[0],
         policies[1], last[0].checks, cores, reps);
  double mw[NMODES];
  for (int m = 0; m < NMODES; m++) {
    mw[m] = bench_median(wall[m], reps);
    printf("%-44s wall %.3f s  CPU %.3f s (tenet %.3f + commands %.3f)  commands asked %zu, answered "
           "natively %zu\n",
           mode_name[m], mw[m], bench_median(cpu[m], reps), bench_median(self[m], reps),
           bench_median(child[m], reps), last[m].asked, last[m].native);
  }
  printf("wall: builtins / wazuh-like = %.3f; builtins / no builtins = %.3f\n", mw[M_BUILTINS] / mw[M_WAZUH],
         mw[M_BUILTINS] / mw[M_NO_BUILTINS]);
  for (int i = 0; i < NPOL; i++) {
    vm_image_free(imgs[i]);
    program_free(progs[i]);
  }
  for (int m = 0; m < NMODES; m++) {
    free(wall[m]);
    free(cpu[m]);
    free(self[m]);
    free(child[m]);
  }
  return 0;
}
