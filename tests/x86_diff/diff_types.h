// Shared definitions of the x86-64 differential fuzzer: the guest memory layout that Corvid and
// Unicorn both map, the architectural state that is compared, and one run's outcome.
#pragma once

#include <cstdint>
#include <string>

namespace corvid::x86diff {

// Code: 1 MiB filled with HLT, read/execute only. The instruction(s) under test sit in the
// middle, followed by HLT, so every near branch the generator makes lands on a HLT: Corvid's
// run loop stops there and Unicorn stops at HLT as well (RIP then points past it on both).
constexpr uint64_t kCodeBase = 0x40'0000;
constexpr uint64_t kCodeSize = 1u << 20;
constexpr uint64_t kSlot = kCodeBase + (kCodeSize / 2);
// The data window that memory operands, the stack and string pointers are steered into, and
// that is compared after a run. Below 2 GiB so that disp32 / moffs32 / RIP-relative reach it.
constexpr uint64_t kDataBase = 0x20'0000;
constexpr uint64_t kDataSize = 64u << 10;
// Corvid only: page tables, GDT, IDT, TSS, the exception handlers (one HLT per vector) and the
// IST stack that exceptions use, so that a fault never writes into the data window.
constexpr uint64_t kSysBase = 0x10'0000;
constexpr uint64_t kSysSize = 64u << 10;
constexpr uint64_t kPml4 = kSysBase;  // PML4, PDPT at +0x1000, PD at +0x2000
constexpr uint64_t kGdt = kSysBase + 0x3000;
constexpr uint64_t kIdt = kSysBase + 0x4000;
constexpr uint64_t kTss = kSysBase + 0x5000;
constexpr uint64_t kHandlers = kSysBase + 0x6000;  // vector v: HLT at kHandlers + 16 * v
constexpr uint64_t kIstTop = kSysBase + 0xc000;

constexpr uint8_t kHltByte = 0xf4;

struct ArchState {
    uint64_t regs[16] = {};  // RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
    uint64_t rip = 0;
    uint64_t rflags = 0x2;
};

// How a run ended. kOk: the HLT after the test code (or a HLT that a branch reached) executed,
// and rip points past it. kFault: an exception (Corvid: through the IDT; Unicorn: an error).
struct Outcome {
    enum class Kind { kOk, kFault } kind = Kind::kOk;
    ArchState state;
    bool undefined_opcode = false;  // the fault is #UD (Corvid vector 6 / UC_ERR_INSN_INVALID)
    std::string fault;              // what faulted, for messages
};

const char* const kRegNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

}  // namespace corvid::x86diff
