// Random instructions from the decode table's data-processing rows, run on Corvid (interpreter
// and JIT) and on Unicorn: results, flags and UNDEFINED-ness must agree. (Loads, stores and
// branches are covered by the templates in oracle_test.cpp.)
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "frontends/a64/decode_table.h"
#include "tests/a64/a64_harness.h"
#include "tests/a64/unicorn_oracle.h"

namespace corvid::a64test {
namespace {

const std::set<std::string> kHandlers = {
    "add_sub_imm",     "logical_imm",      "move_wide",     "bitfield",       "extract",
    "logical_shifted", "add_sub_shifted",  "add_sub_extended", "add_sub_carry", "cond_compare",
    "cond_select",     "data_proc_3src",   "data_proc_2src",   "data_proc_1src", "pc_rel", "crc32",
};

class RandomOracle : public ::testing::TestWithParam<Backend> {};

TEST_P(RandomOracle, DataProcessingRowsMatchUnicorn) {
    UnicornOracle* uc = UnicornOracle::get();
    if (!uc) GTEST_SKIP() << "libunicorn.so.2 not available: SKIPPING the Unicorn differential test";
    Machine m(GetParam());
    std::mt19937_64 rng(0x5eed);
    int compared = 0, undefined = 0;
    for (const A64Encoding& e : a64_encodings()) {
        if (!kHandlers.count(e.handler)) continue;
        for (int k = 0; k < 40; ++k) {
            const uint32_t insn = e.value | (uint32_t(rng()) & ~e.mask);
            const uint64_t base = kCode + uint64_t(compared % 1024) * 8;
            const std::vector<uint32_t> code = {insn, kWfi};
            OracleState init;
            for (auto& r : init.x) r = (rng() % 3 == 0) ? (rng() & 0xff) : rng();
            init.sp = kData + 0x400;
            init.nzcv = uint32_t(rng() & 0xf);
            auto want = uc->run(kRamBase, kRamSize, base, code, base + 4, init, kData);

            m.load(base, code);
            m.frontend.reset(m.s(), base);
            std::memcpy(m.s().x, init.x, sizeof init.x);
            m.s().sp_el1 = init.sp;
            m.s().n = (init.nzcv >> 3) & 1;
            m.s().z = (init.nzcv >> 2) & 1;
            m.s().c = (init.nzcv >> 1) & 1;
            m.s().v = init.nzcv & 1;
            m.s().vbar_el1 = kVectors;
            m.resume();
            const bool corvid_undef = m.s().common.pc == kVectors + 0x204;
            ASSERT_EQ(corvid_undef, !want.has_value())
                << e.name << " 0x" << std::hex << insn << ": UNDEFINED on " << (corvid_undef ? "Corvid" : "Unicorn")
                << " only";
            if (corvid_undef) {
                ++undefined;
                continue;
            }
            for (int r = 0; r < 31; ++r) {
                ASSERT_EQ(m.s().x[r], want->x[r]) << e.name << " 0x" << std::hex << insn << ": x" << std::dec << r;
            }
            ASSERT_EQ(m.s().sp_el1, want->sp) << e.name << " 0x" << std::hex << insn;
            ASSERT_EQ(m.nzcv(), want->nzcv) << e.name << " 0x" << std::hex << insn << ": nzcv";
            ++compared;
        }
    }
    EXPECT_GT(compared, 2000);
    RecordProperty("undefined", undefined);
}

INSTANTIATE_TEST_SUITE_P(Backends, RandomOracle, ::testing::Values(Backend::kInterp, Backend::kJit), param_name);

}  // namespace
}  // namespace corvid::a64test
