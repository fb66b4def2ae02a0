// Integer ISA against the host CPU as the oracle: each case is a snippet that loads RAX RBX RCX
// RDX and the flags from memory, runs the instruction(s) under test and stores registers and
// flags back. The same bytes run natively (the host is x86-64) and in the guest (interpreter
// and JIT); registers must match exactly, flags under the case's mask of defined flags.
#include <sys/mman.h>

#include <random>

#include "tests/x86/x86_harness.h"

namespace corvid::x86test {
namespace {

constexpr uint64_t kArith = kFlagCf | kFlagPf | kFlagAf | kFlagZf | kFlagSf | kFlagOf;
constexpr uint64_t kNoAf = kArith & ~kFlagAf;
constexpr uint64_t kCfOf = kFlagCf | kFlagOf;

struct Case {
    const char* name;
    const char* code;  // Intel syntax, 64-bit, registers rax rbx rcx rdx only
    uint64_t flags;    // flags that must match
    unsigned count_bits = 0;  // >0: RCX is a shift count below 2^count_bits (undefined cases avoided)
};

const Case kCases[] = {
    {"add64", "add rax, rbx", kArith},
    {"add32", "add eax, ebx", kArith},
    {"add16", "add ax, bx", kArith},
    {"add8", "add al, bl", kArith},
    {"add8_high", "add ah, bh", kArith},
    {"sub64", "sub rax, rbx", kArith},
    {"sub32", "sub eax, ebx", kArith},
    {"sub8", "sub cl, dl", kArith},
    {"adc64", "adc rax, rbx", kArith},
    {"adc32", "adc eax, ebx", kArith},
    {"adc8", "adc al, bl", kArith},
    {"sbb64", "sbb rax, rbx", kArith},
    {"sbb16", "sbb ax, bx", kArith},
    {"sbb8", "sbb al, bl", kArith},
    {"cmp64", "cmp rax, rbx", kArith},
    {"cmp8", "cmp al, bl", kArith},
    {"and64", "and rax, rbx", kNoAf},
    {"or32", "or eax, ebx", kNoAf},
    {"xor16", "xor ax, bx", kNoAf},
    {"xor_self", "xor eax, eax", kNoAf},
    {"test8", "test al, bl", kNoAf},
    {"and_imm", "and rax, -16", kNoAf},
    {"add_imm8", "add ecx, 0x7f", kArith},
    {"sub_imm32", "sub rdx, 0x12345678", kArith},
    {"cmp_imm", "cmp bl, 0x80", kArith},
    {"inc64", "inc rax", kArith},
    {"inc8", "inc bl", kArith},
    {"dec32", "dec ecx", kArith},
    {"dec16", "dec dx", kArith},
    {"neg64", "neg rax", kArith},
    {"neg8", "neg bl", kArith},
    {"not32", "not ecx", kArith},
    {"shl64_cl", "shl rax, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 6},
    {"shr32_cl", "shr eax, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 5},
    {"sar16_cl", "sar bx, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 4},
    {"shl8_cl", "shl dl, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 3},
    {"shl_masked", "shl eax, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 8},
    {"shl1", "shl rax, 1", kNoAf},
    {"shr1", "shr ebx, 1", kNoAf},
    {"sar1", "sar dx, 1", kNoAf},
    {"sar_imm", "sar rax, 13", kFlagCf | kFlagZf | kFlagSf | kFlagPf},
    {"shr_imm", "shr ecx, 31", kFlagCf | kFlagZf | kFlagSf | kFlagPf},
    {"rol64_cl", "rol rax, cl", kFlagCf, 6},
    {"ror32_cl", "ror ebx, cl", kFlagCf, 5},
    {"rol8_cl", "rol al, cl", kFlagCf, 3},
    {"rol1", "rol rdx, 1", kCfOf},
    {"ror1", "ror eax, 1", kCfOf},
    {"rcl64_cl", "rcl rax, cl", kFlagCf, 6},
    {"rcr32_cl", "rcr ebx, cl", kFlagCf, 5},
    {"rcl8_cl", "rcl al, cl", kFlagCf, 3},
    {"rcl1", "rcl rdx, 1", kCfOf},
    {"rcr1", "rcr eax, 1", kCfOf},
    {"shld64", "shld rax, rbx, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 6},
    {"shrd32", "shrd eax, ebx, cl", kFlagCf | kFlagZf | kFlagSf | kFlagPf, 5},
    {"shld_imm", "shld rdx, rbx, 7", kFlagCf | kFlagZf | kFlagSf | kFlagPf},
    {"shrd_imm1", "shrd eax, ecx, 1", kNoAf},
    {"imul64_2", "imul rax, rbx", kCfOf},
    {"imul32_2", "imul eax, ebx", kCfOf},
    {"imul16_2", "imul ax, bx", kCfOf},
    {"imul_imm", "imul rcx, rdx, -7", kCfOf},
    {"imul_imm8", "imul ebx, eax, 100", kCfOf},
    {"imul1_64", "imul rbx", kCfOf},
    {"imul1_8", "imul cl", kCfOf},
    {"mul64", "mul rbx", kCfOf},
    {"mul32", "mul ecx", kCfOf},
    {"mul16", "mul dx", kCfOf},
    {"mul8", "mul bl", kCfOf},
    {"bsf64", "bsf rax, rbx", kFlagZf},
    {"bsr32", "bsr ecx, edx", kFlagZf},
    {"bsf16", "bsf ax, bx", kFlagZf},
    {"tzcnt64", "tzcnt rax, rbx", kFlagZf | kFlagCf},
    {"lzcnt32", "lzcnt ecx, edx", kFlagZf | kFlagCf},
    {"popcnt64", "popcnt rax, rbx", kArith},
    {"bt_reg", "bt rax, rbx", kFlagCf},
    {"bts_reg", "bts ecx, edx", kFlagCf},
    {"btr_reg", "btr rdx, rax", kFlagCf},
    {"btc_reg", "btc bx, ax", kFlagCf},
    {"bt_imm", "bt eax, 17", kFlagCf},
    {"bts_imm", "bts rbx, 63", kFlagCf},
    {"bswap64", "bswap rax", kArith},
    {"bswap32", "bswap ebx", kArith},
    {"xadd64", "xadd rax, rbx", kArith},
    {"xadd8", "xadd cl, dl", kArith},
    {"cmpxchg64", "cmpxchg rbx, rcx", kArith},
    {"cmpxchg32", "cmpxchg ebx, ecx", kArith},
    {"cmpxchg_eq", "mov rax, rbx\n cmpxchg rbx, rcx", kArith},
    {"xchg", "xchg rax, rbx\n xchg cl, dh", kArith},
    {"cbw", "cbw", kArith},
    {"cwde", "cwde", kArith},
    {"cdqe", "cdqe", kArith},
    {"cwd", "cwd", kArith},
    {"cdq", "cdq", kArith},
    {"cqo", "cqo", kArith},
    {"movzx", "movzx eax, bl\n movzx rcx, dx", kArith},
    {"movsx", "movsx rax, bl\n movsx ecx, dx", kArith},
    {"movsxd", "movsxd rdx, ebx", kArith},
    {"mov32_zero_ext", "mov eax, ebx\n mov cx, dx\n mov dl, bh", kArith},
    {"lea", "lea rax, [rbx+rcx*4+8]\n lea edx, [rbx+rbx*2-3]", kArith},
    {"setcc_from_flags", "seto al\n setb bl\n setz cl\n setbe dl\n sets ah\n setp bh\n setl ch\n setle dh", kArith},
    {"setcc_after_cmp", "cmp rax, rbx\n setl cl\n setb dl\n setle ch\n setbe dh\n seto bh", kArith},
    {"setcc_after_sub8", "sub al, bl\n setl cl\n setb dl\n setg ch\n seta dh", kArith},
    {"setcc_after_and", "and rax, rbx\n setle cl\n setl dl\n setz ch\n setbe dh", kNoAf},
    {"setcc_after_add", "add eax, ebx\n seto cl\n setb dl\n setg ch\n setp dh", kArith},
    {"setcc_after_inc", "inc al\n seto cl\n setb dl\n setle ch\n setnz dh", kArith},
    {"setcc_after_dec", "dec rbx\n seto cl\n setno dl", kArith},
    {"setcc_after_add64", "add rax, rbx\n setc cl\n setbe dl\n seta ch\n setae dh", kArith},
    {"setcc_after_sub_of", "sub ecx, edx\n seto al\n setno bl\n sub ax, bx\n seto dh", kArith},
    {"adc_after_add", "add al, bl\n adc cl, dl", kArith},
    {"cmov", "cmp rax, rbx\n cmovl rax, rcx\n cmovbe ebx, edx", kArith},
    {"cmov_false32", "cmp eax, eax\n cmovne eax, ebx", kArith},
    {"jcc_chain", "cmp rax, rbx\n jg 1f\n mov rcx, 1\n1:\n test edx, edx\n js 2f\n mov rdx, 2\n2:", kArith},
    {"adc_chain", "add rax, rbx\n adc rcx, rdx", kArith},
    {"sbb_chain", "sub eax, ebx\n sbb ecx, edx", kArith},
    {"lahf", "lahf", kArith},
    {"sahf", "mov ah, bl\n sahf", kArith},
    {"cmc", "cmc", kArith},
    {"clc_stc", "clc\n adc rax, rbx\n stc\n sbb rcx, rdx", kArith},
    {"pushf_popf", "and eax, 0x8d5\n or eax, 0x202\n push rax\n popfq\n pushfq\n pop rbx", kArith},
    {"loop_dec", "mov ecx, 5\n1:\n add rax, rbx\n loop 1b", kArith},
};

struct Regs {
    uint64_t in[4];
    uint64_t flags_in;
    uint64_t out[4];
    uint64_t flags_out;
};

const char* kPrologue = R"(
    push rbx
    push rbp
    mov rbp, rdi
    mov rax, [rbp]
    mov rbx, [rbp+8]
    mov rcx, [rbp+16]
    mov rdx, [rbp+24]
    push qword ptr [rbp+32]
    popfq
)";
const char* kEpilogue = R"(
    pushfq
    pop qword ptr [rbp+72]
    mov [rbp+40], rax
    mov [rbp+48], rbx
    mov [rbp+56], rcx
    mov [rbp+64], rdx
    pop rbp
    pop rbx
    ret
)";

uint64_t pick(std::mt19937_64& rng) {
    static constexpr uint64_t kEdges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                          0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
                                          ~0ull, ~0ull - 1, 0x100000000};
    switch (rng() % 4) {
        case 0: return kEdges[rng() % std::size(kEdges)];
        case 1: return rng() & 0xff;
        default: return rng();
    }
}

class AluOracleTest : public X86Test {};

TEST_P(AluOracleTest, MatchesHostCpu) {
    constexpr uint64_t kEntry = kCode + 0x800;
    constexpr unsigned kTrials = 150;
    const uint64_t seed = 0x5eed0000 + uint64_t(GetParam());
    std::mt19937_64 rng(seed);
    void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(page, MAP_FAILED);
    unsigned checked = 0;
    m_->enter_long_mode(kEntry);
    for (const Case& c : kCases) {
        std::string err;
        auto bytes = assemble(std::string(kPrologue) + c.code + "\n" + kEpilogue, 64, &err);
        if (!bytes) {
            munmap(page, 4096);
            GTEST_SKIP() << "GNU as not installed: SKIPPING x86 oracle test";
        }
        ASSERT_FALSE(bytes->empty()) << c.name << ": " << err;
        ASSERT_LT(bytes->size(), 0x800u);
        std::memcpy(page, bytes->data(), bytes->size());
        m_->load(kCode, *bytes);
        // Entry stub: mov rdi, kData; call kCode; hlt.
        std::vector<uint8_t> stub = {0x48, 0xbf};
        for (unsigned i = 0; i < 8; ++i) stub.push_back(uint8_t(kData >> (8 * i)));
        const int32_t rel = int32_t(int64_t(kCode) - int64_t(kEntry + 10 + 5));
        stub.push_back(0xe8);
        for (unsigned i = 0; i < 4; ++i) stub.push_back(uint8_t(uint32_t(rel) >> (8 * i)));
        stub.push_back(0xf4);
        m_->load(kEntry, stub);
        auto fn = reinterpret_cast<void (*)(Regs*)>(page);
        for (unsigned trial = 0; trial < kTrials; ++trial) {
            Regs r{};
            for (auto& v : r.in) v = pick(rng);
            if (c.count_bits) r.in[2] = (r.in[2] & ~0xffull) | (rng() % (1u << c.count_bits));
            r.flags_in = (rng() & kArith) | 0x202;
            Regs host = r;
            fn(&host);
            std::memcpy(m_->bus.ram.data() + kData, &r, sizeof(r));
            m_->s().common.pc = kEntry;
            m_->s().regs[4] = kStackTop;
            RunExit e = m_->run();
            ASSERT_EQ(e.kind, RunExit::Kind::kHalt) << c.name << " " << e.error;
            Regs guest;
            std::memcpy(&guest, m_->bus.ram.data() + kData, sizeof(guest));
            auto ctx = [&]() {
                return ::testing::Message() << c.name << " (" << c.code << ") seed " << seed << " trial " << trial
                                            << std::hex << " in rax=" << r.in[0] << " rbx=" << r.in[1]
                                            << " rcx=" << r.in[2] << " rdx=" << r.in[3] << " fl=" << r.flags_in;
            };
            for (unsigned k = 0; k < 4; ++k) ASSERT_EQ(guest.out[k], host.out[k]) << ctx() << " reg " << k;
            ASSERT_EQ(guest.flags_out & c.flags, host.flags_out & c.flags) << ctx();
            ++checked;
        }
    }
    munmap(page, 4096);
    EXPECT_EQ(checked, std::size(kCases) * kTrials);
}

X86_INSTANTIATE(AluOracleTest);

}  // namespace
}  // namespace corvid::x86test
