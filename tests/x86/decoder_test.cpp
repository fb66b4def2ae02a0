// The x86 decoder: prefixes, REX, ModRM/SIB/displacement forms (16/32/64-bit, RIP-relative),
// immediates, and instruction lengths against Capstone over random byte strings.
#include <capstone/capstone.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "frontends/x86/x86_decoder.h"

namespace corvid::x86 {
namespace {

DecodeStatus dec(X86Insn& in, const std::vector<uint8_t>& bytes, unsigned code_size) {
    size_t pos = 0;
    ByteSource next = [&](uint8_t* b) {
        if (pos >= bytes.size()) return false;
        *b = bytes[pos++];
        return true;
    };
    unsigned fault = 0;
    return decode(in, 0x1000, code_size, next, &fault);
}

TEST(X86Decoder, SibAndDisp32) {
    X86Insn in;
    ASSERT_EQ(dec(in, {0x48, 0x8b, 0x84, 0x91, 0x78, 0x56, 0x34, 0x12}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.len, 8);
    EXPECT_EQ(in.opsize, 8);
    EXPECT_EQ(in.reg, 0);
    EXPECT_EQ(in.base, 1);
    EXPECT_EQ(in.index, 2);
    EXPECT_EQ(in.scale, 2);
    EXPECT_EQ(in.disp, 0x12345678);
    EXPECT_FALSE(in.rip_rel);
}

TEST(X86Decoder, RipRelativeOnlyIn64BitMode) {
    X86Insn in;
    ASSERT_EQ(dec(in, {0x8b, 0x05, 0x10, 0, 0, 0}, 8), DecodeStatus::kOk);
    EXPECT_TRUE(in.rip_rel);
    EXPECT_EQ(in.disp, 16);
    EXPECT_EQ(in.len, 6);
    ASSERT_EQ(dec(in, {0x8b, 0x05, 0x10, 0, 0, 0}, 4), DecodeStatus::kOk);
    EXPECT_FALSE(in.rip_rel);
    EXPECT_EQ(in.base, -1);
}

TEST(X86Decoder, RexExtendsRegistersAndR12R13Forms) {
    X86Insn in;
    // mov r9, [r12] needs a SIB; mov r8, [r13+0] needs a disp8.
    ASSERT_EQ(dec(in, {0x4d, 0x8b, 0x0c, 0x24}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.reg, 9);
    EXPECT_EQ(in.base, 12);
    EXPECT_EQ(in.index, -1);
    ASSERT_EQ(dec(in, {0x4d, 0x8b, 0x45, 0x00}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.reg, 8);
    EXPECT_EQ(in.base, 13);
    // REX.X with index 4 is r12 (not "no index").
    ASSERT_EQ(dec(in, {0x4a, 0x8b, 0x04, 0x20}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.index, 12);
}

TEST(X86Decoder, SixteenBitAddressing) {
    X86Insn in;
    ASSERT_EQ(dec(in, {0x67, 0x8b, 0x47, 0x08}, 4), DecodeStatus::kOk);  // mov eax, [bx+8]
    EXPECT_EQ(in.addrsize, 2);
    EXPECT_EQ(in.base, 3);
    EXPECT_EQ(in.index, -1);
    EXPECT_EQ(in.disp, 8);
    ASSERT_EQ(dec(in, {0x67, 0x8b, 0x02}, 4), DecodeStatus::kOk);  // [bp+si]: SS default
    EXPECT_EQ(in.base, 5);
    EXPECT_EQ(in.index, 6);
    EXPECT_TRUE(in.bp_base);
}

TEST(X86Decoder, PrefixesAndSizes) {
    X86Insn in;
    ASSERT_EQ(dec(in, {0x66, 0xb8, 0x34, 0x12}, 8), DecodeStatus::kOk);  // mov ax, 0x1234
    EXPECT_EQ(in.opsize, 2);
    EXPECT_EQ(in.imm, 0x1234u);
    ASSERT_EQ(dec(in, {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 8), DecodeStatus::kOk);  // movabs
    EXPECT_EQ(in.imm, 0x0807060504030201ull);
    EXPECT_EQ(in.len, 10);
    ASSERT_EQ(dec(in, {0x48, 0x83, 0xc0, 0xff}, 8), DecodeStatus::kOk);  // add rax, -1
    EXPECT_EQ(in.imm, ~0ull);
    ASSERT_EQ(dec(in, {0x50}, 8), DecodeStatus::kOk);  // push rax: 64-bit default
    EXPECT_EQ(in.opsize, 8);
    ASSERT_EQ(dec(in, {0x64, 0xf3, 0x48, 0xa5}, 8), DecodeStatus::kOk);  // rep movsq fs:
    EXPECT_EQ(in.seg, 4);
    EXPECT_TRUE(in.rep);
    EXPECT_EQ(in.opsize, 8);
    // REX before a legacy prefix is ignored.
    ASSERT_EQ(dec(in, {0x48, 0x66, 0x89, 0xc0}, 8), DecodeStatus::kOk);
    EXPECT_FALSE(in.rex_w);
    EXPECT_EQ(in.opsize, 2);
    // F6 /0 has an immediate, F6 /2 has none.
    ASSERT_EQ(dec(in, {0xf6, 0xc1, 0x80}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.len, 3);
    ASSERT_EQ(dec(in, {0xf6, 0xd1}, 8), DecodeStatus::kOk);
    EXPECT_EQ(in.len, 2);
    // Far jump ptr16:32 in 32-bit code.
    ASSERT_EQ(dec(in, {0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00}, 4), DecodeStatus::kOk);
    EXPECT_EQ(in.imm, 0x12345678u);
    EXPECT_EQ(in.imm2, 8u);
}

TEST(X86Decoder, InvalidAndTruncated) {
    X86Insn in;
    EXPECT_EQ(dec(in, {0x06}, 8), DecodeStatus::kInvalid);      // push es in 64-bit mode
    EXPECT_EQ(dec(in, {0x06}, 4), DecodeStatus::kOk);
    EXPECT_EQ(dec(in, {0x0f, 0x04}, 8), DecodeStatus::kInvalid);
    EXPECT_EQ(dec(in, {0x8b}, 8), DecodeStatus::kFetchFault);
    std::vector<uint8_t> many(16, 0x66);
    EXPECT_EQ(dec(in, many, 8), DecodeStatus::kTooLong);
}

// Every decodable random byte string must have the length Capstone gives it.
TEST(X86Decoder, LengthsMatchCapstone) {
    for (unsigned code_size : {4u, 8u}) {
        csh h;
        ASSERT_EQ(cs_open(CS_ARCH_X86, code_size == 8 ? CS_MODE_64 : CS_MODE_32, &h), CS_ERR_OK);
        std::mt19937_64 rng(42 + code_size);
        static constexpr uint8_t kPrefixes[] = {0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x64, 0xf0, 0x48, 0x41, 0x4c};
        unsigned compared = 0;
        for (unsigned iter = 0; iter < 200000; ++iter) {
            std::vector<uint8_t> bytes(15);
            for (auto& b : bytes) b = uint8_t(rng());
            unsigned p = 0;
            if (rng() % 3 == 0) bytes[p++] = kPrefixes[rng() % std::size(kPrefixes)];
            if (code_size == 8 && rng() % 2 == 0) bytes[p++] = uint8_t(0x40 | (rng() & 15));
            if (rng() % 4 == 0) bytes[p] = 0x0f;
            X86Insn in;
            if (dec(in, bytes, code_size) != DecodeStatus::kOk) continue;
            // Vendors (and Capstone) disagree on 66-prefixed near branches in 64-bit mode, and
            // Capstone 4 wrongly shortens 67-prefixed ones.
            if (code_size == 8 && (in.opsize_prefix || in.addrsize_prefix) && (in.entry->flags & kForce64)) continue;
            // ud1 (and ud0) are #UD whatever their length; Capstone 4 gives them no ModRM.
            if (std::string(in.entry->name).rfind("ud", 0) == 0) continue;
            cs_insn* insn = nullptr;
            const size_t n = cs_disasm(h, bytes.data(), bytes.size(), 0x1000, 1, &insn);
            if (n != 1) continue;
            EXPECT_EQ(unsigned(in.len), unsigned(insn[0].size))
                << "bytes " << std::hex << unsigned(bytes[0]) << " " << unsigned(bytes[1]) << " "
                << unsigned(bytes[2]) << " " << unsigned(bytes[3]) << ": " << insn[0].mnemonic << " " << insn[0].op_str;
            cs_free(insn, n);
            ++compared;
            if (::testing::Test::HasFailure()) break;
        }
        cs_close(&h);
        EXPECT_GT(compared, 20000u);
    }
}

}  // namespace
}  // namespace corvid::x86
