// The do-not-test list and the required-ISA list of the x86 differential fuzzer.
#include <iterator>

#include "tests/x86_diff/insn_generator.h"

namespace corvid::x86diff {
namespace {

using x86::kMap0F;
using x86::kMapPrimary;

constexpr RowPolicy kPolicies[] = {
    // Port I/O: Corvid goes to the board, Unicorn needs I/O hooks; not CPU state.
    {kMapPrimary, 0x6c, -1, Treatment::kSkip, "ins: port I/O (board device access, no CPU-only semantics)"},
    {kMapPrimary, 0x6d, -1, Treatment::kSkip, "ins: port I/O"},
    {kMapPrimary, 0x6e, -1, Treatment::kSkip, "outs: port I/O"},
    {kMapPrimary, 0x6f, -1, Treatment::kSkip, "outs: port I/O"},
    {kMapPrimary, 0xe4, -1, Treatment::kSkip, "in imm8: port I/O"},
    {kMapPrimary, 0xe5, -1, Treatment::kSkip, "in imm8: port I/O"},
    {kMapPrimary, 0xe6, -1, Treatment::kSkip, "out imm8: port I/O"},
    {kMapPrimary, 0xe7, -1, Treatment::kSkip, "out imm8: port I/O"},
    {kMapPrimary, 0xec, -1, Treatment::kSkip, "in dx: port I/O"},
    {kMapPrimary, 0xed, -1, Treatment::kSkip, "in dx: port I/O"},
    {kMapPrimary, 0xee, -1, Treatment::kSkip, "out dx: port I/O"},
    {kMapPrimary, 0xef, -1, Treatment::kSkip, "out dx: port I/O"},
    // Segment registers: Unicorn's 64-bit setup has no GDT and other selector values.
    {kMapPrimary, 0x8c, -1, Treatment::kSkip,
     "mov r/m, sreg: selector values differ (Unicorn has no GDT; Corvid 0x08/0x10)"},
    {kMapPrimary, 0x8e, -1, Treatment::kSkip, "mov sreg, r/m: descriptor loads need a GDT that only Corvid has"},
    {kMap0F, 0xa0, -1, Treatment::kSkip, "push fs: selector values differ between the two setups"},
    {kMap0F, 0xa1, -1, Treatment::kSkip, "pop fs: descriptor load needs a GDT that only Corvid has"},
    {kMap0F, 0xa8, -1, Treatment::kSkip, "push gs: selector values differ between the two setups"},
    {kMap0F, 0xa9, -1, Treatment::kSkip, "pop gs: descriptor load needs a GDT that only Corvid has"},
    {kMapPrimary, 0xca, -1, Treatment::kSkip, "retf imm16: far return loads CS through the GDT (only Corvid has one)"},
    {kMapPrimary, 0xcb, -1, Treatment::kSkip, "retf: far return loads CS through the GDT (only Corvid has one)"},
    {kMapPrimary, 0xff, 3, Treatment::kSkip, "call far m16:64: loads CS through the GDT (only Corvid has one)"},
    {kMapPrimary, 0xff, 5, Treatment::kSkip, "jmp far m16:64: loads CS through the GDT (only Corvid has one)"},
    // Interrupts: Unicorn stops with UC_ERR_EXCEPTION, Corvid delivers through its IDT.
    {kMapPrimary, 0xcc, -1, Treatment::kFaultOnly,
     "int3: Unicorn stops (UC_ERR_EXCEPTION), Corvid enters #BP: both fault"},
    {kMapPrimary, 0xcd, -1, Treatment::kFaultOnly, "int n: Unicorn stops (UC_ERR_EXCEPTION), Corvid enters the gate"},
    {kMapPrimary, 0xcf, -1, Treatment::kSkip, "iret: needs an interrupt frame and a GDT (only Corvid has one)"},
    {kMapPrimary, 0xf4, -1, Treatment::kSkip, "hlt: the harness's stop marker on both sides"},
    {kMapPrimary, 0xfa, -1, Treatment::kSkip, "cli: IF and interrupt delivery are not compared"},
    {kMapPrimary, 0xfb, -1, Treatment::kSkip, "sti: IF and the interrupt shadow are not compared"},
    {kMapPrimary, 0x9d, -1, Treatment::kSkip,
     "popf: loads TF/IF/IOPL/AC/NT from random memory; TF traps the next instruction and the system flags are not "
     "modelled alike (Unicorn's CPL/IOPL setup differs)"},
    {kMapPrimary, 0xf6, 1, Treatment::kSkip,
     "test r/m8, imm8 (/1): undocumented alias of /0 on hardware (Corvid runs it), QEMU/Unicorn raises #UD"},
    {kMapPrimary, 0xf7, 1, Treatment::kSkip,
     "test r/m, imm (/1): undocumented alias of /0 on hardware (Corvid runs it), QEMU/Unicorn raises #UD"},
    {kMapPrimary, 0x8f, 1, Treatment::kSkip,
     "pop r/m /1: #UD (SDM; XOP on AMD), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 2, Treatment::kSkip, "pop r/m /2: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 3, Treatment::kSkip, "pop r/m /3: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 4, Treatment::kSkip, "pop r/m /4: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 5, Treatment::kSkip, "pop r/m /5: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 6, Treatment::kSkip, "pop r/m /6: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0x8f, 7, Treatment::kSkip, "pop r/m /7: #UD (SDM), QEMU/Unicorn ignores ModRM.reg and pops"},
    {kMapPrimary, 0xc6, 7, Treatment::kSkip,
     "xabort (C6 F8): RTM, which Unicorn's Haswell model has and Corvid's qemu64 CPUID does not (#UD is right)"},
    {kMapPrimary, 0xc7, 7, Treatment::kSkip,
     "xbegin (C7 F8): RTM, which Unicorn's Haswell model has and Corvid's qemu64 CPUID does not (#UD is right)"},
    {kMapPrimary, 0x9b, -1, Treatment::kSkip, "fwait: checks pending x87 exceptions, the x87 state is not compared"},
    // System instructions (privileged, model specific, or state outside the comparison).
    {kMap0F, 0x00, -1, Treatment::kSkip,
     "grp6 (sldt/str/lldt/ltr/verr/verw): LDT/TR/descriptors (only Corvid has a GDT)"},
    {kMap0F, 0x01, -1, Treatment::kSkip,
     "grp7 (sgdt/lgdt/invlpg/swapgs/rdtscp/monitor/...): system state, not compared"},
    {kMap0F, 0x05, -1, Treatment::kSkip, "syscall: MSR-configured privilege transition (STAR/LSTAR differ)"},
    {kMap0F, 0x06, -1, Treatment::kSkip, "clts: CR0 is not compared"},
    {kMap0F, 0x07, -1, Treatment::kSkip, "sysret: MSR-configured privilege transition"},
    {kMap0F, 0x08, -1, Treatment::kSkip, "invd: privileged cache control, no compared effect"},
    {kMap0F, 0x09, -1, Treatment::kSkip, "wbinvd: privileged cache control, no compared effect"},
    {kMap0F, 0x20, -1, Treatment::kSkip, "mov from cr: control registers differ (Corvid pages, Unicorn does not)"},
    {kMap0F, 0x21, -1, Treatment::kSkip, "mov from dr: debug registers are not compared"},
    {kMap0F, 0x22, -1, Treatment::kSkip, "mov to cr: changes paging/mode"},
    {kMap0F, 0x23, -1, Treatment::kSkip, "mov to dr: debug registers are not compared"},
    {kMap0F, 0x30, -1, Treatment::kSkip, "wrmsr: MSRs differ between the models"},
    {kMap0F, 0x31, -1, Treatment::kSkip, "rdtsc: time dependent"},
    {kMap0F, 0x32, -1, Treatment::kSkip, "rdmsr: MSRs differ between the models"},
    {kMap0F, 0xa2, -1, Treatment::kSkip, "cpuid: the CPU models differ (Unicorn haswell, Corvid qemu64)"},
    {kMap0F, 0xae, 0, Treatment::kSkip, "fxsave: writes the x87/SSE state, which is not compared and differs"},
    {kMap0F, 0xae, 1, Treatment::kSkip, "fxrstor: loads x87/SSE state from random memory (#GP on reserved MXCSR bits)"},
    {kMap0F, 0xae, 2, Treatment::kSkip, "ldmxcsr: SSE state is not compared"},
    {kMap0F, 0xae, 3, Treatment::kSkip, "stmxcsr: MXCSR values differ between the models"},
    {kMap0F, 0xae, 4, Treatment::kSkip, "xsave: XSAVE state and XCR0 differ between the models"},
    {kMap0F, 0xae, 5, Treatment::kSkip, "xrstor / lfence: XSAVE state; lfence has no compared effect"},
    {kMap0F, 0xae, 6, Treatment::kSkip, "xsaveopt / mfence: XSAVE state; mfence has no compared effect"},
    {kMap0F, 0xc7, 6, Treatment::kSkip, "rdrand: random numbers"},
    {kMap0F, 0xc7, 7, Treatment::kSkip, "rdseed: random numbers"},
    // Architecturally undefined opcodes: both must raise #UD.
    {kMap0F, 0x0b, -1, Treatment::kFaultOnly, "ud2: #UD by definition"},
    {kMap0F, 0xb9, -1, Treatment::kFaultOnly, "ud1: #UD by definition"},
    {kMap0F, 0xff, -1, Treatment::kFaultOnly, "ud0: #UD by definition"},
};

}  // namespace

std::span<const RowPolicy> row_policies() {
    return {kPolicies, std::size(kPolicies)};
}

Treatment row_treatment(x86::OpMap map, uint8_t op, int reg) {
    for (const RowPolicy& p : kPolicies) {
        if (p.map == map && p.op == op && (p.reg == -1 || p.reg == reg)) return p.treatment;
    }
    // Rows the 64-bit mode does not have (push es, call far ptr, into, 82, ...) must #UD.
    if (x86::op_entry(map, op).flags & x86::kInv64) return Treatment::kFaultOnly;
    return Treatment::kCompare;
}

bool row_required(x86::OpMap map, uint8_t op, int reg) {
    reg &= 7;
    if (map == kMapPrimary) {
        if (op < 0x40 && (op & 7) < 6) return true;  // add or adc sbb and sub xor cmp
        if (op == 0x63 || op == 0x69 || op == 0x6b || op == 0x8d) return true;
        if (op >= 0x80 && op <= 0x8b && op != 0x82) return true;  // grp1, test, xchg, mov
        if (op >= 0x90 && op <= 0x97) return true;                // xchg rAX
        if (op >= 0xb0 && op <= 0xbf) return true;                // mov imm
        if (op == 0xc0 || op == 0xc1 || (op >= 0xd0 && op <= 0xd3)) return true;
        if (op == 0xc6 || op == 0xc7) return reg == 0;
        if (op == 0xf6 || op == 0xf7) return true;
        if (op == 0xfe || op == 0xff) return reg <= 1;
        return false;
    }
    if (map == kMap0F) {
        if ((op >= 0x40 && op <= 0x4f) || (op >= 0x90 && op <= 0x9f) || (op >= 0xc8 && op <= 0xcf)) return true;
        switch (op) {
            case 0xa3:
            case 0xa4:
            case 0xa5:
            case 0xab:
            case 0xac:
            case 0xad:
            case 0xaf:
            case 0xb0:
            case 0xb1:
            case 0xb3:
            case 0xb6:
            case 0xb7:
            case 0xb8:
            case 0xbb:
            case 0xbc:
            case 0xbd:
            case 0xbe:
            case 0xbf:
            case 0xc0:
            case 0xc1: return true;
            case 0xba: return reg >= 4;
            default: return false;
        }
    }
    return false;
}

bool row_lockable(x86::OpMap map, uint8_t op, int reg) {
    reg &= 7;
    if (map == kMapPrimary) {
        if (op < 0x38 && (op & 7) < 2) return true;  // add or adc sbb and sub xor r/m, r (not cmp)
        if (op == 0x80 || op == 0x81 || op == 0x83) return reg != 7;
        if (op == 0x86 || op == 0x87) return true;
        if (op == 0xf6 || op == 0xf7) return reg == 2 || reg == 3;
        if (op == 0xfe || op == 0xff) return reg <= 1;
        return false;
    }
    if (map == kMap0F) {
        switch (op) {
            case 0xab:
            case 0xb3:
            case 0xbb:
            case 0xb0:
            case 0xb1:
            case 0xc0:
            case 0xc1: return true;
            case 0xba: return reg >= 5;
            case 0xc7: return reg == 1;
            default: return false;
        }
    }
    return false;
}

}  // namespace corvid::x86diff
