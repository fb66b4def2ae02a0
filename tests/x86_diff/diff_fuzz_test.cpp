// Differential fuzzing of the x86-64 frontend against Unicorn: random instructions from the
// opcode tables on Corvid's interpreter and JIT vs Unicorn. CORVID_DIFF_SEED and
// CORVID_DIFF_COUNT (total cases over all shards) select the run; CORVID_DIFF_REPLAY=<case
// seed> re-runs one reported case verbosely.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/x86/x86_decoder.h"
#include "tests/x86_diff/diff_driver.h"
#include "tests/x86_diff/insn_generator.h"
#include "tests/x86_diff/known_bugs.h"

namespace corvid::x86diff {
namespace {

constexpr uint64_t kDefaultSeed = 0xC0121D5EEDull;
constexpr uint64_t kDefaultCount = 100'000;
constexpr uint32_t kShards = 4;

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return std::strtoull(v, nullptr, 0);
}

template <typename Map>
void print_top(const char* what, const Map& m, size_t n) {
    std::vector<std::pair<uint64_t, std::string>> v;
    for (const auto& [k, c] : m) v.emplace_back(c, k);
    std::sort(v.rbegin(), v.rend());
    for (size_t i = 0; i < v.size() && i < n; ++i)
        std::cout << "    " << what << " " << v[i].second << ": " << v[i].first << "\n";
}

void run_shard(uint32_t shard) {
    FuzzOptions o;
    o.seed = env_u64("CORVID_DIFF_SEED", kDefaultSeed);
    const uint64_t total = env_u64("CORVID_DIFF_COUNT", kDefaultCount);
    o.shard = shard;
    o.count = total / kShards + (shard < total % kShards ? 1 : 0);
    std::cout << "x86_diff: seed 0x" << std::hex << o.seed << std::dec << " shard " << shard << "/" << kShards << ": "
              << o.count << " cases (CORVID_DIFF_SEED / CORVID_DIFF_COUNT to change)\n";
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << "Unicorn setup failed: " << r.setup_error;
    std::cout << "x86_diff: " << r.cases << " cases, " << r.instructions << " instructions; " << r.compared
              << " compared in full, " << r.both_faulted << " faulted on both sides, " << r.unimplemented
              << " unimplemented in Corvid (#UD, Unicorn runs them), " << r.unverifiable
              << " not comparable (loop in the test code), " << r.mismatches << " unexpected mismatches, "
              << r.known_bug_hits << " known-bug hits (" << r.unicorn_restarts << " Unicorn restarts)\n";
    if (r.known_bug_hits != 0) {
        std::cout << "x86_diff: *** KNOWN FRONTEND BUGS STILL PRESENT (see tests/x86_diff/known_bugs.cpp) ***\n";
        for (const auto& [id, n] : r.known_by_id) std::cout << "    known bug " << id << ": " << n << " cases\n";
        std::cout << r.known_report;
    }
    if (r.unimplemented != 0) {
        std::cout << "x86_diff: top instructions Unicorn executes and Corvid raises #UD for:\n";
        print_top("unimplemented", r.unimplemented_by_row, 15);
        // By kind: probes by their category ("SSE/MMX", "x87", ...), table rows by name.
        std::map<std::string, uint64_t> kinds;
        for (const auto& [row, n] : r.unimplemented_by_row) {
            const size_t at = row.find("(empty: ");
            kinds[at == std::string::npos ? row : row.substr(at + 8, row.find(')', at) - at - 8)] += n;
        }
        std::cout << "x86_diff: unimplemented by kind:\n";
        print_top("unimplemented kind", kinds, 25);
    }
    print_top("mismatching", r.mismatches_by_row, 30);
    std::cout << r.report;
    EXPECT_EQ(r.cases, o.count);
    EXPECT_EQ(r.mismatches, 0u) << "Corvid differs from Unicorn; reports above (seed 0x" << std::hex << o.seed << ")";
    // The run must really compare instructions: most cases end without a fault.
    EXPECT_GT(r.compared, r.cases / 2);
}

TEST(X86Diff, Shard0) {
    run_shard(0);
}
TEST(X86Diff, Shard1) {
    run_shard(1);
}
TEST(X86Diff, Shard2) {
    run_shard(2);
}
TEST(X86Diff, Shard3) {
    run_shard(3);
}

// Every table row that is fuzzed must reach a full comparison in a modest run, so that a row
// that silently always faults on both sides (no coverage) is noticed.
TEST(X86Diff, EveryComparedRowIsExercised) {
    FuzzOptions o;
    o.seed = env_u64("CORVID_DIFF_SEED", kDefaultSeed) ^ 0x5a5a;
    o.shard = 99;
    o.count = 20'000;
    o.max_printed = 0;
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << r.setup_error;
    const InsnGenerator gen;
    for (const InsnGenerator::Row& row : gen.rows()) {
        bool compared_somewhere = false;
        for (int reg = -1; reg < 8; ++reg)
            compared_somewhere = compared_somewhere || row_treatment(row.map, row.op, reg) == Treatment::kCompare;
        if (!compared_somewhere) continue;
        EXPECT_TRUE(r.compared_ops.count(uint16_t(unsigned(row.map) << 8 | row.op)))
            << "row " << (row.map == x86::kMap0F ? "0f " : "") << std::hex << unsigned(row.op) << " ("
            << x86::op_entry(row.map, row.op).name << ") was never compared in full";
    }
}

// The comparison must catch a difference: perturbing Corvid's initial registers has to be
// reported as mismatches.
TEST(X86Diff, DetectsInjectedDifference) {
    FuzzOptions o;
    o.seed = 1;
    o.count = 300;
    o.max_printed = 0;
    o.inject_xor = 0x10;
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << r.setup_error;
    EXPECT_GT(r.mismatches + r.known_bug_hits, r.cases / 3);
}

// The do-not-test list names real rows and gives a reason for each.
TEST(X86Diff, DoNotTestListNamesRealRows) {
    for (const RowPolicy& p : row_policies()) {
        EXPECT_NE(x86::op_entry(p.map, p.op).name, nullptr) << std::hex << unsigned(p.op);
        EXPECT_GT(std::string_view(p.reason).size(), 10u) << std::hex << unsigned(p.op);
    }
}

// A case is a pure function of its seed (what makes CORVID_DIFF_REPLAY work), and the stack the
// generator steers really lies in the data window (almost always).
TEST(X86Diff, CasesAreReproducible) {
    const InsnGenerator gen;
    int rsp_in_window = 0;
    for (uint64_t i = 0; i < 2000; ++i) {
        const uint64_t seed = case_seed(0x1234, 0, i);
        const TestCase a = gen.make_case(seed), b = gen.make_case(seed);
        ASSERT_EQ(a.bytes, b.bytes) << seed;
        ASSERT_EQ(a.rows, b.rows) << seed;
        ASSERT_EQ(std::memcmp(a.init.regs, b.init.regs, sizeof a.init.regs), 0) << seed;
        ASSERT_EQ(a.flag_mask, b.flag_mask) << seed;
        ASSERT_GT(a.bytes.size(), 0u);
        ASSERT_LE(a.bytes.size(), 48u);
        ASSERT_EQ(a.init.rip, kSlot);
        // RSP is placed in the window unless it is the steered base/index of a memory operand.
        rsp_in_window += a.init.regs[4] >= kDataBase && a.init.regs[4] < kDataBase + kDataSize;
    }
    EXPECT_GT(rsp_in_window, 1900);
    EXPECT_NE(gen.make_case(1).bytes, gen.make_case(2).bytes);
}

TEST(X86Diff, Replay) {
    const char* v = std::getenv("CORVID_DIFF_REPLAY");
    if (!v || !*v) GTEST_SKIP() << "set CORVID_DIFF_REPLAY=<case seed> to replay a reported case";
    std::cout << replay_case(std::strtoull(v, nullptr, 0));
}

}  // namespace
}  // namespace corvid::x86diff
