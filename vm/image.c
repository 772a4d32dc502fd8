/* image.c — loading a program into the VM: every regex compiled (and JIT-ed) once per load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

vm_image *vm_image_load(const program *p, char *err, size_t errlen) {
  vm_image *img = calloc(1, sizeof *img);
  if (!img || (p->nregexes && !(img->rx = calloc(p->nregexes, sizeof *img->rx)))) {
    free(img);
    snprintf(err, errlen, "out of memory loading policy");
    return NULL;
  }
  img->prog = p;
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    if (r->flags & RXF_BAD) continue;
    char why[256];
    unsigned flags = (r->flags & RXF_CASELESS) ? RXF_CASELESS : 0;
    const char *lowered = (r->flags & RXF_LOWERED) ? program_str(p, r->lowered) : NULL;
    img->rx[i] = rx_compile(program_str(p, r->source), r->dialect, flags, lowered, why, sizeof why);
    if (img->rx[i] && lowered) img->nlowered++;
  }
  return img;
}

void vm_image_free(vm_image *img) {
  if (!img) return;
  for (uint32_t i = 0; img->rx && i < img->prog->nregexes; i++) rx_free(img->rx[i]);
  free(img->rx);
  free(img);
}

void vm_ctx_init(eval_ctx *c, const vm_image *img, scan_cache *cache, const eval_options *opt) {
  memset(c, 0, sizeof *c);
  c->prog = img->prog;
  c->rx = img->rx;
  c->cache = cache;
  c->opt = opt;
}
