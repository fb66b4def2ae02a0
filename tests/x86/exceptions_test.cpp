// Exceptions through the IDT (long mode and 32-bit protected mode), error codes, CR2, paging
// faults and accessed/dirty bits, software interrupts, iretq, external interrupts with the sti
// shadow, and the triple fault.
#include "tests/x86/x86_harness.h"

namespace corvid::x86test {
namespace {

class ExceptionsTest : public X86Test {
public:
    // Every vector gets a handler: mov r15d, vector; mov r14, rsp; hlt.
    void install_handlers() {
        for (unsigned v = 0; v < 256; ++v) {
            const uint64_t h = kHandlers + v * 16;
            std::vector<uint8_t> code = {0x41, 0xbf, uint8_t(v), 0, 0, 0, 0x49, 0x89, 0xe6, 0xf4};
            m_->load(h, code);
            m_->set_gate(v, h);
        }
        m_->s().regs[15] = ~0ull;  // "no exception" until a handler runs
    }
    // Runs the loaded program from kCode in long mode with handlers installed.
    RunExit run64() {
        m_->enter_long_mode(kCode);
        install_handlers();
        return m_->run();
    }
    uint64_t frame(unsigned i) { return m_->bus.read64(m_->reg(14) + 8 * i); }
    uint64_t vector() { return m_->reg(15); }

    // Maps 0x400000..0x5fffff with 4 KiB pages through a page table at 0x103000 (all present,
    // RW), so single pages can be changed.
    void split_2m_region() {
        const uint64_t pt = kPml4 + 0x3000;
        for (uint64_t i = 0; i < 512; ++i) m_->bus.write64(pt + i * 8, (0x400000 + i * 0x1000) | 0x3);
        m_->bus.write64(kPml4 + 0x2000 + 2 * 8, pt | 0x7);
    }
};

TEST_P(ExceptionsTest, UndefinedOpcode) {
    X86_LOAD("mov eax, 1\n ud2\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 6u);
    EXPECT_EQ(frame(0), kCode + 5);  // rip of ud2
    EXPECT_EQ(frame(1), 0x08u);
    EXPECT_EQ(frame(3), kStackTop);
    EXPECT_EQ(m_->reg(0), 1u);
}

TEST_P(ExceptionsTest, UnimplementedEncodingIsUd) {
    X86_LOAD("nop\n .byte 0x0f, 0x38, 0x00, 0xc1\n", 64);  // pshufb: SSSE3 is not advertised
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 6u);
    EXPECT_EQ(frame(0), kCode + 1);
}

TEST_P(ExceptionsTest, DivideErrors) {
    X86_LOAD("xor ebx, ebx\n mov eax, 7\n div ebx\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 0u);
    EXPECT_EQ(frame(0), kCode + 7);
    // Quotient overflow.
    SetUp();
    X86_LOAD("mov edx, 5\n xor eax, eax\n mov ebx, 2\n div ebx\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 0u);
    // idiv INT_MIN / -1.
    SetUp();
    X86_LOAD("mov rax, 0x8000000000000000\n cqo\n mov rbx, -1\n idiv rbx\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 0u);
    // The most negative 128-bit dividend by -1 (must not trap the host).
    SetUp();
    X86_LOAD("mov rdx, 0x8000000000000000\n xor eax, eax\n mov rbx, -1\n idiv rbx\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 0u);
}

TEST_P(ExceptionsTest, DivisionResults) {
    X86_LOAD(R"(
        mov rax, 1000000007
        xor edx, edx
        mov rbx, 97
        div rbx
        mov r8, rax
        mov r9, rdx
        mov rax, -1000
        cqo
        mov rbx, 7
        idiv rbx
        mov r10, rax
        mov r11, rdx
        mov ax, -300
        mov bl, 7
        idiv bl
        mov r12, rax
        mov edx, 3
        mov eax, 0x12345678
        mov ecx, 0x10000
        div ecx
        mov r13, rax
        hlt
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(15), ~0ull);  // no exception
    EXPECT_EQ(m_->reg(8), 1000000007ull / 97);
    EXPECT_EQ(m_->reg(9), 1000000007ull % 97);
    EXPECT_EQ(int64_t(m_->reg(10)), -1000 / 7);
    EXPECT_EQ(int64_t(m_->reg(11)), -1000 % 7);
    EXPECT_EQ(int8_t(m_->reg(12) & 0xff), -300 / 7);
    EXPECT_EQ(int8_t((m_->reg(12) >> 8) & 0xff), -300 % 7);
    EXPECT_EQ(m_->reg(13), ((3ull << 32) | 0x12345678) / 0x10000);
}

TEST_P(ExceptionsTest, GeneralProtection) {
    X86_LOAD("mov rax, 0x8000000000000000\n mov [rax], rax\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 13u);
    EXPECT_EQ(frame(0), 0u);  // error code
    EXPECT_EQ(frame(1), kCode + 10);
    // Selector beyond the GDT limit: #GP(selector).
    SetUp();
    X86_LOAD("mov ax, 0x48\n mov ds, ax\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 13u);
    EXPECT_EQ(frame(0), 0x48u);
    // Unknown MSR.
    SetUp();
    X86_LOAD("mov ecx, 0x12345\n rdmsr\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 13u);
    EXPECT_EQ(frame(1), kCode + 5);
}

TEST_P(ExceptionsTest, PageFaultNotPresentRead) {
    X86_LOAD("mov rax, [0x401008]\n", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    split_2m_region();
    m_->bus.write64(kPml4 + 0x3000 + 8, 0);  // 0x401000 not present
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 14u);
    EXPECT_EQ(frame(0), 0u);  // read, not present, supervisor
    EXPECT_EQ(frame(1), kCode);
    EXPECT_EQ(m_->s().cr2, 0x401008u);
}

TEST_P(ExceptionsTest, PageFaultWriteProtectAndDirtyBits) {
    X86_LOAD(R"(
        mov rax, [0x402000]
        mov qword ptr [0x403000], 5
        mov qword ptr [0x401010], 7
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    split_2m_region();
    const uint64_t pt = kPml4 + 0x3000;
    m_->bus.write64(pt + 8, 0x401000 | 0x1);  // present, read-only
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 14u);
    EXPECT_EQ(frame(0), 3u);  // present | write
    EXPECT_EQ(m_->s().cr2, 0x401010u);
    EXPECT_EQ(m_->bus.read64(0x403000), 5u);
    // Accessed on the read page, accessed + dirty on the written one, untouched elsewhere.
    EXPECT_EQ(m_->bus.read64(pt + 2 * 8) & 0x60, 0x20u);
    EXPECT_EQ(m_->bus.read64(pt + 3 * 8) & 0x60, 0x60u);
    EXPECT_EQ(m_->bus.read64(pt + 4 * 8) & 0x60, 0u);
    EXPECT_EQ(m_->bus.read64(kPml4) & 0x20, 0x20u);
}

TEST_P(ExceptionsTest, PageFaultOnNoExecuteFetch) {
    X86_LOAD("mov rax, 0x404000\n jmp rax\n", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    split_2m_region();
    m_->bus.write64(kPml4 + 0x3000 + 4 * 8, 0x404000 | 0x3 | (1ull << 63));
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 14u);
    EXPECT_EQ(frame(0), 0x11u);  // present | instruction fetch
    EXPECT_EQ(frame(1), 0x404000u);
    EXPECT_EQ(m_->s().cr2, 0x404000u);
}

// The frontend reads an instruction's bytes ahead up to the end of its page only: an
// instruction that ends at the page end runs, the fetch fault comes with the next one, and one
// that crosses into a missing page faults at the page (CR2), reported at its own rip.
// mov ebx, 7 (5 bytes) at 0x404ffb, ending at the page end, or at 0x404ffc, its last immediate
// byte on the missing page 0x405000.
void fetch_across_page(ExceptionsTest& t, Machine& m, bool crossing) {
    m.enter_long_mode(kCode);
    t.install_handlers();
    t.split_2m_region();
    m.bus.write64(kPml4 + 0x3000 + 5 * 8, 0);  // 0x405000 not present
    m.load(crossing ? 0x404ffc : 0x404ffb, {0xbb, 0x07, 0x00, 0x00});
    if (!crossing) m.load(0x404fff, {0x00});
    ASSERT_EQ(m.run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(t.vector(), 14u);
    EXPECT_EQ(t.frame(0), 0x10u);  // not present, instruction fetch
    EXPECT_EQ(m.s().cr2, 0x405000u);
    if (crossing) {
        EXPECT_EQ(t.frame(1), 0x404ffcu);  // the crossing instruction, not executed
        EXPECT_NE(m.reg(3), 7u);
    } else {
        EXPECT_EQ(t.frame(1), 0x405000u);  // the next one
        EXPECT_EQ(m.reg(3), 7u);
    }
}

TEST_P(ExceptionsTest, FetchFaultAfterAnInstructionEndingAtThePageEnd) {
    X86_LOAD("mov rax, 0x404ffb\n jmp rax\n", 64);
    fetch_across_page(*this, *m_, false);
}

TEST_P(ExceptionsTest, FetchFaultOnAnInstructionCrossingIntoAMissingPage) {
    X86_LOAD("mov rax, 0x404ffc\n jmp rax\n", 64);
    fetch_across_page(*this, *m_, true);
}

TEST_P(ExceptionsTest, InvlpgMakesNewMappingVisible) {
    X86_LOAD(R"(
        mov rax, [0x405000]
        mov qword ptr [0x103000 + 5*8], 0x406003
        invlpg [0x405000]
        mov rbx, [0x405000]
        mov qword ptr [0x103000 + 5*8], 0x405003
        mov rcx, [0x405000]
        mov rdx, cr3
        mov cr3, rdx
        mov rdx, [0x405000]
        hlt
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    split_2m_region();
    m_->bus.write64(0x405000, 0x55);
    m_->bus.write64(0x406000, 0x66);
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(15), ~0ull);
    EXPECT_EQ(m_->reg(0), 0x55u);
    EXPECT_EQ(m_->reg(3), 0x66u);
    EXPECT_EQ(m_->reg(1), 0x66u);  // stale TLB entry until the flush, as on hardware
    EXPECT_EQ(m_->reg(2), 0x55u);
}

TEST_P(ExceptionsTest, SoftwareInterruptsAndIretq) {
    X86_LOAD(R"(
        int3
        mov r8, 1
        int 0x80
        mov r9, 2
        hlt
    handler:
        add r10, 1
        iretq
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    // Both vectors go to `handler` (at kCode + 20): int3 is 1 byte, mov r8 7, int 2, mov r9 7, hlt 1.
    m_->set_gate(3, kCode + 18);
    m_->set_gate(0x80, kCode + 18);
    m_->s().regs[10] = 0;
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(10), 2u);
    EXPECT_EQ(m_->reg(8), 1u);
    EXPECT_EQ(m_->reg(9), 2u);
    EXPECT_EQ(m_->reg(4), kStackTop);
}

TEST_P(ExceptionsTest, ExternalInterruptAfterStiShadow) {
    X86_LOAD(R"(
        sti
        mov eax, 1
        mov ebx, 2
        hlt
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    m_->frontend.set_irq_line(true);
    int taken = 0;
    uint64_t rip_at_take = 0;
    RunExit e;
    for (int i = 0; i < 50; ++i) {
        if (m_->frontend.irq_line() && !taken && m_->frontend.take_pending_interrupt(m_->s(), 0x20)) {
            ++taken;
            m_->frontend.set_irq_line(false);
            rip_at_take = m_->bus.read64(m_->s().regs[4]);
        }
        e = m_->engine->run(&m_->s().common);
        if (e.kind == RunExit::Kind::kHalt) break;
    }
    ASSERT_EQ(e.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(taken, 1);
    EXPECT_EQ(vector(), 0x20u);
    // IF was clear until sti; the instruction after sti still ran before the interrupt.
    EXPECT_EQ(m_->reg(0), 1u);
    EXPECT_EQ(rip_at_take, kCode + 1 + 5);
    EXPECT_EQ(frame(2) & kFlagIf, kFlagIf);      // pushed RFLAGS has IF
    EXPECT_EQ(m_->s().eflags & kFlagIf, 0u);     // interrupt gate cleared it
}

// An interrupt pending at the controller (X86Platform::intr_pending, no set_irq_line) while IF
// is clear must make a spinning guest leave the run loop right after sti and its shadow.
TEST_P(ExceptionsTest, StiWithPendingInterruptLeavesSpinLoop) {
    X86_LOAD(R"(
        sti
        mov eax, 1
    1:  jmp 1b
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    m_->platform.intr = true;
    RunExit e = m_->engine->run(&m_->s().common);
    EXPECT_EQ(e.kind, RunExit::Kind::kExitRequest);
    ASSERT_TRUE(X86Frontend::interrupts_enabled(m_->s()));
    ASSERT_TRUE(m_->frontend.take_pending_interrupt(m_->s(), 0x21));
    m_->platform.intr = false;
    ASSERT_EQ(m_->engine->run(&m_->s().common).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 0x21u);
    EXPECT_EQ(m_->reg(0), 1u);
    EXPECT_EQ(frame(0), kCode + 6);  // the jmp: the instruction after sti ran first
}

// mov ss keeps interrupts off for one instruction, like sti: with an interrupt pending and IF
// set, the run loop is asked to return right after the instruction that follows mov ss.
TEST_P(ExceptionsTest, MovSsShadow) {
    X86_LOAD(R"(
        mov ax, 0x10
        mov ss, ax
        mov ebx, 2
        hlt
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    m_->s().eflags |= kFlagIf;
    m_->platform.intr = true;
    RunExit e = m_->engine->run(&m_->s().common);
    EXPECT_EQ(e.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m_->reg(3), 2u);
    EXPECT_EQ(m_->s().common.pc, kCode + 11);  // stopped before hlt, ready for the interrupt
    EXPECT_TRUE(X86Frontend::interrupts_enabled(m_->s()));
}

// Regressions found by tests/x86_diff: push r/m with 66 + REX.W pushes 8 bytes; pop [rsp]
// addresses with the incremented rsp; cmpxchg16b needs a 16-byte aligned operand; 66 0F AE F8
// is not sfence.
TEST_P(ExceptionsTest, PrefixAndAddressingCornerCases) {
    X86_LOAD(R"(
        mov r8, 0x1122334455667788
        .byte 0x66, 0x49, 0xff, 0xf0
        mov r9, rsp
        pop rax
        push 7
        push 9
        pop qword ptr [rsp]
        mov r10, rsp
        mov r11, [rsp]
        mov rbx, 0x10008
        cmpxchg16b xmmword ptr [rbx]
    )", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(9), kStackTop - 8);
    EXPECT_EQ(m_->reg(0), 0x1122334455667788ull);
    EXPECT_EQ(m_->reg(10), kStackTop - 8);
    EXPECT_EQ(m_->reg(11), 9u);  // popped 9 stored at the new rsp, over the 7
    EXPECT_EQ(vector(), 13u);
    EXPECT_EQ(frame(0), 0u);
    SetUp();
    X86_LOAD(".byte 0x66, 0x0f, 0xae, 0xf8\n", 64);
    ASSERT_EQ(run64().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 6u);
}

TEST_P(ExceptionsTest, NoInterruptWhileIfClear) {
    m_->enter_long_mode(kCode);
    m_->s().eflags &= ~kFlagIf;
    EXPECT_FALSE(m_->frontend.take_pending_interrupt(m_->s(), 0x20));
    m_->s().eflags |= kFlagIf;
    m_->s().common.mode |= kX86ModeShadow;
    EXPECT_FALSE(m_->frontend.take_pending_interrupt(m_->s(), 0x20));
}

TEST_P(ExceptionsTest, TripleFault) {
    X86_LOAD("ud2\n", 64);
    m_->enter_long_mode(kCode);
    m_->s().idtr_limit = 0;  // every delivery faults: #UD -> #GP -> #DF -> shutdown
    m_->run();
    EXPECT_EQ(m_->platform.triple_faults, 1);
}

TEST_P(ExceptionsTest, UserModeGpAndStackSwitch) {
    // Ring 3 code hits a privileged instruction; the #GP handler runs on RSP0 from the TSS.
    X86_LOAD(R"(
        mov rax, 0x23
        push rax
        push 0x60000
        pushfq
        push 0x2b
        lea rax, [rip + user]
        push rax
        iretq
    user:
        mov ebx, 5
        cli
    )", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    m_->bus.write64(kTss + 4, 0x70000);  // RSP0
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(3), 5u);
    EXPECT_EQ(vector(), 13u);
    EXPECT_EQ(m_->reg(14), 0x70000u - 48);
    EXPECT_EQ(frame(2), 0x2bu);        // CS of the interrupted code
    EXPECT_EQ(frame(4), 0x60000u);     // its RSP
    EXPECT_EQ(frame(5), 0x23u);        // its SS
    EXPECT_EQ(m_->s().seg[kSegCs].selector, 0x08);
}

// 32-bit protected mode IDT (interrupt gates), from the PVH entry state.
TEST_P(ExceptionsTest, ProtectedMode32Delivery) {
    X86_LOAD(R"(
        mov esp, 0x80000
        lgdt [gdt_ptr]
        lidt [idt_ptr]
        mov eax, 0x11
        int 0x30
        mov ebx, 0x22
        ud2
    handler30:
        mov ecx, [esp]
        mov edx, [esp+4]
        iretd
    handler6:
        mov esi, [esp]
        mov edi, [esp+8]
        hlt
    .align 8
    gdt:
        .quad 0
        .quad 0
        .quad 0x00cf9b000000ffff
        .quad 0x00cf93000000ffff
    gdt_ptr:
        .word 31
        .long gdt
    idt_ptr:
        .word 0x30*8+7
        .long 0x30000
    )", 32);
    // Gates written by the test: vector 6 and 0x30, selector 0x10, 32-bit interrupt gate DPL 3.
    auto gate = [&](unsigned v, uint32_t off) {
        const uint64_t g = (off & 0xffff) | (uint64_t(0x10) << 16) | (uint64_t(0xee) << 40) |
                           (uint64_t(off >> 16) << 48);
        m_->bus.write64(0x30000 + v * 8, g);
    };
    gate(0x30, kCode + 33);
    gate(6, kCode + 41);
    m_->frontend.reset_pvh(m_->s(), kCode, 0);
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m_->reg(0), 0x11u);
    EXPECT_EQ(m_->reg(3), 0x22u);
    EXPECT_EQ(m_->reg(1), kCode + 26);  // return eip after int 0x30
    EXPECT_EQ(m_->reg(2), 0x10u);       // pushed cs
    EXPECT_EQ(m_->reg(6), kCode + 31);  // ud2
    EXPECT_EQ(m_->reg(7) & 2, 2u);      // pushed eflags
}

// 32-bit paging without PAE (4 MiB PSE page + a 4 KiB page table) and with PAE, from the PVH
// entry state: a store through a remapped page, then a #PF on a not-present page delivered
// through a 32-bit interrupt gate with its error code and CR2.
class Paging32Test : public X86Test {
protected:
    void run_paging(bool pae) {
        X86_LOAD(R"(
            mov esp, 0x80000
            lgdt [gdt_ptr]
            lidt [idt_ptr]
            mov cr4, esi
            mov cr3, edi
            mov eax, cr0
            or eax, 0x80000000
            mov cr0, eax
            mov dword ptr [0x401000], 0x1234
            mov eax, [0x402008]
            hlt
        handler:
            mov ebx, cr2
            mov ecx, [esp]
            mov edx, [esp+4]
            hlt
        .align 8
        gdt:
            .quad 0
            .quad 0
            .quad 0x00cf9b000000ffff
            .quad 0x00cf93000000ffff
        gdt_ptr:
            .word 31
            .long gdt
        idt_ptr:
            .word 14*8+7
            .long 0x30000
        )", 32);
        const uint32_t handler = kCode + 52;
        m_->bus.write64(0x30000 + 14 * 8, (handler & 0xffff) | (uint64_t(0x10) << 16) | (uint64_t(0x8e) << 40) |
                                              (uint64_t(handler >> 16) << 48));
        uint64_t pte_addr;
        if (!pae) {
            m_->bus.write64(0x200000, 0x83);                   // PDE 0: 4 MiB page at 0
            m_->bus.write64(0x200004, 0x201000 | 3);           // PDE 1: page table (32-bit entries)
            m_->bus.write64(0x201004, 0x600000 | 3);           // 0x401000 -> 0x600000
            pte_addr = 0x201004;
            m_->frontend.reset_pvh(m_->s(), kCode, 0);
            m_->s().regs[6] = kCr4Pse;
            m_->s().regs[7] = 0x200000;
        } else {
            m_->bus.write64(0x202000, 0x203000 | 1);            // PDPTE 0
            m_->bus.write64(0x203000, 0x83);                    // 2 MiB page at 0
            m_->bus.write64(0x203000 + 2 * 8, 0x204000 | 3);    // 0x400000: page table
            m_->bus.write64(0x204000 + 8, 0x600000 | 3);
            pte_addr = 0x204008;
            m_->frontend.reset_pvh(m_->s(), kCode, 0);
            m_->s().regs[6] = kCr4Pae;
            m_->s().regs[7] = 0x202000;
        }
        ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
        EXPECT_EQ(m_->bus.read32(0x600000), 0x1234u);
        EXPECT_EQ(m_->bus.read32(pte_addr) & 0x60, 0x60u);  // accessed + dirty
        EXPECT_EQ(m_->reg(3), 0x402008u);                   // CR2
        EXPECT_EQ(m_->reg(1), 0u);                          // error code: read, not present
        EXPECT_EQ(m_->reg(2), kCode + 46);                  // faulting eip
    }
};

TEST_P(Paging32Test, NonPae) { run_paging(false); }
TEST_P(Paging32Test, Pae) { run_paging(true); }

X86_INSTANTIATE(Paging32Test);

// IST: a #DF-style gate with IST 1 switches to the IST stack even without a privilege change.
TEST_P(ExceptionsTest, InterruptStackTable) {
    X86_LOAD("ud2\n", 64);
    m_->enter_long_mode(kCode);
    install_handlers();
    m_->set_gate(6, kHandlers + 6 * 16, 1);
    m_->bus.write64(kTss + 0x24, 0x50008);  // IST1 (aligned down to 16)
    ASSERT_EQ(m_->run().kind, RunExit::Kind::kHalt);
    EXPECT_EQ(vector(), 6u);
    EXPECT_EQ(m_->reg(14), 0x50000u - 40);
    EXPECT_EQ(frame(3), kStackTop);  // the interrupted rsp
}

TEST_P(ExceptionsTest, DisassemblyAndDump) {
    m_->enter_long_mode(kCode);
    const uint8_t code64[] = {0x48, 0x8b, 0x44, 0x24, 0x08};
    size_t len = 0;
    EXPECT_EQ(m_->frontend.disassemble(kCode, code64, sizeof(code64), &len), "mov rax, qword ptr [rsp + 8]");
    EXPECT_EQ(len, 5u);
    // The frontend returns text only (no bytes) and the length; `-d in_asm` prints the bytes.
    const uint8_t imul[] = {0x49, 0x0f, 0xaf, 0xc2, 0x90};
    EXPECT_EQ(m_->frontend.disassemble(kCode, imul, sizeof(imul), &len), "imul rax, r10");
    EXPECT_EQ(len, 4u);
    m_->frontend.reset_pvh(m_->s(), kCode, 0);
    const uint8_t code32[] = {0x8b, 0x44, 0x24, 0x08};
    EXPECT_EQ(m_->frontend.disassemble(kCode, code32, sizeof(code32), &len), "mov eax, dword ptr [esp + 8]");
    m_->s().regs[0] = 0x1234;
    const std::string dump = m_->frontend.dump_state(&m_->s().common);
    EXPECT_NE(dump.find("RAX=0000000000001234"), std::string::npos) << dump;
    EXPECT_NE(dump.find("CS =0010"), std::string::npos) << dump;
    EXPECT_NE(dump.find("CR0=00000011"), std::string::npos) << dump;
}

X86_INSTANTIATE(ExceptionsTest);

}  // namespace
}  // namespace corvid::x86test
