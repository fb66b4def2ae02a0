// The x86 (IA-32 / x86-64) guest CPU state shared by generated code, helpers, the board and
// the monitor, with the mode bits and the lazy-EFLAGS scheme.
#pragma once

#include <cstddef>
#include <cstdint>

#include "translator/cpu.h"

namespace corvid {

class X86Frontend;

// CpuCommon::mode bits: everything that changes how an instruction translates.
constexpr uint32_t kX86ModeCode64 = 1u << 0;   // CS.L with EFER.LMA: 64-bit code
constexpr uint32_t kX86ModeCode32 = 1u << 1;   // CS.D: 32-bit default operand/address size
constexpr uint32_t kX86ModeStack32 = 1u << 2;  // SS.B: 32-bit stack pointer outside 64-bit mode
constexpr uint32_t kX86ModeCplShift = 3;       // bits 4:3: CPL
constexpr uint32_t kX86ModeCplMask = 3u << kX86ModeCplShift;
constexpr uint32_t kX86ModePe = 1u << 5;       // CR0.PE: protected mode segment loads
constexpr uint32_t kX86ModeShadow = 1u << 6;   // interrupt shadow (after sti / mov ss): one-insn block
constexpr uint32_t kX86ModeSegBase = 1u << 7;  // some of CS/DS/ES/SS has a non-zero base (16/32-bit)

// EFLAGS bits.
constexpr uint64_t kFlagCf = 1u << 0;
constexpr uint64_t kFlagPf = 1u << 2;
constexpr uint64_t kFlagAf = 1u << 4;
constexpr uint64_t kFlagZf = 1u << 6;
constexpr uint64_t kFlagSf = 1u << 7;
constexpr uint64_t kFlagTf = 1u << 8;
constexpr uint64_t kFlagIf = 1u << 9;
constexpr uint64_t kFlagDf = 1u << 10;
constexpr uint64_t kFlagOf = 1u << 11;
constexpr uint64_t kFlagIopl = 3u << 12;
constexpr uint64_t kFlagNt = 1u << 14;
constexpr uint64_t kFlagRf = 1u << 16;
constexpr uint64_t kFlagVm = 1u << 17;
constexpr uint64_t kFlagAc = 1u << 18;
constexpr uint64_t kFlagId = 1u << 21;
constexpr uint64_t kFlagsArith = kFlagCf | kFlagPf | kFlagAf | kFlagZf | kFlagSf | kFlagOf;

// Control register and EFER bits.
constexpr uint64_t kCr0Pe = 1u << 0;
constexpr uint64_t kCr0Et = 1u << 4;
constexpr uint64_t kCr0Wp = 1u << 16;
constexpr uint64_t kCr0Pg = 1u << 31;
constexpr uint64_t kCr4Pse = 1u << 4;
constexpr uint64_t kCr4Pae = 1u << 5;
constexpr uint64_t kCr4Pge = 1u << 7;
constexpr uint64_t kEferSce = 1u << 0;
constexpr uint64_t kEferLme = 1u << 8;
constexpr uint64_t kEferLma = 1u << 10;
constexpr uint64_t kEferNxe = 1u << 11;

// Lazy EFLAGS. The arithmetic flags (CF PF AF ZF SF OF) are not stored: a flag-setting
// instruction writes cc_op (what it was and its size), cc_dst (the result) and cc_src /
// cc_src2 (what is needed to recover the rest), and the flags are computed from those only
// when something reads them (jcc/setcc/cmovcc inline when the op is known in the block,
// otherwise the pure helper x86_arith_flags). Because each is a plain state slot
// overwritten by the next flag-setting instruction, the optimiser's dead-store pass deletes
// the writes nobody reads and dead-code then drops the computations that fed them.
//   cc_op = kind * 4 + log2(operand bytes); kCcEflags: the flags are cc_src itself.
//   ADD/ADC: dst = result, src = second operand, src2 = carry in (ADC)
//   SUB/SBB: dst = result, src = second operand, src2 = borrow in (SBB)
//   LOGIC:   dst = result (CF = OF = AF = 0)
//   INC/DEC: dst = result, src = the CF before the instruction (preserved)
//   SHL:     dst = result, src = operand << (count - 1)
//   SAR:     dst = result, src = operand >> (count - 1) (also SHR: OF = MSB(src ^ dst))
//   MUL:     dst = result (low half), src = non-zero when CF = OF = 1
enum X86CcKind : uint32_t {
    kCcKindEflags = 0,
    kCcKindAdd,
    kCcKindAdc,
    kCcKindSub,
    kCcKindSbb,
    kCcKindLogic,
    kCcKindInc,
    kCcKindDec,
    kCcKindShl,
    kCcKindSar,
    kCcKindMul,
    kCcKindCount,
};
constexpr uint32_t kCcEflags = 0;
constexpr uint32_t x86_cc_op(X86CcKind kind, unsigned size_log2) { return uint32_t(kind) * 4 + size_log2; }

// Segment register indices, in the encoding order of the ISA.
enum X86Seg : unsigned { kSegEs = 0, kSegCs, kSegSs, kSegDs, kSegFs, kSegGs, kSegCount };

// A segment register with its descriptor cache. `attr` holds bits 8..23 of the descriptor's
// high dword: type 3:0, S 4, DPL 6:5, P 7, (limit 19:16 11:8), AVL 12, L 13, D/B 14, G 15.
struct X86Segment {
    uint16_t selector = 0;
    uint16_t attr = 0;
    uint32_t limit = 0xffff;
    uint64_t base = 0;
};
constexpr uint16_t kSegAttrP = 1u << 7;
constexpr uint16_t kSegAttrS = 1u << 4;
constexpr uint16_t kSegAttrL = 1u << 13;
constexpr uint16_t kSegAttrDb = 1u << 14;
constexpr uint16_t kSegAttrG = 1u << 15;
constexpr unsigned seg_attr_dpl(uint16_t attr) { return (attr >> 5) & 3; }

struct X86State {
    CpuCommon common;  // common.pc is RIP

    uint64_t regs[16] = {};  // RAX RCX RDX RBX RSP RBP RSI RDI R8..R15

    // Lazy arithmetic flags (see above).
    uint64_t cc_dst = 0;
    uint64_t cc_src = 0;
    uint64_t cc_src2 = 0;
    uint32_t cc_op = kCcEflags;
    uint32_t pad0 = 0;
    // EFLAGS without the arithmetic bits (IF DF TF IOPL NT AC ID..., bit 1 always set).
    uint64_t eflags = 0x2;

    X86Segment seg[kSegCount];
    X86Segment ldtr;
    X86Segment tr;
    uint64_t gdtr_base = 0;
    uint64_t idtr_base = 0;
    uint32_t gdtr_limit = 0;
    uint32_t idtr_limit = 0;

    uint64_t cr0 = kCr0Et;
    uint64_t cr2 = 0;
    uint64_t cr3 = 0;
    uint64_t cr4 = 0;
    uint64_t cr8 = 0;
    uint64_t efer = 0;

    // MSRs.
    uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0;
    uint64_t kernel_gs_base = 0;
    uint64_t tsc_aux = 0;
    uint64_t tsc_offset = 0;  // guest TSC = host-derived counter + offset (WRMSR 0x10 sets it)
    uint64_t apic_base = 0xfee00900;
    uint64_t pat = 0x0007040600070406ull;
    uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    uint64_t misc_enable = 1;

    // Fault address of the #PF being raised (copied into CR2 at delivery).
    uint64_t fault_va = 0;
    // Iterations a rep string instruction may still run inside its block before it leaves to
    // the run loop (so interrupts and exit requests are seen during long copies).
    uint32_t rep_budget = 0;
    uint32_t pad1 = 0;

    // The frontend that runs this CPU (set by reset): helpers reach the platform through it.
    X86Frontend* frontend = nullptr;
};
static_assert(offsetof(X86State, common) == 0, "generated code addresses CpuCommon and X86State from one base");

constexpr uint32_t x86_reg_offset(unsigned r) { return uint32_t(offsetof(X86State, regs) + 8 * r); }
constexpr uint32_t x86_seg_base_offset(unsigned s) {
    return uint32_t(offsetof(X86State, seg) + sizeof(X86Segment) * s + offsetof(X86Segment, base));
}

inline X86State& x86_state(CpuCommon* cpu) { return *reinterpret_cast<X86State*>(cpu); }
inline const X86State& x86_state(const CpuCommon* cpu) { return *reinterpret_cast<const X86State*>(cpu); }

inline unsigned x86_cpl(const X86State& s) { return (s.common.mode & kX86ModeCplMask) >> kX86ModeCplShift; }

// The mode bits that the state implies (keep common.mode equal to this, plus kX86ModeShadow).
uint32_t x86_state_mode(const X86State& s);
// The arithmetic flags (CF PF AF ZF SF OF) from the lazy state.
uint64_t x86_arith_flags(const X86State& s);
// The same from the slot values (cin: bit 0 of cc_src2, only read by ADC/SBB), so that
// generated code can call it as a pure helper that dead-code elimination can drop.
uint64_t x86_arith_flags_of(uint32_t cc_op, uint64_t cc_dst, uint64_t cc_src, uint64_t cin);
// Full EFLAGS / writing it back (arithmetic part becomes kCcEflags).
uint64_t x86_read_eflags(const X86State& s);
void x86_write_eflags_raw(X86State& s, uint64_t value);

}  // namespace corvid
