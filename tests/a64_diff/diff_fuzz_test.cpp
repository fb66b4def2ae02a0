// Differential fuzzing of the A64 frontend against Unicorn: random instructions from the
// decode table on Corvid's interpreter and JIT vs Unicorn. CORVID_DIFF_SEED and
// CORVID_DIFF_COUNT (total cases over all shards) select the run; CORVID_DIFF_REPLAY=<case
// seed> re-runs one reported case verbosely.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "tests/a64_diff/diff_driver.h"
#include "tests/a64_diff/known_bugs.h"

namespace corvid::a64diff {
namespace {

constexpr uint64_t kDefaultSeed = 0xC0121D5EEDull;
constexpr uint64_t kDefaultCount = 400'000;  // ~590k instructions, a few seconds
constexpr uint32_t kShards = 4;

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return std::strtoull(v, nullptr, 0);
}

void run_shard(uint32_t shard) {
    FuzzOptions o;
    o.seed = env_u64("CORVID_DIFF_SEED", kDefaultSeed);
    const uint64_t total = env_u64("CORVID_DIFF_COUNT", kDefaultCount);
    o.shard = shard;
    o.count = total / kShards + (shard < total % kShards ? 1 : 0);
    std::cout << "a64_diff: seed 0x" << std::hex << o.seed << std::dec << " shard " << shard << "/" << kShards << ": "
              << o.count << " cases (CORVID_DIFF_SEED / CORVID_DIFF_COUNT to change)\n";
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << "Unicorn setup failed: " << r.setup_error;
    std::cout << "a64_diff: " << r.cases << " cases, " << r.instructions << " instructions; " << r.compared
              << " compared in full, " << r.both_faulted << " faulted on both sides, " << r.unverifiable
              << " not comparable (jump into data / known Unicorn deviation), " << r.mismatches
              << " unexpected mismatches, " << r.known_bug_hits << " known-bug hits\n";
    if (r.known_bug_hits != 0) {
        std::cout << "a64_diff: *** KNOWN FRONTEND BUGS STILL PRESENT (see tests/a64_diff/known_bugs.cpp) ***\n";
        for (const auto& [id, n] : r.known_by_id) std::cout << "    known bug " << id << ": " << n << " cases\n";
    }
    for (const auto& [row, n] : r.mismatches_by_row) std::cout << "    mismatching row " << row << ": " << n << "\n";
    std::cout << r.report;
    EXPECT_EQ(r.cases, o.count);
    EXPECT_EQ(r.mismatches, 0u) << "Corvid differs from Unicorn; reports above (seed 0x" << std::hex << o.seed << ")";
    // The run must really compare instructions: most cases end without a fault.
    EXPECT_GT(r.compared, r.cases / 2);
}

TEST(A64Diff, Shard0) { run_shard(0); }
TEST(A64Diff, Shard1) { run_shard(1); }
TEST(A64Diff, Shard2) { run_shard(2); }
TEST(A64Diff, Shard3) { run_shard(3); }

// Every decode row that is fuzzed must reach a full comparison in a modest run, so that a row
// that silently always faults on both sides (no coverage) is noticed.
TEST(A64Diff, EveryComparedRowIsExercised) {
    FuzzOptions o;
    o.seed = env_u64("CORVID_DIFF_SEED", kDefaultSeed) ^ 0x5a5a;
    o.shard = 99;
    o.count = 20'000;
    o.max_printed = 0;
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << r.setup_error;
    for (const A64Encoding& e : a64_encodings()) {
        const A64Op op = a64_decode(e.value);
        if (row_treatment(op) != Treatment::kCompare) continue;
        const auto it = r.compared_by_row.find(e.name);
        EXPECT_TRUE(it != r.compared_by_row.end() && it->second > 0)
            << "row " << e.name << " was never compared in full (always faults, or is never generated)";
    }
}

// The comparison must catch a difference: perturbing Corvid's initial registers has to be
// reported as mismatches.
TEST(A64Diff, DetectsInjectedDifference) {
    FuzzOptions o;
    o.seed = 1;
    o.count = 200;
    o.max_printed = 0;
    o.inject_xor_x = 0x10;
    const FuzzResult r = run_fuzz(o);
    ASSERT_TRUE(r.setup_error.empty()) << r.setup_error;
    EXPECT_GT(r.mismatches + r.known_bug_hits, r.cases / 2);
}

// The do-not-test list names real rows and gives a reason for each.
TEST(A64Diff, DoNotTestListNamesRealRows) {
    for (const RowPolicy& p : row_policies()) {
        bool found = false;
        for (const A64Encoding& e : a64_encodings()) found = found || std::string_view(e.name) == p.row;
        EXPECT_TRUE(found) << p.row;
        EXPECT_GT(std::string_view(p.reason).size(), 10u) << p.row;
    }
}

TEST(A64Diff, Replay) {
    const char* v = std::getenv("CORVID_DIFF_REPLAY");
    if (!v || !*v) GTEST_SKIP() << "set CORVID_DIFF_REPLAY=<case seed> to replay a reported case";
    std::cout << replay_case(std::strtoull(v, nullptr, 0));
}

}  // namespace
}  // namespace corvid::a64diff
