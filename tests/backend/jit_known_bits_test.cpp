// Free truncations (regalloc.cpp known_bits): a Trunc of a value whose upper bits are known to
// be zero costs no host code, and one whose upper bits may be set still clears them.
#include "tests/backend/jit_harness.h"

namespace corvid::jittest {
namespace {

using ir::Opcode;
using ir::Type;
using ir::ValueId;

TEST(JitKnownBits, TruncOfNarrowValuesIsFreeAndCorrect) {
    Jit jit;
    JitCpu cpu;
    jit.map_ram(cpu);
    ir::Block blk;
    ir::Builder b(blk);
    blk.guest_insns = 1;
    ValueId addr = b.get_state(Type::I64, st(0));
    ValueId byte = b.load(Type::I64, addr, 0);                            // 8 significant bits
    const size_t free_trunc = blk.insts.size();
    ValueId t8 = b.trunc(Type::I8, byte);                                  // free
    ValueId wide = b.get_state(Type::I64, st(1));
    ValueId masked = b.lshr(wide, b.c64(40));                              // 24 bits
    const size_t free_trunc2 = blk.insts.size();
    ValueId t32 = b.trunc(Type::I32, masked);                              // free
    const size_t real_trunc = blk.insts.size();
    ValueId t16 = b.trunc(Type::I16, masked);                              // must clear bits 16..23
    b.set_state(st(2), b.zext(Type::I64, t8));
    b.set_state(st(3), b.zext(Type::I64, t32));
    b.set_state(st(4), b.zext(Type::I64, t16));
    b.set_state(st(5), b.zext(Type::I64, b.trunc(Type::I8, wide)));        // not known: clears
    b.exit_halt(ir::HaltReason::kStop);

    jit.ram.bytes[5] = 0xa7;
    cpu.set(st(0), kRamVa + 5);
    cpu.set(st(1), 0xfedcba9876543210ull);
    ExitInfo e = jit.run(blk, cpu);
    ASSERT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(cpu.get(st(2)), 0xa7u);
    EXPECT_EQ(cpu.get(st(3)), 0xfedcbau);
    EXPECT_EQ(cpu.get(st(4)), 0xdcbau);
    EXPECT_EQ(cpu.get(st(5)), 0x10u);
    const auto& off = jit.backend.last_compile().inst_offsets;
    EXPECT_EQ(off[free_trunc + 1], off[free_trunc]);
    EXPECT_EQ(off[free_trunc2 + 1], off[free_trunc2]);
    EXPECT_GT(off[real_trunc + 1], off[real_trunc]);
}

}  // namespace
}  // namespace corvid::jittest
