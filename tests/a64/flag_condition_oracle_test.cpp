// Differential test of NZCV and conditions against Unicorn: every flag-setting form (SUBS/ADDS/
// ANDS, register and immediate, W and X) followed by every condition, read in the same block
// as the compare (CSEL/CSINV/B.cond: the flag values forwarded within the block, which the JIT
// serves from the host flags of one add/sub) and in the next block (CCMP/CSINC: the stored
// flags), plus the stored NZCV itself. Operands are drawn near the compare boundaries (equal,
// off by one, signs).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/a64/a64_harness.h"
#include "tests/a64/unicorn_oracle.h"

namespace corvid::a64test {
namespace {

const char* const kSetters[] = {
    "cmp x1, x2",        "cmp w1, w2",          "cmp x1, #0",          "cmp w1, #1",
    "cmp x1, #4095",     "cmp w1, #0x800, lsl #12", "subs x7, x1, x2, lsl #1", "cmp x1, w2, sxtw",
    "negs x7, x1",       "cmn x1, x2",          "cmn w1, w2",          "cmn x1, #1",
    "cmn w1, #0",        "adds x7, x1, #0x10",  "adds w7, w1, w2",     "tst x1, x2",
    "ands w7, w1, #0xff", "bics x7, x1, x2",    "subs w7, w1, #1",     "cmn w1, #4095",
};
const char* const kConds[] = {"eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc",
                              "hi", "ls", "ge", "lt", "gt", "le", "al", "nv"};

constexpr uint64_t kStride = 0x100;  // bytes of code per template
constexpr uint64_t kDataSize = 64;

uint64_t near_boundary(std::mt19937_64& rng) {
    static const uint64_t kSpecial[] = {0,           1,           2,           0xfff,       0x1000,
                                        0x800000,    ~0ull,       ~0ull - 1,   0x7fffffffffffffffull,
                                        0x8000000000000000ull,    0x7fffffffull, 0x80000000ull,
                                        0xffffffffull, 0x100000000ull, 0xffffffff80000000ull,
                                        0xfffffffffffff001ull,    0xfffff001ull};
    switch (rng() % 3) {
        case 0: return kSpecial[rng() % std::size(kSpecial)];
        case 1: return kSpecial[rng() % std::size(kSpecial)] + (rng() % 3) - 1;
        default: return rng();
    }
}

std::string program(const char* setter, const char* cond) {
    return std::string(setter) + "\n csel x0, x1, x2, " + cond + "\n csinv x3, x2, x1, " + cond + "\n b." + cond +
           " 1f\n mov x6, #1\n1: csinc x8, x2, x1, " + cond + "\n ccmp x1, x2, #5, " + cond + "\n csinv w9, w1, w2, " + cond;
}

class FlagConditions : public ::testing::TestWithParam<Backend> {};

TEST_P(FlagConditions, EverySetterAndConditionMatchUnicorn) {
    UnicornOracle* uc = UnicornOracle::get();
    if (!uc) GTEST_SKIP() << "libunicorn.so.2 not available: SKIPPING the Unicorn differential test";
    std::vector<std::string> programs;
    std::string src;
    for (const char* s : kSetters) {
        src += ".balign " + std::to_string(kStride) + "\n" + s + "\n wfi\n";  // the stored NZCV itself
        programs.push_back(s);
        for (const char* c : kConds) {
            src += ".balign " + std::to_string(kStride) + "\n" + program(s, c) + "\n wfi\n";
            programs.push_back(program(s, c));
        }
    }
    std::string err;
    auto words = assemble(src, &err);
    if (!words) GTEST_SKIP() << "aarch64-linux-gnu-as not installed: SKIPPING";
    ASSERT_FALSE(words->empty()) << err;

    Machine m(GetParam());
    m.load(kCode, *words);
    std::mt19937_64 rng(0xf1a65);
    constexpr int kRuns = 12;
    int compared = 0;
    for (size_t t = 0; t < programs.size(); ++t) {
        const uint64_t base = kCode + t * kStride;
        const size_t first = t * kStride / 4;
        size_t wfi_at = first;
        while (wfi_at < words->size() && (*words)[wfi_at] != kWfi) ++wfi_at;
        ASSERT_LT(wfi_at, words->size());
        std::vector<uint32_t> code(words->begin() + long(first), words->begin() + long(wfi_at) + 1);
        for (int run = 0; run < kRuns; ++run) {
            OracleState init;
            for (auto& r : init.x) r = near_boundary(rng);
            if (rng() % 3 == 0) init.x[2] = init.x[1] + (rng() % 3) - 1;  // equal / adjacent operands
            init.sp = kData + 0x20;
            init.nzcv = uint32_t(rng() & 0xf);
            init.data.assign(kDataSize, 0);

            auto want = uc->run(kRamBase, kRamSize, base, code, base + (code.size() - 1) * 4, init, kData);
            ASSERT_TRUE(want) << "unicorn failed on: " << programs[t];

            m.frontend.reset(m.s(), base);
            std::memcpy(m.s().x, init.x, sizeof init.x);
            m.s().sp_el1 = init.sp;
            m.s().n = (init.nzcv >> 3) & 1;
            m.s().z = (init.nzcv >> 2) & 1;
            m.s().c = (init.nzcv >> 1) & 1;
            m.s().v = init.nzcv & 1;
            m.s().vbar_el1 = kVectors;
            RunExit e = m.resume();
            ASSERT_EQ(e.kind, RunExit::Kind::kHalt) << programs[t];
            ASSERT_EQ(m.s().common.pc, want->pc + 4) << programs[t] << ": ended elsewhere";
            const std::string what = programs[t] + " with x1=0x" + fmt::format("{:x}", init.x[1]) + " x2=0x" +
                                     fmt::format("{:x}", init.x[2]);
            for (int r = 0; r < 31; ++r) EXPECT_EQ(m.s().x[r], want->x[r]) << what << ": x" << r;
            EXPECT_EQ(m.nzcv(), want->nzcv) << what << ": nzcv";
            ++compared;
            if (::testing::Test::HasFailure()) return;
        }
    }
    EXPECT_EQ(compared, int(programs.size()) * kRuns);
}

INSTANTIATE_TEST_SUITE_P(Backends, FlagConditions, ::testing::Values(Backend::kInterp, Backend::kJit), param_name);

}  // namespace
}  // namespace corvid::a64test
