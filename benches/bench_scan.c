/* bench_scan.c — scan speed on this host: cis_debian12.yml + sca_distro_independent_linux.yml
 * (Wazuh 4.14.7 corpus), compiled once, scanned repeatedly (together, as `tenet scan A B` does): median wall time with the worker pool
 * and the per-scan cache on (default jobs) and with both off (--jobs 1 --no-cache), interleaved.
 * Usage: bench_scan [SHARED_DIR] [REPS]. */
#include <sys/resource.h>
#include <unistd.h>

#include "bench_util.h"
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

static double self_cpu, child_cpu; /* CPU seconds of the last scan_all: this process, its commands */

static double scan_all(vm_image **imgs, int jobs, int cache_on, size_t *checks, size_t *cmds) {
  double s0 = cpu_of(RUSAGE_SELF), c0 = cpu_of(RUSAGE_CHILDREN);
  double t0 = bench_now();
  scan_cache *cache = scan_cache_new(cache_on);
  scan_options so = {.jobs = jobs, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 1};
  *checks = 0;
  policy_scan s[NPOL];
  if (scan_run_many((const vm_image *const *)imgs, NULL, NPOL, cache, &so, s) == 0)
    for (int i = 0; i < NPOL; i++) *checks += s[i].nchecks;
  for (int i = 0; i < NPOL; i++) policy_scan_free(&s[i]);
  *cmds = scan_cache_commands_run(cache);
  scan_cache_free(cache);
  double wall = bench_now() - t0;
  self_cpu = cpu_of(RUSAGE_SELF) - s0;
  child_cpu = cpu_of(RUSAGE_CHILDREN) - c0;
  return wall;
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
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  double *on = calloc((size_t)reps, sizeof *on), *off = calloc((size_t)reps, sizeof *off);
  double *on_self = calloc((size_t)reps, sizeof *on), *on_child = calloc((size_t)reps, sizeof *on);
  size_t checks_on = 0, checks_off = 0, cmds_on = 0, cmds_off = 0;
  scan_all(imgs, 0, 1, &checks_on, &cmds_on); /* warm the page cache once */
  for (int r = 0; r < reps; r++) {
    off[r] = scan_all(imgs, 1, 0, &checks_off, &cmds_off);
    on[r] = scan_all(imgs, 0, 1, &checks_on, &cmds_on);
    on_self[r] = self_cpu;
    on_child[r] = child_cpu;
  }
  double mon = bench_median(on, reps), moff = bench_median(off, reps);
  printf("policies: %s + %s\n", policies[0], policies[1]);
  printf("checks evaluated per scan: %zu (pool+cache) / %zu (sequential, no cache)\n", checks_on, checks_off);
  printf("commands executed per scan: %zu with cache, %zu without\n", cmds_on, cmds_off);
  printf("pool+cache (%ld workers): median %.3f s  (CPU: tenet %.3f s, commands %.3f s)\n", cores, mon,
         bench_median(on_self, reps), bench_median(on_child, reps));
  printf("jobs 1, no cache:        median %.3f s\n", moff);
  printf("speed-up: %.2fx; vs the Wazuh 4.14.7 reference of 2.1 s: %.2fx (%d reps each, interleaved)\n", moff / mon,
         2.1 / mon, reps);
  for (int i = 0; i < NPOL; i++) {
    vm_image_free(imgs[i]);
    program_free(progs[i]);
  }
  free(on);
  free(off);
  free(on_self);
  free(on_child);
  return 0;
}
