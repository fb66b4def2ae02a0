// JIT mechanics without an engine: memory fast/slow paths, exits and their ExitInfo, linking,
// helper calls, register pressure, in-block loops, buffer exhaustion, and golden host
// instruction counts for the paths that matter (TLB-hit access, chained block entry).
#include <algorithm>
#include <sstream>

#include "tests/backend/jit_harness.h"
#include "translator/ir/eval.h"

namespace corvid::jittest {
namespace {

using ir::Opcode;
using ir::Type;

unsigned host_insns(const x64::X64Backend& be, size_t inst) {
    const auto& lc = be.last_compile();
    return x64::X64Backend::count_host_insns(lc.code + lc.inst_offsets[inst],
                                              lc.inst_offsets[inst + 1] - lc.inst_offsets[inst]);
}

// --- golden code quality -------------------------------------------------------------------

TEST(JitGolden, TlbHitLoadIsNineHostInstructions) {
    Jit jit;
    ir::Block blk;
    ir::Builder b(blk);
    ir::ValueId a = b.get_state(Type::I64, st(0));
    ir::ValueId v = b.load(Type::I64, a, 3);  // inst 1
    b.set_state(st(1), v);
    b.exit_halt(ir::HaltReason::kStop);
    ASSERT_NE(jit.compile(blk), nullptr);
    // index, mask, tag, compare, branch, addend, access: see REGALLOC.md / cpu.h.
    EXPECT_EQ(host_insns(jit.backend, 1), 9u);
}

TEST(JitGolden, TlbHitStoreIsNineHostInstructions) {
    Jit jit;
    ir::Block blk;
    ir::Builder b(blk);
    ir::ValueId a = b.get_state(Type::I64, st(0));
    ir::ValueId v = b.get_state(Type::I32, st(1));
    b.store(a, v, 2);  // inst 2
    b.exit_halt(ir::HaltReason::kStop);
    ASSERT_NE(jit.compile(blk), nullptr);
    EXPECT_EQ(host_insns(jit.backend, 2), 9u);
}

TEST(JitGolden, ChainedEntryCheckIsTwoInstructions) {
    Jit jit;
    ir::Block blk;
    ir::Builder b(blk);
    b.exit_halt(ir::HaltReason::kStop);
    ASSERT_NE(jit.compile(blk), nullptr);
    const auto& lc = jit.backend.last_compile();
    // cmp dword [r15+exit_request], 0 ; jne exit  (+ the patched jmp = 3 per transition)
    EXPECT_EQ(x64::X64Backend::count_host_insns(lc.code, lc.entry_end), 2u);

    Jit counting(1u << 20, true);
    blk.guest_insns = 4;
    ASSERT_NE(counting.compile(blk), nullptr);
    const auto& lc2 = counting.backend.last_compile();
    EXPECT_EQ(x64::X64Backend::count_host_insns(lc2.code, lc2.entry_end), 3u);
}

// The AArch64 `cmp x, y; b.ne` shape: a - ~b + 1 for its flags only, N Z C V stored, branch
// on Z. The subtraction is a host `cmp` (no copy of the difference), the four flags go
// straight from the host flags to memory (two qword clears, four setcc), the branch reads ZF.
TEST(JitGolden, CompareAndBranchOnFlagsIsCmpAndSetcc) {
    struct Case {
        uint64_t x, y;
        uint32_t n, z, c, v;
    };
    const Case cases[] = {{5, 5, 0, 1, 1, 0},
                          {3, 5, 1, 0, 0, 0},
                          {0x8000000000000000ull, 1, 0, 0, 1, 1},
                          {7, 2, 0, 0, 1, 0}};
    for (const Case& c : cases) {
        Jit jit;
        ir::Block blk;
        blk.guest_pc = 0x1000;
        ir::Builder b(blk);
        ir::ValueId y = b.get_state(Type::I64, st(1));
        ir::ValueId x = b.get_state(Type::I64, st(0));
        ir::ValueId ny = b.unop(Opcode::Not, y);
        ir::ValueId one = b.c32(1);
        ir::ValueId d = b.add_with_carry(x, ny, one);  // inst 4
        ir::ValueId cf = b.add_carry(x, ny, one);
        ir::ValueId vf = b.add_overflow(x, ny, one);
        ir::ValueId zf = b.cmp(Opcode::CmpEq, d, b.c64(0));
        ir::ValueId nf = b.cmp(Opcode::CmpLtS, d, b.c64(0));
        b.set_state(st(2), nf);
        b.set_state(st(2) + 4, zf);
        b.set_state(st(3), cf);
        b.set_state(st(3) + 4, vf);
        b.exit_cond(zf, 0x2000, 0x3000);
        JitCpu cpu;
        cpu.set(st(0), c.x);
        cpu.set(st(1), c.y);
        cpu.set(st(2), ~0ull);
        cpu.set(st(3), ~0ull);
        const ExitInfo e = jit.run(blk, cpu);
        ASSERT_EQ(e.kind, ExitKind::kLink);
        EXPECT_EQ(e.slot, c.z ? 0u : 1u);
        EXPECT_EQ(cpu.get(st(2)), uint64_t(c.n) | uint64_t(c.z) << 32) << c.x << " " << c.y;
        EXPECT_EQ(cpu.get(st(3)), uint64_t(c.c) | uint64_t(c.v) << 32) << c.x << " " << c.y;
        const auto& lc = jit.backend.last_compile();
        const size_t n = lc.inst_offsets.size() - 1;
        // 2 loads, 2 clears, cmp, 4 setcc, jcc, the two patchable jmps and up to two nops that
        // align their rel32 fields (18 before flags-only compares and branch-read flag stores).
        const unsigned body = x64::X64Backend::count_host_insns(lc.code + lc.entry_end,
                                                                lc.inst_offsets[n] - lc.entry_end);
        EXPECT_LE(body, 14u);
        EXPECT_EQ(host_insns(jit.backend, 4), 3u);  // the two qword clears and the cmp
    }
}

TEST(JitGolden, RepeatedGetStateIsForwarded) {
    Jit jit;
    ir::Block blk;
    ir::Builder b(blk);
    ir::ValueId x = b.get_state(Type::I64, st(0));
    ir::ValueId y = b.get_state(Type::I64, st(0));  // inst 1: same value, no reload
    b.set_state(st(1), b.add(x, y));
    b.set_state(st(2), y);
    ir::ValueId z = b.get_state(Type::I64, st(2));  // inst 5: forwarded from the SetState
    b.set_state(st(3), z);
    b.exit_halt(ir::HaltReason::kStop);
    JitCpu cpu;
    cpu.set(st(0), 21);
    ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(host_insns(jit.backend, 1), 0u);
    EXPECT_EQ(host_insns(jit.backend, 5), 0u);
    EXPECT_EQ(cpu.get(st(1)), 42u);
    EXPECT_EQ(cpu.get(st(3)), 21u);
}

// --- memory ---------------------------------------------------------------------------------

struct MemCase {
    Type type;
    uint32_t flags;
};

TEST(JitMemory, LoadsOfEverySizeAndSignednessHitAndMiss) {
    const MemCase cases[] = {{Type::I8, 0},  {Type::I32, 0 | ir::kMemSigned}, {Type::I16, 0 | ir::kMemSigned},
                             {Type::I64, 1 | ir::kMemSigned}, {Type::I32, 1}, {Type::I64, 2 | ir::kMemSigned},
                             {Type::I64, 2}, {Type::I64, 3}, {Type::I16, 1}, {Type::I8, 0 | ir::kMemSigned}};
    for (bool mapped : {true, false}) {
        for (const MemCase& c : cases) {
            Jit jit;
            JitCpu cpu;
            if (mapped) jit.map_ram(cpu);
            const uint64_t pattern = 0xf1e2d3c4b5a69788ull;
            std::memcpy(jit.ram.bytes + 0x100, &pattern, 8);
            ir::Block blk;
            ir::Builder b(blk);
            b.set_pc(0x4444);
            ir::ValueId a = b.get_state(Type::I64, st(0));
            b.set_state(st(1), b.load(c.type, a, c.flags));
            b.exit_halt(ir::HaltReason::kStop);
            cpu.set(st(0), kRamVa + 0x100);
            cpu.set(st(1), 0);
            ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
            const unsigned size = ir::mem_size_bytes(c.flags);
            uint64_t raw = size == 8 ? pattern : pattern & ((1ull << (8 * size)) - 1);
            uint64_t want = (c.flags & ir::kMemSigned) ? uint64_t(ir::sign_extend(size == 1   ? Type::I8
                                                                                   : size == 2 ? Type::I16
                                                                                   : size == 4 ? Type::I32
                                                                                               : Type::I64,
                                                                                   raw))
                                                        : raw;
            want &= ir::width_mask(c.type);
            EXPECT_EQ(cpu.get(st(1), ir::bit_width(c.type) / 8), want)
                << "mapped=" << mapped << " type=" << ir::type_name(c.type) << " flags=" << c.flags;
            EXPECT_EQ(jit.ram.slow_loads, mapped ? 0u : 1u);
            if (!mapped) {
                EXPECT_EQ(jit.ram.last_pc, 0x4444u);
            }
        }
    }
}

TEST(JitMemory, MisalignedReadOnlyAndUnmappedTakeTheSlowPath) {
    Jit jit;
    JitCpu cpu;
    jit.map_ram(cpu, /*writable=*/false);
    ir::Block blk;
    ir::Builder b(blk);
    ir::ValueId a = b.get_state(Type::I64, st(0));
    ir::ValueId v = b.get_state(Type::I64, st(1));
    b.set_pc(0x10);
    b.store(a, v, 3);  // write tag invalid: slow path
    b.set_pc(0x14);
    ir::ValueId l1 = b.load(Type::I64, a, 3);  // aligned hit
    ir::ValueId a2 = b.add(a, b.c64(3));
    b.set_pc(0x18);
    ir::ValueId l2 = b.load(Type::I32, a2, 2);  // misaligned: slow path
    b.set_state(st(2), l1);
    b.set_state(st(3), l2);
    b.exit_halt(ir::HaltReason::kStop);
    cpu.set(st(0), kRamVa + 0x2000);
    cpu.set(st(1), 0x0102030405060708ull);
    ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(jit.ram.slow_stores, 1u);
    EXPECT_EQ(jit.ram.slow_loads, 1u);
    EXPECT_EQ(jit.ram.last_pc, 0x18u);
    EXPECT_EQ(cpu.get(st(2)), 0x0102030405060708ull);
    EXPECT_EQ(cpu.get(st(3), 4), 0x02030405u);
}

TEST(JitMemory, SlowPathPreservesLiveCallerSavedValues) {
    // Many values live across a missing load: the cold path must save and restore them.
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    ir::Builder b(blk);
    std::vector<ir::ValueId> vals;
    for (unsigned k = 0; k < 10; ++k) vals.push_back(b.get_state(Type::I64, st(k)));
    ir::ValueId l = b.load(Type::I64, b.c64(kRamVa + 8), 3);
    ir::ValueId sum = l;
    for (unsigned k = 0; k < 10; ++k) sum = b.add(b.binop(Opcode::Mul, sum, b.c64(3)), vals[k]);
    b.set_state(st(20), sum);
    b.exit_halt(ir::HaltReason::kStop);
    uint64_t want = 77;
    for (unsigned k = 0; k < 10; ++k) {
        cpu.set(st(k), 1000 + k * k);
        want = want * 3 + 1000 + k * k;
    }
    std::memcpy(jit.ram.bytes + 8, "\x4d\0\0\0\0\0\0\0", 8);  // 77
    ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(jit.ram.slow_loads, 1u);
    EXPECT_EQ(cpu.get(st(20)), want);
}

// --- exits and linking ------------------------------------------------------------------------

ir::Block halt_block(uint64_t pc, uint64_t marker) {
    ir::Block blk;
    blk.guest_pc = pc;
    ir::Builder b(blk);
    b.set_state(st(9), b.c64(marker));
    b.exit_halt(ir::HaltReason::kYield);
    return blk;
}

TEST(JitExits, LinkSlotsReturnToTheLoopUntilPatched) {
    Jit jit;
    JitCpu cpu;
    ir::Block a;
    a.guest_pc = 0x1000;
    ir::Builder b(a);
    ir::ValueId c = b.get_state(Type::I32, st(0));
    b.exit_cond(c, 0x2000, 0x3000);
    TranslatedBlock* ta = jit.compile(a);
    TranslatedBlock* t2 = jit.compile(halt_block(0x2000, 2));
    TranslatedBlock* t3 = jit.compile(halt_block(0x3000, 3));
    ASSERT_TRUE(ta && t2 && t3);

    cpu.set(st(0), 1, 4);
    ExitInfo e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.kind, ExitKind::kLink);
    EXPECT_EQ(e.from, ta);
    EXPECT_EQ(e.slot, 0u);
    EXPECT_EQ(cpu.common.pc, 0x2000u);
    cpu.set(st(0), 0, 4);
    e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.kind, ExitKind::kLink);
    EXPECT_EQ(e.slot, 1u);
    EXPECT_EQ(cpu.common.pc, 0x3000u);

    jit.backend.link(ta, 0, t2);
    jit.backend.link(ta, 1, t3);
    cpu.set(st(0), 1, 4);
    e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(e.from, t2);
    EXPECT_EQ(e.cause, uint32_t(ir::HaltReason::kYield));
    EXPECT_EQ(cpu.get(st(9)), 2u);
    cpu.set(st(0), 0, 4);
    e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.from, t3);
    EXPECT_EQ(cpu.get(st(9)), 3u);

    jit.backend.unlink(ta, 0);
    cpu.set(st(0), 1, 4);
    e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.kind, ExitKind::kLink);
    EXPECT_EQ(e.from, ta);
    EXPECT_EQ(ta->linked[0], nullptr);
    EXPECT_EQ(ta->linked[1], t3);
}

TEST(JitExits, BlocksWithSeveralTerminalsShareTheTwoLinkSlots) {
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    blk.guest_pc = 0x1000;
    ir::Builder b(blk);
    uint32_t l0 = b.new_label(), l1 = b.new_label();
    b.br_cond(b.get_state(Type::I32, st(0)), l0);
    b.exit_link(0x2000);  // slot 0
    b.label(l0);
    b.br_cond(b.get_state(Type::I32, st(1)), l1);
    b.exit_cond(b.get_state(Type::I32, st(2)), 0x3000, 0x4000);  // needs two slots: only one left
    b.label(l1);
    b.exit_link(0x5000);  // slot 1
    TranslatedBlock* tb = jit.compile(blk);
    ASSERT_NE(tb, nullptr);
    struct Case {
        uint32_t s0, s1, s2;
        ExitKind kind;
        unsigned slot;
        uint64_t pc;
    };
    const Case cases[] = {{0, 0, 0, ExitKind::kLink, 0, 0x2000},
                          {1, 0, 1, ExitKind::kJump, 0, 0x3000},
                          {1, 0, 0, ExitKind::kJump, 0, 0x4000},
                          {1, 1, 0, ExitKind::kLink, 1, 0x5000}};
    for (const Case& c : cases) {
        cpu.set(st(0), c.s0, 4);
        cpu.set(st(1), c.s1, 4);
        cpu.set(st(2), c.s2, 4);
        ExitInfo e = jit.backend.execute(&cpu.common, tb);
        EXPECT_EQ(e.kind, c.kind);
        if (c.kind == ExitKind::kLink) {
            EXPECT_EQ(e.slot, c.slot);
        }
        EXPECT_EQ(cpu.common.pc, c.pc);
    }
    EXPECT_EQ(tb->link_pc[0], 0x2000u);
    EXPECT_EQ(tb->link_pc[1], 0x5000u);
}

TEST(JitExits, ExitRequestStopsAChainAtTheNextEntry) {
    Jit jit;
    JitCpu cpu;
    ir::Block a;
    a.guest_pc = 0x1000;
    ir::Builder b(a);
    b.exit_link(0x2000);
    TranslatedBlock* ta = jit.compile(a);
    TranslatedBlock* t2 = jit.compile(halt_block(0x2000, 2));
    jit.backend.link(ta, 0, t2);
    cpu.common.exit_request = 1;
    ExitInfo e = jit.backend.execute(&cpu.common, ta);
    EXPECT_EQ(e.kind, ExitKind::kExitRequest);
    EXPECT_EQ(e.from, ta);
    EXPECT_EQ(cpu.common.pc, 0x1000u);
}

TEST(JitExits, JumpReturnExceptionHalt) {
    Jit jit;
    JitCpu cpu;
    for (Opcode op : {Opcode::ExitJump, Opcode::ExitReturn}) {
        ir::Block blk;
        ir::Builder b(blk);
        ir::ValueId t = b.get_state(Type::I64, st(0));
        if (op == Opcode::ExitJump) {
            b.exit_jump(t);
        } else {
            b.exit_return(t);
        }
        cpu.set(st(0), 0xffff800012345678ull);
        ExitInfo e = jit.run(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kJump);
        EXPECT_EQ(cpu.common.pc, 0xffff800012345678ull);
    }
    ir::Block blk;
    ir::Builder b(blk);
    b.set_pc(0x8888);
    b.exit_exception(13, 0xabcdef0123ull);
    ExitInfo e = jit.run(blk, cpu);
    EXPECT_EQ(e.kind, ExitKind::kException);
    EXPECT_EQ(e.cause, 13u);
    EXPECT_EQ(e.detail, 0xabcdef0123ull);
    EXPECT_EQ(cpu.common.pc, 0x8888u);
    e = jit.run(halt_block(0, 1), cpu);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(e.cause, uint32_t(ir::HaltReason::kYield));
}

TEST(JitExits, IndirectJumpFollowsTheTableOnlyForAValidMappedBlock) {
    Jit jit;
    JitCpu cpu;
    jit.map_ram(cpu);  // code tags for the RAM pages
    ir::Block j;
    j.guest_pc = kRamVa;
    ir::Builder b(j);
    b.exit_jump(b.get_state(Type::I64, st(0)));
    TranslatedBlock* tj = jit.compile(j);
    TranslatedBlock* target = jit.compile(halt_block(kRamVa + 0x40, 7));
    cpu.set(st(0), kRamVa + 0x40);
    // Not entered yet: not in the table, the jump returns to the loop.
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kJump);
    EXPECT_EQ(jit.backend.execute(&cpu.common, target).kind, ExitKind::kHalt);  // now remembered
    ExitInfo e = jit.backend.execute(&cpu.common, tj);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(e.from, target);
    // Invalid blocks, other modes and unmapped pages are not followed.
    target->valid = false;
    jit.backend.invalidated(*target);  // as the engine does
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kJump);
    target->valid = true;
    EXPECT_EQ(jit.backend.execute(&cpu.common, target).kind, ExitKind::kHalt);  // remembered again
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kHalt);
    cpu.common.mode = 1;
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kJump);
    cpu.common.mode = 0;
    // A TLB flush (possible remap) since the block was entered: not followed until re-entered.
    ++cpu.common.tlb_generation;
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kJump);
    EXPECT_EQ(jit.backend.execute(&cpu.common, target).kind, ExitKind::kHalt);
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kHalt);
    // The eviction of the code page's TLB entry (e.g. by a data access) does not matter.
    cpu.common.tlb[(kRamVa >> kPageBits) & (kTlbEntries - 1)].code_tag = kTlbInvalid;
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kHalt);
    jit.map_ram(cpu);
    jit.backend.release(*target);
    EXPECT_EQ(jit.backend.execute(&cpu.common, tj).kind, ExitKind::kJump);
}

// --- helpers, pressure, loops -----------------------------------------------------------------

uint64_t g_args[4];
CpuCommon* g_cpu_seen = nullptr;
uint64_t h0(CpuCommon* c, uint64_t, uint64_t, uint64_t) {
    g_cpu_seen = c;
    return 1000;
}
uint64_t h3(CpuCommon* c, uint64_t a, uint64_t b, uint64_t d) {
    g_cpu_seen = c;
    g_args[0] = a, g_args[1] = b, g_args[2] = d;
    return a * 100 + b * 10 + d;
}
// Reads state through the cpu pointer: the pc must be stored before the call.
uint64_t hpc(CpuCommon* c, uint64_t, uint64_t, uint64_t) { return c->pc; }
const ir::HelperInfo kH0{"h0", h0, 0, 0};
uint64_t h1(CpuCommon*, uint64_t a, uint64_t, uint64_t) { return a * 100; }
uint64_t h2(CpuCommon*, uint64_t a, uint64_t b, uint64_t) { return a * 100 + b * 10; }
const ir::HelperInfo kH1{"h1", h1, 1, ir::kHelperPure};
const ir::HelperInfo kH2{"h2", h2, 2, ir::kHelperPure};
const ir::HelperInfo kH3{"h3", h3, 3, ir::kHelperPure};
const ir::HelperInfo kHpc{"hpc", hpc, 0, ir::kHelperReadsState};

TEST(JitCalls, ZeroToThreeArgumentsAndValuesLiveAcrossCalls) {
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    ir::Builder b(blk);
    std::vector<ir::ValueId> live;
    for (unsigned k = 0; k < 14; ++k) live.push_back(b.get_state(Type::I64, st(k)));
    ir::ValueId r0 = b.call(kH0);
    ir::ValueId r1 = b.call(kH1, live[0]);
    ir::ValueId r2 = b.call(kH2, live[1], live[2]);
    ir::ValueId r3 = b.call(kH3, live[3], b.c64(4), live[3]);
    b.set_pc(0x7777);
    ir::ValueId rpc = b.call(kHpc);
    ir::ValueId sum = b.add(b.add(r0, r1), b.add(r2, r3));
    for (ir::ValueId v : live) sum = b.add(b.shl(sum, b.c64(1)), v);
    b.set_state(st(20), sum);
    b.set_state(st(21), rpc);
    b.exit_halt(ir::HaltReason::kStop);
    uint64_t want = 1000 + (1 * 100) + (2 * 100 + 3 * 10) + (4 * 100 + 4 * 10 + 4);
    for (unsigned k = 0; k < 14; ++k) {
        cpu.set(st(k), k + 1);
        want = (want << 1) + k + 1;
    }
    ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(g_cpu_seen, &cpu.common);
    EXPECT_EQ(cpu.get(st(20)), want);
    EXPECT_EQ(cpu.get(st(21)), 0x7777u);
}

TEST(JitRegalloc, MoreLiveValuesThanRegistersSpill) {
    for (unsigned n : {12u, 17u, 40u, 120u}) {
        Jit jit;
        JitCpu cpu;
        ir::Block blk;
        ir::Builder b(blk);
        std::vector<ir::ValueId> v;
        for (unsigned k = 0; k < n; ++k) v.push_back(b.get_state(Type::I64, st(k)));
        // Each value is used late and in reverse order, so all n are live at once.
        std::vector<ir::ValueId> w;
        for (unsigned k = 0; k < n; ++k) w.push_back(b.binop(Opcode::Mul, v[k], b.c64(2 * k + 1)));
        ir::ValueId acc = b.c64(0);
        for (unsigned k = n; k-- > 0;) acc = b.xor_(b.binop(Opcode::RotL, acc, b.c64(7)), b.add(w[k], v[n - 1 - k]));
        b.set_state(st(127), acc);
        b.exit_halt(ir::HaltReason::kStop);
        uint64_t vals[128], want = 0;
        for (unsigned k = 0; k < n; ++k) cpu.set(st(k), vals[k] = 0x9e3779b97f4a7c15ull * (k + 1));
        for (unsigned k = n; k-- > 0;) want = ((want << 7) | (want >> 57)) ^ (vals[k] * (2 * k + 1) + vals[n - 1 - k]);
        ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt) << n;
        EXPECT_EQ(cpu.get(st(127)), want) << n << " live values";
    }
}

TEST(JitControl, CountedLoopWithLabels) {
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    ir::Builder b(blk);
    uint32_t loop = b.new_label(), done = b.new_label();
    b.label(loop);
    ir::ValueId n = b.get_state(Type::I32, st(0));
    b.br_cond(b.cmp(Opcode::CmpEq, n, b.c32(0)), done);
    b.set_state(st(1), b.add(b.get_state(Type::I64, st(1)), b.zext(Type::I64, n)));
    b.set_state(st(0), b.sub(n, b.c32(1)));
    b.br(loop);
    b.label(done);
    b.exit_halt(ir::HaltReason::kStop);
    cpu.set(st(0), 100, 4);
    ASSERT_EQ(jit.run(blk, cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(cpu.get(st(1)), 5050u);
    EXPECT_EQ(cpu.get(st(0), 4), 0u);
}

// --- buffer ------------------------------------------------------------------------------------

TEST(JitBuffer, FullBufferReportsKBufferFullAndFlushRecovers) {
    Jit jit(64u << 10);
    size_t compiled = 0;
    for (;;) {
        ir::Block blk = halt_block(0x1000 + 4 * compiled, compiled);
        TranslatedBlock tb;
        Status s = jit.backend.compile(blk, tb);
        if (!s) {
            EXPECT_EQ(s.error(), kBufferFull);
            break;
        }
        ASSERT_LT(++compiled, 100000u);
    }
    EXPECT_GT(compiled, 100u);
    jit.backend.flush();
    EXPECT_EQ(jit.backend.code_used(), 0u);
    JitCpu cpu;
    EXPECT_EQ(jit.run(halt_block(0x1000, 5), cpu).kind, ExitKind::kHalt);
    EXPECT_EQ(cpu.get(st(9)), 5u);
}

TEST(JitDisassembly, ListsEveryHostInstruction) {
    Jit jit;
    TranslatedBlock* tb = jit.compile(halt_block(0x1000, 1));
    ASSERT_NE(tb, nullptr);
    std::string text = jit.backend.disassemble(*tb);
    EXPECT_NE(text.find("cmp"), std::string::npos) << text;
    EXPECT_NE(text.find("r15"), std::string::npos) << text;
    // The block body line by line; the cold stubs' data is shown as data, not decoded.
    const auto* code = static_cast<const uint8_t*>(tb->code);
    const uint32_t body_end = jit.backend.last_compile().inst_offsets.back();
    size_t body_lines = 0, data_lines = 0, data_bytes = 0, insn_lines = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const uint64_t at = std::stoull(line.substr(0, line.find(':')), nullptr, 16);
        if (at < uint64_t(reinterpret_cast<uintptr_t>(code)) + body_end) ++body_lines;
        if (line.find("bytes of stub data") != std::string::npos) {
            ++data_lines;
            data_bytes += std::stoul(line.substr(line.find(".data") + 5));
        } else {
            ++insn_lines;
        }
    }
    EXPECT_EQ(body_lines, x64::X64Backend::count_host_insns(code, body_end)) << text;
    EXPECT_GE(data_lines, 1u) << text;  // the exit-request stub at least
    EXPECT_EQ(text.find("(bad)"), std::string::npos) << text;
    EXPECT_GT(insn_lines, body_lines);  // the stubs' calls are listed
    EXPECT_EQ(data_bytes % 8, 0u);      // whole stub records, never a decoded fragment
}

}  // namespace
}  // namespace corvid::jittest
