// PVH entry (32-bit protected mode) to long mode: lgdt, CR3/CR4/EFER/CR0, far jump, segment
// loads, then 64-bit code with calls, the stack and port I/O.
#include "tests/x86/x86_harness.h"

namespace corvid::x86test {
namespace {

class ModeSwitchTest : public X86Test {};

const char* kPvhToLong = R"(
start:
    mov esp, 0x80000
    mov [0x10000], ebx
    lgdt [gdt_ptr]
    mov edi, 0x100000
    mov dword ptr [edi], 0x101007
    mov dword ptr [edi+4], 0
    mov dword ptr [edi+0x1000], 0x102007
    mov dword ptr [edi+0x1004], 0
    xor ecx, ecx
    mov eax, 0x87
fill:
    mov dword ptr [edi+0x2000+ecx*8], eax
    mov dword ptr [edi+0x2004+ecx*8], 0
    add eax, 0x200000
    inc ecx
    cmp ecx, 512
    jne fill
    mov eax, edi
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    .byte 0xea
    .long long_start
    .word 0x08
.code64
long_start:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, 0x80000
    mov rax, 0x123456789abcdef0
    push rax
    pop rbx
    mov dx, 0xe9
    mov al, 'O'
    out dx, al
    mov al, 'K'
    out dx, al
    call func
    mov ecx, 0xc0000080
    rdmsr
    mov r12, rax
    hlt
func:
    mov r13, rbx
    lea r14, [rip + func]
    ret
.align 8
gdt:
    .quad 0
    .quad 0x00af9b000000ffff
    .quad 0x00cf93000000ffff
gdt_ptr:
    .word gdt_ptr - gdt - 1
    .long gdt
)";

TEST_P(ModeSwitchTest, PvhEntryToLongMode) {
    X86_LOAD(kPvhToLong, 32);
    m_->frontend.reset_pvh(m_->s(), kCode, 0xabcd);
    RunExit e = m_->run();
    ASSERT_EQ(e.kind, RunExit::Kind::kHalt) << e.error;
    EXPECT_EQ(m_->bus.read32(kData), 0xabcdu);  // EBX = start_info at entry
    EXPECT_EQ(m_->platform.console, "OK");
    EXPECT_EQ(m_->reg(3), 0x123456789abcdef0ull);
    EXPECT_EQ(m_->reg(13), 0x123456789abcdef0ull);
    EXPECT_TRUE(m_->s().common.mode & kX86ModeCode64);
    EXPECT_EQ(m_->reg(12) & (kEferLme | kEferLma), kEferLme | kEferLma);
    EXPECT_EQ(m_->reg(4), kStackTop);
    EXPECT_EQ(m_->s().seg[kSegCs].selector, 0x08);
    EXPECT_NE(m_->reg(14), 0u);
}

TEST_P(ModeSwitchTest, PvhStateMatchesAbi) {
    X86State& s = m_->s();
    m_->frontend.reset_pvh(s, 0x200000, 0x5000);
    EXPECT_EQ(s.common.pc, 0x200000u);
    EXPECT_EQ(s.regs[3], 0x5000u);
    EXPECT_EQ(s.cr0, kCr0Pe | kCr0Et);
    EXPECT_EQ(x86_read_eflags(s), 0x2u);
    EXPECT_EQ(s.common.mode & (kX86ModeCode64 | kX86ModeCode32 | kX86ModePe), kX86ModeCode32 | kX86ModePe);
    EXPECT_EQ(s.seg[kSegCs].base, 0u);
    EXPECT_EQ(s.seg[kSegCs].limit, 0xffffffffu);
    EXPECT_EQ(s.seg[kSegDs].limit, 0xffffffffu);
}

X86_INSTANTIATE(ModeSwitchTest);

}  // namespace
}  // namespace corvid::x86test
