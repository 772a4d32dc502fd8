/* test_isa.c — the ISA is declared once (vm/opcodes.def); changing it without bumping
 * VM_ISA_VERSION would let old agents misread new bundles. This test pins the file's hash to the
 * version: after changing opcodes.def, bump VM_ISA_VERSION and add the new hash below. */
#include <stdio.h>

#include "crypto.h"
#include "opcodes.h"
#include "test.h"

static const struct {
  int version;
  const char *sha256;
} pinned[] = {
    {1, "1ae46e3960e9b276f664f732690b31e6841ab90f3368ba298f29d42ac3f09f7d"},
};

static void test_opcodes_def_hash_matches_isa_version(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/vm/opcodes.def", test_env("TENET_SOURCE_DIR", "."));
  uint8_t d[32];
  char hex[65];
  REQUIRE(crypto_sha256_file(path, d) == 0);
  crypto_hex(d, 32, hex);
  int found = 0;
  for (size_t i = 0; i < sizeof pinned / sizeof *pinned; i++) {
    if (pinned[i].version != VM_ISA_VERSION) continue;
    found = 1;
    if (strcmp(pinned[i].sha256, hex) != 0)
      fprintf(stderr, "vm/opcodes.def changed (sha256 %s): bump VM_ISA_VERSION and pin the new hash here\n", hex);
    CHECK_STR(hex, pinned[i].sha256);
  }
  CHECK(found);
  CHECK_INT(pinned[sizeof pinned / sizeof *pinned - 1].version, VM_ISA_VERSION);
}

static void test_every_opcode_has_name_and_notation(void) {
  for (unsigned op = 0; op < OP__COUNT; op++) {
    CHECK(vm_opcode_name(op) != NULL);
    CHECK(vm_opcode_notation(op) != NULL && vm_opcode_notation(op)[0] != '\0');
  }
  CHECK(vm_opcode_name(OP__COUNT) == NULL);
  CHECK_STR(vm_opcode_name(OP_FILE), "FILE");
  CHECK_STR(vm_opcode_name(OP_MEND), "MEND");
  CHECK_STR(vm_cmp_name(CMP_LE), "<=");
  CHECK_STR(vm_condition_name(COND_NONE), "none");
}

int main(void) {
  RUN(test_opcodes_def_hash_matches_isa_version);
  RUN(test_every_opcode_has_name_and_notation);
  return test_report();
}
