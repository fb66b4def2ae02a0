// The JIT's code buffer: W^X through two views of one memfd (code is never executed from a
// writable mapping), the RWX fallback, and the cost of the return-stack hint push.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "backend/x64/code_buffer.h"
#include "tests/backend/jit_harness.h"

namespace corvid::jittest {
namespace {

using ir::Type;

// The permission string ("r-xs", "rw-s", "rwxp", ...) of the mapping holding `p`.
std::string perms_of(const void* p) {
    const auto a = uint64_t(reinterpret_cast<uintptr_t>(p));
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream in(line);
        std::string range, perms;
        in >> range >> perms;
        const size_t dash = range.find('-');
        const uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
        const uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (a >= lo && a < hi) return perms;
    }
    return "";
}

TEST(CodeBuffer, TwoViewsOfTheSameBytes) {
    x64::CodeBuffer buf(64u << 10);
    ASSERT_TRUE(buf.ok());
    ASSERT_TRUE(buf.wx()) << "memfd double mapping unavailable on this host";
    uint8_t* p = buf.alloc(16, 16);
    ASSERT_NE(p, nullptr);
    EXPECT_NE(buf.writable(p), p);
    buf.writable(p)[3] = 0xc3;
    EXPECT_EQ(p[3], 0xc3);
    EXPECT_EQ(perms_of(p).substr(0, 3), "r-x");
    EXPECT_EQ(perms_of(buf.writable(p)).substr(0, 3), "rw-");
}

TEST(CodeBuffer, RwxFallbackWritesInPlace) {
    x64::CodeBuffer buf(64u << 10, true);
    ASSERT_TRUE(buf.ok());
    EXPECT_FALSE(buf.wx());
    uint8_t* p = buf.alloc(8, 8);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(buf.writable(p), p);
    EXPECT_EQ(perms_of(p).substr(0, 3), "rwx");
    EXPECT_EQ(buf.alloc(64u << 10, 16), nullptr);  // full
}

TEST(CodeBuffer, GeneratedCodeRunsFromANonWritableView) {
    Jit jit;
    JitCpu cpu;
    ASSERT_TRUE(jit.backend.code_wx());
    ir::Block blk;
    ir::Builder b(blk);
    b.set_state(st(1), b.add(b.get_state(Type::I64, st(0)), b.c64(5)));
    b.exit_halt(ir::HaltReason::kStop);
    cpu.set(st(0), 37);
    ExitInfo e = jit.run(blk, cpu);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(cpu.get(st(1)), 42u);
    const uint8_t* code = jit.backend.last_compile().code;
    ASSERT_NE(code, nullptr);
    EXPECT_EQ(perms_of(code).find('w'), std::string::npos) << perms_of(code);
}

TEST(JitGolden, ReturnHintPushIsAtMostSevenHostInstructions) {
    Jit jit;
    jit.backend.set_return_hints(true);
    ir::Block blk;
    blk.guest_pc = 0x1000;
    ir::Builder b(blk);
    b.set_pc(0x1000);
    b.push_return_hint(0x1004);  // inst 0
    b.exit_link(0x2000);
    ASSERT_NE(jit.compile(blk), nullptr);
    const auto& lc = jit.backend.last_compile();
    const unsigned n = x64::X64Backend::count_host_insns(lc.code + lc.inst_offsets[0],
                                                         lc.inst_offsets[1] - lc.inst_offsets[0]);
    // bump the top (2), store pc and mode (2), alignment nop, patched mov imm64 + store (2).
    EXPECT_GE(n, 6u);
    EXPECT_LE(n, 7u);
}

}  // namespace
}  // namespace corvid::jittest
