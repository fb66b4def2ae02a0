// Differential tests against Unicorn: each template (one or a few A64 instructions) runs from
// many random register/flag/memory states on Corvid (interpreter and JIT) and on Unicorn;
// registers, SP, NZCV and the data window must match.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/a64/a64_harness.h"
#include "tests/a64/unicorn_oracle.h"

namespace corvid::a64test {
namespace {

// x20..x23 point into the data window (so loads and stores stay in RAM); x24 is a small index.
const char* const kTemplates[] = {
    // add/sub immediate, shifted, extended, with carry
    "add x0, x1, #0xabc", "add w0, w1, #0xfff, lsl #12", "adds x0, x1, #1", "adds w0, w1, #0x800",
    "subs x0, x1, #0x10", "subs w0, w1, #0", "cmp x1, #4095", "cmn w1, #1", "add x0, sp, #16", "sub sp, sp, #32",
    "add x0, x1, x2", "adds x0, x1, x2, lsl #7", "subs w0, w1, w2, lsr #3", "sub x0, x1, x2, asr #63",
    "adds w0, w1, w2, asr #31", "negs x0, x1", "cmp w1, w2", "cmn x1, x2",
    "add x0, x1, w2, uxtb", "add x0, x1, w2, sxth #2", "adds x0, x1, w2, sxtw #4", "subs w0, w1, w2, uxth #1",
    "sub x0, sp, x2, sxtx #3", "add sp, sp, w2, uxtw", "cmp sp, x1", "subs x0, x1, x2, uxtx",
    "adc x0, x1, x2", "adcs w0, w1, w2", "sbc x0, x1, x2", "sbcs x0, x1, x2", "sbcs w0, w1, w2", "ngcs x0, x1",
    // logical
    "and x0, x1, #0xff00ff00ff00ff00", "orr w0, w1, #0x1", "eor x0, x1, #0x7fffffffffffffff", "ands w0, w1, #0xf0f0f0f0",
    "tst x1, #0x8000000000000000", "mov x0, #0x5555555555555555", "and sp, x1, #0xfffffffffffffff0",
    "and x0, x1, x2, lsl #3", "bic w0, w1, w2, ror #7", "orr x0, x1, x2, lsr #60", "orn w0, w1, w2",
    "eor x0, x1, x2, asr #17", "eon x0, x1, x2", "ands x0, x1, x2", "bics w0, w1, w2, lsl #31", "tst w1, w2",
    "mvn x0, x1",
    // move wide, pc-relative
    "movz x0, #0xbeef, lsl #32", "movn w0, #0x1234", "movk x1, #0xcafe, lsl #16", "movk w1, #0xffff",
    // bitfield, extract
    "lsl x0, x1, #13", "lsr w0, w1, #7", "asr x0, x1, #40", "asr w0, w1, #31", "ubfx x0, x1, #5, #17",
    "sbfx w0, w1, #3, #9", "sbfiz x0, x1, #12, #20", "ubfiz w0, w1, #30, #2", "bfi x1, x2, #8, #16",
    "bfxil w1, w2, #4, #12", "sxtb x0, w1", "sxth w0, w1", "sxtw x0, w1", "uxtb w0, w1", "uxth w0, w1",
    "bfm x1, x2, #60, #3", "sbfm x0, x1, #63, #0", "ubfm w0, w1, #31, #30",
    "extr x0, x1, x2, #13", "extr w0, w1, w2, #31", "ror x0, x1, #9", "ror w0, w1, #0",
    // conditional compare / select
    "ccmp x1, x2, #5, eq", "ccmp w1, #17, #2, ne", "ccmn x1, x2, #15, hi", "ccmn w1, #0, #0, ls",
    "ccmp x1, x2, #8, ge", "ccmp x1, x2, #1, lt", "ccmp x1, x2, #3, gt", "ccmp x1, x2, #4, le",
    "ccmp x1, x2, #6, cs", "ccmp x1, x2, #7, cc", "ccmp x1, x2, #9, mi", "ccmp x1, x2, #10, pl",
    "ccmp x1, x2, #11, vs", "ccmp x1, x2, #12, vc", "ccmp x1, x2, #13, al",
    "csel x0, x1, x2, eq", "csel w0, w1, w2, ne", "csinc x0, x1, x2, hi", "csinv w0, w1, w2, ls",
    "csneg x0, x1, x2, ge", "cset w0, lt", "csetm x0, gt", "cinc w0, w1, le", "cneg x0, x1, mi",
    // multiply / divide
    "mul x0, x1, x2", "madd w0, w1, w2, w3", "msub x0, x1, x2, x3", "mneg w0, w1, w2",
    "smaddl x0, w1, w2, x3", "smsubl x0, w1, w2, x3", "umaddl x0, w1, w2, x3", "umsubl x0, w1, w2, x3",
    "smulh x0, x1, x2", "umulh x0, x1, x2", "smull x0, w1, w2", "umull x0, w1, w2",
    "udiv x0, x1, x2", "sdiv x0, x1, x2", "udiv w0, w1, w2", "sdiv w0, w1, w2", "sdiv x0, x1, xzr",
    // variable shifts and 1-source
    "lsl x0, x1, x2", "lsr w0, w1, w2", "asr x0, x1, x2", "ror w0, w1, w2", "asr w0, w1, w2", "ror x0, x1, x2",
    "rbit x0, x1", "rbit w0, w1", "rev16 x0, x1", "rev16 w0, w1", "rev32 x0, x1", "rev w0, w1", "rev x0, x1",
    "crc32b w0, w1, w2", "crc32h w0, w1, w2", "crc32w w0, w1, w2", "crc32x w0, w1, x2",
    "crc32cb w0, w1, w2", "crc32ch w0, w1, w2", "crc32cw w0, w1, w2", "crc32cx w0, w1, x2",
    "clz x0, x1", "clz w0, w1", "cls x0, x1", "cls w0, w1", "clz x0, xzr",
    // loads and stores (bases in x20..x23, x24 small)
    "ldr x0, [x20]", "ldr w0, [x20, #12]", "ldrb w0, [x21, #255]", "ldrh w0, [x21, #30]",
    "ldrsb x0, [x20, #3]", "ldrsb w0, [x20, #7]", "ldrsh x0, [x20, #6]", "ldrsh w0, [x21, #2]",
    "ldrsw x0, [x20, #4]", "ldur x0, [x21, #-5]", "ldursh w0, [x21, #-1]", "ldurb w0, [x21, #-200]",
    "str x1, [x20, #8]", "str w1, [x21, #4]", "strb w1, [x20, #1]", "strh w1, [x21, #-3]",
    "stur x1, [x21, #-9]", "ldr x0, [x20, #8]!", "ldr x0, [x20], #-8", "str w1, [x21, #-4]!",
    "strb w1, [x21], #1", "ldrsw x0, [x20], #4", "ldr x0, [x20, x24]", "ldr x0, [x20, x24, lsl #3]",
    "ldr w0, [x21, w24, sxtw]", "ldrsh x0, [x20, w24, uxtw #1]", "strh w1, [x20, x24, lsl #1]",
    "ldrb w0, [x21, x24]", "str x1, [x22, w24, sxtw #3]",
    "ldp x0, x1, [x20]", "ldp w0, w1, [x21, #-8]", "ldpsw x0, x1, [x20, #8]", "ldp x0, x1, [x22, #16]!",
    "ldp x0, x1, [x22], #-16", "stp x1, x2, [x20, #-16]", "stp w1, w2, [x21, #4]!", "stp x1, x2, [x21], #32",
    "stnp x1, x2, [x20]", "ldnp w0, w1, [x21]", "stp x1, x2, [sp, #-16]!", "ldp x0, x1, [sp], #16",
    "ldpsw x0, x1, [x21, #-8]!",
    "ldxr x0, [x20]\n stxr w5, x1, [x20]", "ldaxrb w0, [x21]\n stlxrb w5, w1, [x21]",
    "ldxp x0, x1, [x22]\n stxp w5, x2, x3, [x22]", "ldaxp w0, w1, [x22]\n stlxp w5, w2, w3, [x22]",
    "ldar w0, [x20]", "stlr x1, [x20]", "stlrh w1, [x23]", "ldarh w0, [x22]", "stlrb w1, [x22]",
    "ldr x0, [x20, #8]\n add x0, x0, x1\n str x0, [x20, #16]",
    // flag producers followed by consumers inside one block
    "adds x0, x1, x2\n adc x3, x1, x2\n cset w4, vs",
    "subs w0, w1, w2\n sbcs w3, w1, w2\n csinc x4, x1, x2, cc",
    "cmp x1, x2\n b.lt 1f\n mov x0, #1\n1: add x5, x5, #1",
    "cbz x1, 1f\n mov x0, #1\n1: tbnz w2, #5, 2f\n mov x3, #3\n2: nop",
    "tbz x1, #63, 1f\n mov x0, #1\n1: nop",
    "adr x0, .\n adrp x1, .\n sub x0, x0, x1",
};

constexpr uint64_t kDataSize = 1024;
constexpr uint64_t kStride = 0x100;  // bytes of code per template

uint64_t random_value(std::mt19937_64& rng) {
    static const uint64_t kSpecial[] = {0,
                                        1,
                                        2,
                                        ~0ull,
                                        0x7fffffffffffffffull,
                                        0x8000000000000000ull,
                                        0x7fffffffull,
                                        0x80000000ull,
                                        0xffffffffull,
                                        0x100000000ull,
                                        0xffffffff80000000ull,
                                        63,
                                        64,
                                        31,
                                        32};
    switch (rng() % 4) {
        case 0: return kSpecial[rng() % std::size(kSpecial)];
        case 1: return rng() & 0xff;
        default: return rng();
    }
}

class Oracle : public ::testing::TestWithParam<Backend> {};

TEST_P(Oracle, TemplatesMatchUnicorn) {
    UnicornOracle* uc = UnicornOracle::get();
    if (!uc) GTEST_SKIP() << "libunicorn.so.2 not available: SKIPPING the Unicorn differential test";
    // Assemble every template into its own slot, each ending in wfi.
    std::string src;
    for (size_t i = 0; i < std::size(kTemplates); ++i) {
        src += ".balign " + std::to_string(kStride) + "\nt" + std::to_string(i) + ":\n " + kTemplates[i] + "\n wfi\n";
    }
    std::string err;
    auto words = assemble(src, &err);
    if (!words) GTEST_SKIP() << "aarch64-linux-gnu-as not installed: SKIPPING";
    ASSERT_FALSE(words->empty()) << err;

    Machine m(GetParam());
    m.load(kCode, *words);
    std::mt19937_64 rng(0xc0ffee);
    constexpr int kRuns = 12;
    int compared = 0;
    for (size_t t = 0; t < std::size(kTemplates); ++t) {
        const uint64_t base = kCode + t * kStride;
        const size_t first = t * kStride / 4;
        std::vector<uint32_t> code;
        size_t wfi_at = first;
        while (wfi_at < words->size() && (*words)[wfi_at] != kWfi) ++wfi_at;
        ASSERT_LT(wfi_at, words->size());
        code.assign(words->begin() + long(first), words->begin() + long(wfi_at) + 1);
        for (int run = 0; run < kRuns; ++run) {
            OracleState init;
            for (auto& r : init.x) r = random_value(rng);
            init.x[20] = kData + 0x100;
            init.x[21] = kData + 0x201;
            init.x[22] = kData + 0x300;
            init.x[23] = kData + 0x180;
            init.x[24] = rng() % 16;
            init.sp = kData + 0x380;
            init.nzcv = uint32_t(rng() & 0xf);
            init.data.resize(kDataSize);
            for (auto& b : init.data) b = uint8_t(rng());

            auto want = uc->run(kRamBase, kRamSize, base, code, base + (code.size() - 1) * 4, init, kData);
            ASSERT_TRUE(want) << "unicorn failed on: " << kTemplates[t];

            m.frontend.reset(m.s(), base);
            std::memcpy(m.s().x, init.x, sizeof init.x);
            m.s().sp_el1 = init.sp;
            m.s().n = (init.nzcv >> 3) & 1;
            m.s().z = (init.nzcv >> 2) & 1;
            m.s().c = (init.nzcv >> 1) & 1;
            m.s().v = init.nzcv & 1;
            m.s().vbar_el1 = kVectors;
            std::memcpy(m.bus.ram.data() + (kData - kRamBase), init.data.data(), kDataSize);
            RunExit e = m.resume();
            ASSERT_EQ(e.kind, RunExit::Kind::kHalt) << kTemplates[t];
            ASSERT_EQ(m.s().common.pc, want->pc + 4) << kTemplates[t] << ": ended elsewhere (exception?)";
            for (int r = 0; r < 31; ++r) {
                EXPECT_EQ(m.s().x[r], want->x[r]) << kTemplates[t] << ": x" << r << " (run " << run << ")";
            }
            EXPECT_EQ(m.s().sp_el1, want->sp) << kTemplates[t] << ": sp";
            EXPECT_EQ(m.nzcv(), want->nzcv) << kTemplates[t] << ": nzcv (run " << run << ")";
            EXPECT_EQ(0, std::memcmp(m.bus.ram.data() + (kData - kRamBase), want->data.data(), kDataSize))
                << kTemplates[t] << ": memory";
            ++compared;
            if (::testing::Test::HasFailure()) return;
        }
    }
    EXPECT_EQ(compared, int(std::size(kTemplates)) * kRuns);
}

INSTANTIATE_TEST_SUITE_P(Backends, Oracle, ::testing::Values(Backend::kInterp, Backend::kJit), param_name);

}  // namespace
}  // namespace corvid::a64test
