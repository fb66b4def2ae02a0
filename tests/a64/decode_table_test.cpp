// The A64 decode table: well-formed rows, no ambiguous overlaps, and known encodings (taken
// from the GNU assembler) decoding to the expected rows.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>

#include "frontends/a64/decode_table.h"

namespace corvid {
namespace {

// Words produced by aarch64-linux-gnu-as for the listed source lines.
struct Known {
    uint32_t word;
    const char* row;
    const char* source;
};
constexpr Known kKnown[] = {
    {0x10000000, "ADR", "adr x0, ."},
    {0x90000001, "ADRP", "adrp x1, ."},
    {0x91001062, "ADD_imm", "add x2, x3, #4"},
    {0x31401062, "ADDS_imm", "adds w2, w3, #4, lsl #12"},
    {0xf10007ff, "SUBS_imm", "subs xzr, sp, #1"},
    {0x92401c20, "AND_imm", "and x0, x1, #0xff"},
    {0x3200f3e0, "ORR_imm", "orr w0, wzr, #0x55555555"},
    {0xd2400020, "EOR_imm", "eor x0, x1, #1"},
    {0x721c0c20, "ANDS_imm", "ands w0, w1, #0xf0"},
    {0x92800020, "MOVN", "movn x0, #1"},
    {0x52a00020, "MOVZ", "movz w0, #1, lsl #16"},
    {0xf2e00020, "MOVK", "movk x0, #1, lsl #48"},
    {0x93410820, "SBFM", "sbfm x0, x1, #1, #2"},
    {0x33031020, "BFM", "bfm w0, w1, #3, #4"},
    {0xd37ff820, "UBFM", "ubfm x0, x1, #63, #62"},
    {0x93c21c20, "EXTR", "extr x0, x1, x2, #7"},
    {0x14000000, "B", "b ."},
    {0x94000000, "BL", "bl ."},
    {0x34000000, "CBZ", "cbz w0, ."},
    {0xb5000000, "CBNZ", "cbnz x0, ."},
    {0x36180000, "TBZ", "tbz w0, #3, ."},
    {0xb7400000, "TBNZ", "tbnz x0, #40, ."},
    {0x54000001, "B_cond", "b.ne ."},
    {0xd4000021, "SVC", "svc #1"},
    {0xd4000002, "HVC", "hvc #0"},
    {0xd4000003, "SMC", "smc #0"},
    {0xd4200040, "BRK", "brk #2"},
    {0xd45e0000, "HLT", "hlt #0xf000"},
    {0xd50320df, "HINT", "hint #6"},
    {0xd503201f, "NOP", "nop"},
    {0xd503203f, "YIELD", "yield"},
    {0xd503205f, "WFE", "wfe"},
    {0xd503207f, "WFI", "wfi"},
    {0xd503209f, "SEV", "sev"},
    {0xd50320bf, "SEVL", "sevl"},
    {0xd5033f5f, "CLREX", "clrex"},
    {0xd5033f9f, "DSB", "dsb sy"},
    {0xd5033bbf, "DMB", "dmb ish"},
    {0xd5033fdf, "ISB", "isb"},
    {0xd50342df, "MSR_imm", "msr daifset, #2"},
    {0xd50041bf, "MSR_imm", "msr spsel, #1"},
    {0xd50b7420, "SYS", "dc zva, x0"},
    {0xd518c000, "MSR_reg", "msr vbar_el1, x0"},
    {0xd5380000, "MRS", "mrs x0, midr_el1"},
    {0xd61f0020, "BR", "br x1"},
    {0xd63f0040, "BLR", "blr x2"},
    {0xd65f03c0, "RET", "ret"},
    {0xd69f03e0, "ERET", "eret"},
    {0xc8007c41, "STXR", "stxr w0, x1, [x2]"},
    {0x0800fc41, "STLXR", "stlxrb w0, w1, [x2]"},
    {0xc85f7c20, "LDXR", "ldxr x0, [x1]"},
    {0x485ffc20, "LDAXR", "ldaxrh w0, [x1]"},
    {0xc8200861, "STXP", "stxp w0, x1, x2, [x3]"},
    {0x88208861, "STLXP", "stlxp w0, w1, w2, [x3]"},
    {0xc87f0440, "LDXP", "ldxp x0, x1, [x2]"},
    {0x887f8440, "LDAXP", "ldaxp w0, w1, [x2]"},
    {0xc89ffc20, "STLR", "stlr x0, [x1]"},
    {0x88dffc20, "LDAR", "ldar w0, [x1]"},
    {0x18000000, "LDR_lit", "ldr w0, ."},
    {0x58000000, "LDR_lit", "ldr x0, ."},
    {0x98000000, "LDRSW_lit", "ldrsw x0, ."},
    {0xd8000000, "PRFM_lit", "prfm pldl1keep, ."},
    {0xa8000440, "STNP", "stnp x0, x1, [x2]"},
    {0x28410440, "LDNP", "ldnp w0, w1, [x2, #8]"},
    {0xa9bf07e0, "STP", "stp x0, x1, [sp, #-16]!"},
    {0xa8c107e0, "LDP", "ldp x0, x1, [sp], #16"},
    {0x29408440, "LDP", "ldp w0, w1, [x2, #4]"},
    {0x69400440, "LDPSW", "ldpsw x0, x1, [x2]"},
    {0xf85ff020, "LDST_imm9", "ldur x0, [x1, #-1]"},
    {0xb8004420, "LDST_imm9", "str w0, [x1], #4"},
    {0x38801c20, "LDST_imm9", "ldrsb x0, [x1, #1]!"},
    {0xf8400820, "LDST_imm9", "ldtr x0, [x1]"},
    {0xf9400420, "LDST_uimm", "ldr x0, [x1, #8]"},
    {0x393ffc20, "LDST_uimm", "strb w0, [x1, #4095]"},
    {0xf9800020, "LDST_uimm", "prfm pldl1keep, [x1]"},
    {0xf8627820, "LDST_reg", "ldr x0, [x1, x2, lsl #3]"},
    {0x78e2c820, "LDST_reg", "ldrsh w0, [x1, w2, sxtw]"},
    {0x8a020c20, "AND_shift", "and x0, x1, x2, lsl #3"},
    {0x0a220020, "BIC_shift", "bic w0, w1, w2"},
    {0xaa020020, "ORR_shift", "orr x0, x1, x2"},
    {0xaa2203e0, "ORN_shift", "orn x0, xzr, x2"},
    {0xcac21420, "EOR_shift", "eor x0, x1, x2, ror #5"},
    {0x4a220020, "EON_shift", "eon w0, w1, w2"},
    {0xea020020, "ANDS_shift", "ands x0, x1, x2"},
    {0xea220020, "BICS_shift", "bics x0, x1, x2"},
    {0x8b020820, "ADD_shift", "add x0, x1, x2, lsl #2"},
    {0x2b020020, "ADDS_shift", "adds w0, w1, w2"},
    {0xcb820c20, "SUB_shift", "sub x0, x1, x2, asr #3"},
    {0xeb020020, "SUBS_shift", "subs x0, x1, x2"},
    {0x8b214be0, "ADD_ext", "add x0, sp, w1, uxtw #2"},
    {0xab228020, "ADDS_ext", "adds x0, x1, w2, sxtb"},
    {0xcb2163ff, "SUB_ext", "sub sp, sp, x1"},
    {0xeb22e020, "SUBS_ext", "subs x0, x1, x2, sxtx"},
    {0x9a020020, "ADC", "adc x0, x1, x2"},
    {0x3a020020, "ADCS", "adcs w0, w1, w2"},
    {0xda020020, "SBC", "sbc x0, x1, x2"},
    {0x7a020020, "SBCS", "sbcs w0, w1, w2"},
    {0xba410002, "CCMN_reg", "ccmn x0, x1, #2, eq"},
    {0x7a411000, "CCMP_reg", "ccmp w0, w1, #0, ne"},
    {0xba43b804, "CCMN_imm", "ccmn x0, #3, #4, lt"},
    {0xfa5fc80f, "CCMP_imm", "ccmp x0, #31, #15, gt"},
    {0x9a820020, "CSEL", "csel x0, x1, x2, eq"},
    {0x1a821420, "CSINC", "csinc w0, w1, w2, ne"},
    {0xda828020, "CSINV", "csinv x0, x1, x2, hi"},
    {0x5a829420, "CSNEG", "csneg w0, w1, w2, ls"},
    {0x9b020c20, "MADD", "madd x0, x1, x2, x3"},
    {0x1b028c20, "MSUB", "msub w0, w1, w2, w3"},
    {0x9b220c20, "SMADDL", "smaddl x0, w1, w2, x3"},
    {0x9b228c20, "SMSUBL", "smsubl x0, w1, w2, x3"},
    {0x9b427c20, "SMULH", "smulh x0, x1, x2"},
    {0x9ba20c20, "UMADDL", "umaddl x0, w1, w2, x3"},
    {0x9ba28c20, "UMSUBL", "umsubl x0, w1, w2, x3"},
    {0x9bc27c20, "UMULH", "umulh x0, x1, x2"},
    {0x9ac20820, "UDIV", "udiv x0, x1, x2"},
    {0x1ac20c20, "SDIV", "sdiv w0, w1, w2"},
    {0x9ac22020, "LSLV", "lslv x0, x1, x2"},
    {0x1ac22420, "LSRV", "lsrv w0, w1, w2"},
    {0x9ac22820, "ASRV", "asrv x0, x1, x2"},
    {0x1ac22c20, "RORV", "rorv w0, w1, w2"},
    {0xdac00020, "RBIT", "rbit x0, x1"},
    {0x5ac00420, "REV16", "rev16 w0, w1"},
    {0xdac00820, "REV32", "rev32 x0, x1"},
    {0xdac00c20, "REV64", "rev x0, x1"},
    {0x5ac01020, "CLZ", "clz w0, w1"},
    {0xdac01420, "CLS", "cls x0, x1"},
};

const A64Encoding& row(A64Op op) { return a64_encodings()[size_t(op)]; }

TEST(A64DecodeTable, RowsAreWellFormed) {
    auto rows = a64_encodings();
    ASSERT_EQ(rows.size(), size_t(A64Op::kCount));
    std::set<std::string> names;
    for (const A64Encoding& e : rows) {
        ASSERT_EQ(std::strlen(e.pattern), 32u) << e.name;
        EXPECT_TRUE(names.insert(e.name).second) << "duplicate row name " << e.name;
        uint32_t mask = 0, value = 0;
        for (int i = 0; i < 32; ++i) {
            const uint32_t bit = 1u << (31 - i);
            if (e.pattern[i] == '0' || e.pattern[i] == '1') mask |= bit;
            if (e.pattern[i] == '1') value |= bit;
        }
        EXPECT_EQ(e.mask, mask) << e.name;
        EXPECT_EQ(e.value, value) << e.name;
        EXPECT_EQ(e.value & ~e.mask, 0u) << e.name;
        EXPECT_GT(std::strlen(e.description), 0u) << e.name;
        EXPECT_GT(std::strlen(e.handler), 0u) << e.name;
    }
}

// Two rows may match a common word only if one row's matches are a strict subset of the
// other's (more fixed bits, agreeing on the other's fixed bits): then "most specific wins"
// is unambiguous. Anything else would make decoding depend on table order.
TEST(A64DecodeTable, NoAmbiguousOverlaps) {
    auto rows = a64_encodings();
    int nested = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t j = i + 1; j < rows.size(); ++j) {
            const A64Encoding& a = rows[i];
            const A64Encoding& b = rows[j];
            const uint32_t common = a.mask & b.mask;
            if ((a.value & common) != (b.value & common)) continue;  // disjoint
            const bool a_in_b = (a.mask & b.mask) == b.mask && a.mask != b.mask;  // a more specific
            const bool b_in_a = (a.mask & b.mask) == a.mask && a.mask != b.mask;
            EXPECT_TRUE(a_in_b || b_in_a) << "ambiguous overlap: " << a.name << " and " << b.name;
            ++nested;
        }
    }
    // The hint space (NOP, WFI, ... inside HINT) and STNP/LDNP inside STP/LDP nest on purpose.
    EXPECT_GE(nested, 8);
}

TEST(A64DecodeTable, KnownEncodingsDecodeToTheirRows) {
    for (const Known& k : kKnown) {
        A64Op op = a64_decode(k.word);
        ASSERT_NE(op, A64Op::kCount) << k.source << " (0x" << std::hex << k.word << ") did not decode";
        EXPECT_STREQ(row(op).name, k.row) << k.source << " (0x" << std::hex << k.word << ")";
    }
}

TEST(A64DecodeTable, MostSpecificRowWins) {
    // wfi is inside HINT's pattern too; hint #6 only matches HINT.
    EXPECT_EQ(a64_decode(0xd503207f), A64Op::WFI);
    EXPECT_EQ(a64_decode(0xd50320df), A64Op::HINT);
    EXPECT_EQ(a64_decode(0xa9000440), A64Op::STP);   // stp x0, x1, [x2]
    EXPECT_EQ(a64_decode(0xa8000440), A64Op::STNP);  // stnp x0, x1, [x2]
}

TEST(A64DecodeTable, UnallocatedAndFpSimdDecodeToNothing) {
    EXPECT_EQ(a64_decode(0x00000000), A64Op::kCount);  // udf #0
    EXPECT_EQ(a64_decode(0x1e201000), A64Op::kCount);  // fmov s0, #2.0
    EXPECT_EQ(a64_decode(0x4e208400), A64Op::kCount);  // add v0.16b, v0.16b, v0.16b
    EXPECT_EQ(a64_decode(0xfd400020), A64Op::kCount);  // ldr d0, [x1]
    EXPECT_EQ(a64_decode(0xf8208020), A64Op::kCount);  // swp x0, x0, [x1] (v8.1 LSE)
}

// The decoder against a brute-force scan of the table for random words: the bucketed search
// must return exactly the most specific matching row.
TEST(A64DecodeTable, DecoderAgreesWithBruteForce) {
    auto rows = a64_encodings();
    std::mt19937 rng(1234);
    for (int i = 0; i < 200000; ++i) {
        uint32_t w = rng();
        // Bias half the samples towards real encodings: take a row's value and fill the holes.
        if (i & 1) {
            const A64Encoding& e = rows[rng() % rows.size()];
            w = e.value | (w & ~e.mask);
        }
        int best = -1;
        for (size_t r = 0; r < rows.size(); ++r) {
            if ((w & rows[r].mask) != rows[r].value) continue;
            if (best < 0 || a64_specificity(rows[r]) > a64_specificity(rows[size_t(best)])) best = int(r);
        }
        A64Op got = a64_decode(w);
        ASSERT_EQ(got, best < 0 ? A64Op::kCount : A64Op(best)) << std::hex << w;
    }
}

}  // namespace
}  // namespace corvid
