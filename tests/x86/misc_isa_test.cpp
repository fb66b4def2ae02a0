// String instructions with rep prefixes and DF, port I/O, stack forms (push/pop memory and
// immediates, enter/leave, ret imm16), far transfers, syscall/sysret, cpuid, rdtsc, memory
// read-modify-write forms and cmpxchg8b/16b.
#include "tests/x86/x86_harness.h"

namespace corvid::x86test {
namespace {

class MiscIsaTest : public X86Test {
protected:
    RunExit run64() {
        m_->enter_long_mode(kCode);
        return m_->run();
    }
    uint64_t mem64(uint64_t a) { return m_->bus.read64(a); }
};

TEST_P(MiscIsaTest, RepMovsStosAndScas) {
    X86_LOAD(R"(
        cld
        mov rsi, 0x10000
        mov rdi, 0x11000
        mov rcx, 100
        rep movsb
        mov r8, rcx
        mov r9, rsi
        mov rdi, 0x12000
        mov rax, 0x0102030405060708
        mov ecx, 4
        rep stosq
        mov rdi, 0x10000
        mov al, 0x42
        mov rcx, 200
        repne scasb
        mov r10, rcx
        mov r11, rdi
        mov rsi, 0x10000
        mov rdi, 0x11000
        mov rcx, 100
        repe cmpsb
        mov r12, rcx
        std
        mov rsi, 0x10000 + 96
        mov rdi, 0x13000 + 96
        mov ecx, 25
        rep movsd
        cld
        mov r13, rsi
        xor ecx, ecx
        rep stosb
        hlt
    )", 64);
    for (unsigned i = 0; i < 200; ++i) m_->bus.ram[kData + i] = uint8_t(i * 3 + 1);
    m_->bus.ram[kData + 150] = 0x42;
    for (unsigned i = 0; i < 150; ++i) if (m_->bus.ram[kData + i] == 0x42) m_->bus.ram[kData + i] = 0;
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(std::memcmp(&m_->bus.ram[kData], &m_->bus.ram[0x11000], 100), 0);
    EXPECT_EQ(m_->reg(8), 0u);
    EXPECT_EQ(m_->reg(9), kData + 100);
    for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(mem64(0x12000 + 8 * i), 0x0102030405060708ull);
    EXPECT_EQ(mem64(0x12020), 0u);
    EXPECT_EQ(m_->reg(11), kData + 151);  // one past the match
    EXPECT_EQ(m_->reg(10), 200u - 151);
    EXPECT_EQ(m_->reg(12), 0u);  // all 100 bytes equal
    EXPECT_EQ(std::memcmp(&m_->bus.ram[kData], &m_->bus.ram[0x13000], 100), 0);
    EXPECT_EQ(m_->reg(13), kData + 96 - 25 * 4);
}

TEST_P(MiscIsaTest, PortIo) {
    X86_LOAD(R"(
        mov dx, 0x3f8
        mov al, 'A'
        out dx, al
        mov ax, 0x1234
        out 0x80, ax
        mov eax, 0xdeadbeef
        out dx, eax
        in al, dx
        mov r8, rax
        in eax, 0x71
        mov r9, rax
        in ax, dx
        mov r10, rax
        hlt
    )", 64);
    m_->platform.in_value = 0xcafef00d;
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m_->platform.writes.size(), 3u);
    EXPECT_EQ(m_->platform.writes[0].port, 0x3f8);
    EXPECT_EQ(m_->platform.writes[0].value, uint64_t('A'));
    EXPECT_EQ(m_->platform.writes[0].size, 1u);
    EXPECT_EQ(m_->platform.writes[1].port, 0x80);
    EXPECT_EQ(m_->platform.writes[1].value, 0x1234u);
    EXPECT_EQ(m_->platform.writes[1].size, 2u);
    EXPECT_EQ(m_->platform.writes[2].value, 0xdeadbeefu);
    EXPECT_EQ(m_->platform.writes[2].size, 4u);
    EXPECT_EQ(m_->reg(8), 0xdeadbe0du);       // al replaced, rest kept
    EXPECT_EQ(m_->reg(9), 0xcafef00du);
    EXPECT_EQ(m_->reg(10), 0xcafef00du);      // ax replaced in the zero-extended eax
    ASSERT_EQ(m_->platform.reads.size(), 3u);
    EXPECT_EQ(m_->platform.reads[1].first, 0x71);
    EXPECT_EQ(m_->platform.reads[1].second, 4u);
}

TEST_P(MiscIsaTest, InsOuts) {
    X86_LOAD(R"(
        mov rsi, 0x10000
        mov dx, 0xe9
        mov ecx, 3
        rep outsb
        mov r8, rsi
        mov rdi, 0x11000
        mov dx, 0x71
        mov ecx, 2
        rep insw
        mov r9, rdi
        outsd
        hlt
    )", 64);
    std::memcpy(m_->bus.ram.data() + kData, "abcdEFGH", 8);
    m_->platform.in_value = 0xbeef;
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->platform.console, "abc");
    EXPECT_EQ(m_->reg(8), kData + 3);
    EXPECT_EQ(m_->reg(9), 0x11004u);
    EXPECT_EQ(m_->bus.read32(0x11000), 0xbeefbeefu);
    ASSERT_EQ(m_->platform.writes.size(), 4u);
    EXPECT_EQ(m_->platform.writes[3].value, 0x47464564u);  // "dEFG" from rsi = kData + 3
    EXPECT_EQ(m_->platform.writes[3].size, 4u);
    EXPECT_EQ(m_->reg(1), 0u);
}

TEST_P(MiscIsaTest, DebugExitStopsImmediately) {
    X86_LOAD(R"(
        mov al, 0x21
        out 0xf4, al
        mov ebx, 1
        hlt
    )", 64);
    RunExit e = run64();
    EXPECT_EQ(e.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m_->platform.exit_code, 0x21);
    EXPECT_EQ(m_->reg(3), 0u);  // the instruction after out did not run
}

TEST_P(MiscIsaTest, StackForms) {
    X86_LOAD(R"(
        mov qword ptr [0x10000], 0x1111
        push qword ptr [0x10000]
        push -5
        push 0x12345678
        pop rax
        pop rbx
        pop qword ptr [0x10008]
        call f
        mov r10, rsp
        enter 32, 0
        mov r11, rbp
        mov r12, rsp
        leave
        mov r13, rsp
        pushfq
        pop r14
        mov dx, 0x77
        push dx
        pop cx
        hlt
    f:
        push 9
        push 8
        call g
        ret
    g:
        ret 16
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(0), 0x12345678u);
    EXPECT_EQ(m_->reg(3), uint64_t(-5));
    EXPECT_EQ(mem64(0x10008), 0x1111u);
    EXPECT_EQ(m_->reg(10), kStackTop);
    EXPECT_EQ(m_->reg(11), kStackTop - 8);
    EXPECT_EQ(m_->reg(12), kStackTop - 8 - 32);
    EXPECT_EQ(m_->reg(13), kStackTop);
    EXPECT_EQ(m_->reg(14) & 2, 2u);
    EXPECT_EQ(m_->reg(1) & 0xffff, 0x77u);
    EXPECT_EQ(m_->reg(4), kStackTop);
}

TEST_P(MiscIsaTest, EnterWithNestingLevelAndXlat) {
    X86_LOAD(R"(
        mov rbp, 0x70000
        mov qword ptr [0x6fff8], 0xaaaa
        mov rsp, 0x60000
        enter 16, 2
        mov r8, rsp
        mov r9, rbp
        mov rbx, 0x10000
        mov eax, 0x1205
        xlat
        hlt
    )", 64);
    m_->bus.ram[kData + 5] = 0x77;
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(mem64(0x5fff8), 0x70000u);  // old rbp
    EXPECT_EQ(mem64(0x5fff0), 0xaaaau);   // copied frame pointer of the outer level
    EXPECT_EQ(mem64(0x5ffe8), 0x5fff8u);  // this frame
    EXPECT_EQ(m_->reg(9), 0x5fff8u);
    EXPECT_EQ(m_->reg(8), 0x5ffe8u - 16);
    EXPECT_EQ(m_->reg(0), 0x1277u);
}

TEST_P(MiscIsaTest, MemoryReadModifyWrite) {
    X86_LOAD(R"(
        mov rbx, 0x10000
        add qword ptr [rbx], 5
        sub dword ptr [rbx+8], 1
        setb byte ptr [rbx+16]
        inc word ptr [rbx+24]
        not qword ptr [rbx+32]
        shl dword ptr [rbx+40], 4
        mov rax, 100
        bts qword ptr [rbx+48], rax
        mov rax, -1
        btr dword ptr [rbx+64], eax
        lock xadd qword ptr [rbx+72], rcx
        mov rax, 7
        mov rcx, 9
        lock cmpxchg qword ptr [rbx+80], rcx
        mov rdx, 0
        mov rax, 0x55
        mov rcx, 0x66
        mov rbx, 0x77
        cmpxchg8b qword ptr [0x10058]
        mov r8, rax
        xor edx, edx
        mov eax, 0x1234
        mov ecx, 0xaaaa
        mov ebx, 0xbbbb
        cmpxchg16b xmmword ptr [0x10060]
        setz r9b
        hlt
    )", 64);
    m_->bus.write64(kData + 8, 0);
    m_->bus.write64(kData + 24, 0xffff);
    m_->bus.write64(kData + 40, 0x10000001);
    m_->bus.write64(kData + 56, 0);
    m_->bus.write64(kData + 60, 0x80000000);
    m_->bus.write64(kData + 72, 10);
    m_->bus.write64(kData + 80, 7);
    m_->bus.write64(kData + 88, 0x1234);  // [0x10058]: not 0x55, so cmpxchg8b loads it
    m_->bus.write64(kData + 96, 0x1234);
    m_->bus.write64(kData + 104, 0);
    m_->s().regs[1] = 3;
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(mem64(kData), 5u);
    EXPECT_EQ(mem64(kData + 8) & 0xffffffff, 0xffffffffu);
    EXPECT_EQ(m_->bus.ram[kData + 16], 1u);
    EXPECT_EQ(mem64(kData + 24), 0u);  // 16-bit wrap, upper bytes untouched
    EXPECT_EQ(mem64(kData + 32), ~0ull);
    EXPECT_EQ(mem64(kData + 40) & 0xffffffff, 0x10u);
    EXPECT_EQ(mem64(kData + 48 + 8), 1ull << 36);  // bit 100 = qword 1, bit 36
    EXPECT_EQ(m_->bus.read32(kData + 60), 0x10u);   // bit -1 of [rbx+64] is bit 31 of [rbx+60]
    EXPECT_EQ(mem64(kData + 72), 13u);
    EXPECT_EQ(mem64(kData + 80), 9u);
    EXPECT_EQ(m_->reg(8), 0x1234u);
    EXPECT_EQ(mem64(kData + 96), 0xbbbbu);
    EXPECT_EQ(mem64(kData + 104), 0xaaaau);
    EXPECT_EQ(m_->reg(9) & 0xff, 1u);
}

TEST_P(MiscIsaTest, FarTransfersIn64BitMode) {
    X86_LOAD(R"(
        push 0x08
        lea rax, [rip + target]
        push rax
        retfq
    back:
        mov r9, 2
        hlt
    target:
        mov r8, 1
        lea rax, [rip + farptr]
        jmp fword ptr [rax]
    .align 8
    farptr:
        .long back
        .word 0x08
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(8), 1u);
    EXPECT_EQ(m_->reg(9), 2u);
    EXPECT_EQ(m_->reg(4), kStackTop);
}

TEST_P(MiscIsaTest, SyscallSysret) {
    X86_LOAD(R"(
        mov ecx, 0xc0000081
        mov eax, 0
        mov edx, 0x00180008
        wrmsr
        mov ecx, 0xc0000082
        lea rax, [rip + entry]
        xor edx, edx
        wrmsr
        mov ecx, 0xc0000084
        mov eax, 0x200
        wrmsr
        mov r10, 0x60000
        mov rax, 0x23
        push rax
        push r10
        push 0x202
        push 0x2b
        lea rax, [rip + user]
        push rax
        iretq
    user:
        mov rbx, 0x42
        syscall
        mov r13, 3
        hlt
    entry:
        mov r12, rcx
        mov r14, r11
        pushfq
        pop r15
        sysretq
    )", 64);
    // sysret to ring 3 then hlt faults (#GP): that is where the run stops.
    m_->enter_long_mode(kCode);
    for (unsigned v = 0; v < 32; ++v) m_->set_gate(v, kHandlers);
    m_->load(kHandlers, {0xf4});
    m_->bus.write64(kTss + 4, 0x70000);
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(3), 0x42u);
    EXPECT_EQ(m_->reg(13), 3u);
    EXPECT_EQ(m_->reg(14) & kFlagIf, kFlagIf);  // r11 = rflags at syscall
    EXPECT_EQ(m_->reg(15) & kFlagIf, 0u);       // masked by SFMASK
    EXPECT_EQ(m_->s().common.pc, kHandlers + 1);
}

TEST_P(MiscIsaTest, CpuidQemu64Model) {
    X86_LOAD(R"(
        xor eax, eax
        cpuid
        mov r8, rbx
        mov r9, rdx
        mov r10, rcx
        mov eax, 0x80000001
        cpuid
        mov r11, rdx
        mov eax, 1
        cpuid
        mov r12, rax
        mov r13, rdx
        mov r14, rcx
        hlt
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    char vendor[13] = {};
    uint32_t w[3] = {uint32_t(m_->reg(8)), uint32_t(m_->reg(9)), uint32_t(m_->reg(10))};
    std::memcpy(vendor, w, 12);
    EXPECT_STREQ(vendor, "AuthenticAMD");
    EXPECT_TRUE(m_->reg(11) & (1u << 29));  // long mode
    EXPECT_TRUE(m_->reg(11) & (1u << 20));  // NX
    EXPECT_EQ(m_->reg(12), 0x00060fb1u);
    EXPECT_EQ(m_->reg(13), 0x078bfbfdu);
    EXPECT_EQ(m_->reg(14), 0x80002001u);
}

// Every CPUID leaf a guest may look at, printed as hex through port 0xe9 from the PVH entry
// state; the expected text was recorded from qemu-system-x86_64 7.2 (-M pc, TCG, qemu64) with
// the same program.
TEST_P(MiscIsaTest, CpuidLeavesMatchQemu64) {
    X86_LOAD(R"(
        mov esp, 0x80000
        mov esi, offset leaves
    1:  mov eax, [esi]
        cmp eax, 0xffffffff
        je 9f
        xor ecx, ecx
        cpuid
        push edx
        push ecx
        push ebx
        push eax
        mov edi, 4
    2:  pop eax
        call hex
        mov al, ' '
        out 0xe9, al
        dec edi
        jnz 2b
        mov al, 10
        out 0xe9, al
        add esi, 4
        jmp 1b
    9:  hlt
    hex:
        mov ecx, 8
    3:  rol eax, 4
        mov edx, eax
        and edx, 15
        mov dl, [digits + edx]
        push eax
        mov al, dl
        out 0xe9, al
        pop eax
        loop 3b
        ret
    digits: .ascii "0123456789abcdef"
    leaves: .long 0, 1, 2, 3, 4, 5, 6, 7, 0xd, 0x80000000, 0x80000001, 0x80000002, 0x80000003
            .long 0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008, 0x8000000a, 0x8000000b
            .long 0xffffffff
    )", 32);
    const char* kQemu64 =
        "0000000d 68747541 444d4163 69746e65 \n"
        "00060fb1 00000800 80002001 078bfbfd \n"
        "00000000 00000000 00000000 00000000 \n"
        "00000000 00000000 00000000 00000000 \n"
        "00000000 00000000 00000000 00000000 \n"
        "00000000 00000000 00000003 00000000 \n"
        "00000000 00000000 00000000 00000000 \n"
        "00000000 00000000 00000000 00000000 \n"
        "00000000 00000000 00000000 00000000 \n"
        "8000000a 68747541 444d4163 69746e65 \n"
        "00060fb1 00000000 00000005 2193fbfd \n"
        "554d4551 72695620 6c617574 55504320 \n"
        "72657620 6e6f6973 352e3220 0000002b \n"
        "00000000 00000000 00000000 00000000 \n"
        "01ff01ff 01ff01ff 40020140 40020140 \n"
        "00000000 42004200 02008140 00808140 \n"
        "00000000 00000000 00000000 00000000 \n"
        "00003028 00000000 00000000 00000000 \n"
        "00000001 00000010 00000000 00000000 \n"
        "00000000 00000000 00000000 00000000 \n";
    m_->frontend.reset_pvh(m_->s(), kCode, 0);
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->platform.console, kQemu64);
}

TEST_P(MiscIsaTest, RdtscAdvancesAndWrmsrSetsIt) {
    X86_LOAD(R"(
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov r8, rax
        mov ecx, 1000
    1:  loop 1b
        rdtsc
        shl rdx, 32
        or rax, rdx
        mov r9, rax
        mov ecx, 0x10
        xor eax, eax
        mov edx, 0x100
        wrmsr
        rdtsc
        mov r10, rdx
        hlt
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_GT(m_->reg(9), m_->reg(8));
    EXPECT_EQ(m_->reg(10), 0x100u);
}

TEST_P(MiscIsaTest, PauseAndNopForms) {
    X86_LOAD(R"(
        pause
        nop
        .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
        .byte 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00
        endbr64
        lfence
        mfence
        sfence
        wbinvd
        mov eax, 9
        hlt
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(0), 9u);
}

X86_INSTANTIATE(MiscIsaTest);

}  // namespace
}  // namespace corvid::x86test

namespace corvid::x86test {
namespace {

// The interpreter and the JIT run the same string-instruction program and must agree on every
// register, the flags and the memory they wrote.
TEST(X86Lockstep, StringOpsInterpreterMatchesJit) {
    const char* src = R"(
        mov r15, 0
    next:
        mov rdi, 0x11005
        mov rsi, 0x10001
        mov rcx, r15
        rep movsb
        mov [0x14000 + r15*8], rdi
        mov rdi, 0x11000
        mov rsi, 0x10000
        mov rcx, r15
        shr rcx, 3
        inc rcx
        rep movsq
        mov rdi, 0x11064
        mov rcx, r15
        mov eax, 0xbeef
        rep stosw
        mov rdi, 0x110c8
        mov rsi, 0x100c8
        mov rcx, r15
        std
        rep movsb
        cld
        mov rdi, 0x11000
        mov rsi, 0x10000
        mov rcx, 64
        repe cmpsb
        pushfq
        pop qword ptr [0x15000 + r15*8]
        mov [0x16000 + r15*8], rcx
        mov rdi, 0x10000
        mov rcx, 100
        mov al, [0x10000 + r15]
        repne scasb
        pushfq
        pop qword ptr [0x17000 + r15*8]
        mov [0x18000 + r15*8], rcx
        lea rsi, [0x10000 + r15]
        lodsq
        mov [0x19000 + r15*8], rax
        add r15, 3
        cmp r15, 40
        jb next
        hlt
    )";
    auto bytes = assemble(src, 64);
    if (!bytes) GTEST_SKIP() << "GNU as not installed: SKIPPING";
    ASSERT_FALSE(bytes->empty());
    Machine a(Backend::kInterp), b(Backend::kJit);
    for (Machine* m : {&a, &b}) {
        for (unsigned i = 0; i < 256; ++i) m->bus.ram[kData + i] = uint8_t(i * 7 + 3);
        m->load(kCode, *bytes);
        m->enter_long_mode(kCode);
        ASSERT_EQ(m->run().kind, RunExit::Kind::kHalt);
    }
    for (unsigned r = 0; r < 16; ++r) EXPECT_EQ(a.reg(r), b.reg(r)) << "reg " << r;
    EXPECT_EQ(x86_read_eflags(a.s()), x86_read_eflags(b.s()));
    for (uint64_t addr = 0x10000; addr < 0x1a000; addr += 8)
        ASSERT_EQ(a.bus.read64(addr), b.bus.read64(addr)) << std::hex << "at 0x" << addr;
}

}  // namespace
}  // namespace corvid::x86test
