/* test_isa.c — the ISA is declared once (vm/opcodes.def, its operand kinds in vm/operands.def);
 * changing its encoding without bumping VM_ISA_VERSION would let old agents misread new bundles.
 * This test pins, per version, the SHA-256 of the encoding as the tables define it: the size of an
 * instruction, the flag bits, the condition and comparison values, and every opcode's number,
 * name, class, allowed flags and the domain of each operand slot (string, regex, address, ...).
 * Comments, notation lines, disassembly prefixes and the finer operand kinds (optional or not,
 * which address) are documentation and verification, not encoding: they change no hash. After a
 * change that does, bump VM_ISA_VERSION (top of opcodes.def) and add the new hash below. */
#include <stdio.h>

#include "crypto.h"
#include "opcodes.h"
#include "program.h"
#include "strbuf.h"
#include "test.h"

static const struct {
  int version;
  const char *sha256;
} pinned[] = {
    {1, "972c2ae467a0f4f305600d9554c301d201e807932316c08720d6378eb4b19051"},
};

/* The encoding, as text (one line per item). */
static char *encoding_text(void) {
  strbuf b = STRBUF_INIT;
  strbuf_printf(&b, "insn %zu bytes: op flags x a b c\n", sizeof(insn));
  strbuf_printf(&b, "flag F_NEG %u\nflag F_NOSHORT %u\n", F_NEG, F_NOSHORT);
  for (unsigned cond = 0; cond < 256; cond++)
    if (strcmp(vm_condition_name(cond), "?") != 0) strbuf_printf(&b, "cond %s %u\n", vm_condition_name(cond), cond);
  for (unsigned cmp = 0; cmp < 256; cmp++)
    if (vm_cmp_known(cmp)) strbuf_printf(&b, "cmp %s %u\n", vm_cmp_name(cmp), cmp);
  for (unsigned op = 0; op < OP__COUNT; op++) {
    const vm_opinfo *o = vm_opcode_info(op);
    strbuf_printf(&b, "op %u %s %s flags %u", op, o->name, vm_opclass_name(o->cls), o->flags);
    for (int s = 0; s < SLOT__COUNT; s++)
      strbuf_printf(&b, " %c:%s", "xabc"[s], vm_operand_kind_info(o->kind[s])->domain);
    strbuf_putc(&b, '\n');
  }
  return strbuf_take(&b);
}

static void test_encoding_hash_matches_isa_version(void) {
  char *text = encoding_text();
  REQUIRE(text != NULL);
  uint8_t d[32];
  char hex[65];
  crypto_sha256(text, strlen(text), d);
  crypto_hex(d, 32, hex);
  int found = 0;
  for (size_t i = 0; i < sizeof pinned / sizeof *pinned; i++) {
    if (pinned[i].version != VM_ISA_VERSION) continue;
    found = 1;
    if (strcmp(pinned[i].sha256, hex) != 0)
      fprintf(stderr, "the ISA's encoding changed (sha256 %s): bump VM_ISA_VERSION and pin the new hash here.\n"
                      "The encoding now reads:\n%s", hex, text);
    CHECK_STR(hex, pinned[i].sha256);
  }
  CHECK(found);
  CHECK_INT(pinned[sizeof pinned / sizeof *pinned - 1].version, VM_ISA_VERSION);
  free(text);
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
  RUN(test_encoding_hash_matches_isa_version);
  RUN(test_every_opcode_has_name_and_notation);
  return test_report();
}
