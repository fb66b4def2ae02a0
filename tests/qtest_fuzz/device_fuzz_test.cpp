// qtest-driven fuzzing of every device: >= 100,000 qtest commands per device and seed, with
// the invariants of fuzzer.h (well-formed replies, no DMA outside the window, the device
// still works afterwards). CORVID_FUZZ_OPS and CORVID_FUZZ_SEED override the defaults.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/qtest_fuzz/fuzzer.h"

namespace corvid::fuzz {
namespace {

constexpr uint64_t kCiOps = 100'000;

class DeviceFuzz : public ::testing::TestWithParam<size_t> {};

TEST_P(DeviceFuzz, RandomCommandsKeepInvariants) {
    const Target& t = targets()[GetParam()];
    const uint64_t ops = env_ops(kCiOps);
    const uint64_t seed = env_seed(0xc0ffee + GetParam());
    const RunResult r = run_target(t, ops, seed);
    EXPECT_EQ(r.failure, "") << t.name << " seed " << seed;
    EXPECT_GE(r.commands, ops);
    RecordProperty("commands", static_cast<int>(r.commands));
    RecordProperty("resets", r.resets);
    // One summary line per run: the numbers the long runs report.
    fmt::print("[ qtest-fuzz ] {} seed={} commands={} resets={} seconds={:.2f}\n", t.name, seed, r.commands, r.resets,
               r.seconds);
}

INSTANTIATE_TEST_SUITE_P(Targets, DeviceFuzz, ::testing::Range<size_t>(0, targets().size()),
                         [](const ::testing::TestParamInfo<size_t>& i) { return targets()[i.param].name; });

}  // namespace
}  // namespace corvid::fuzz
