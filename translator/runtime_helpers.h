// C-ABI entry points that generated code (backend/x64) calls for the softmmu slow paths and
// for raising guest exceptions; each forwards to cpu->engine.
#pragma once

#include <cstdint>

#include "translator/cpu.h"

namespace corvid {

extern "C" {

// TLB miss / MMIO / misaligned load. `mem_flags` are ir::MemFlag bits; `pc` is the guest pc of
// the faulting instruction (Inst::pc). Returns the loaded value zero-extended to 64 bits
// (sign-extended to 64 bits when kMemSigned is set; the caller truncates to the result type).
// On a guest fault it does not return: it unwinds to the run loop (longjmp).
uint64_t corvid_slow_load(CpuCommon* cpu, uint64_t va, uint64_t mem_flags, uint64_t pc);

// TLB miss / MMIO / misaligned / code-page store. Same unwinding rules as corvid_slow_load;
// in addition, when the store hits the code of the running block it leaves generated code
// with cpu->pc = pc (the store is re-executed from a fresh one-instruction block).
void corvid_slow_store(CpuCommon* cpu, uint64_t va, uint64_t value, uint64_t mem_flags, uint64_t pc);

// Raises guest exception `cause`/`detail` at cpu->pc (the caller stores the pc first).
// Never returns.
[[noreturn]] void corvid_raise(CpuCommon* cpu, uint64_t cause, uint64_t detail);

// Leaves generated code at once, resuming at cpu->pc (already set by the caller). Never returns.
[[noreturn]] void corvid_exit_to_loop(CpuCommon* cpu);

}  // extern "C"

}  // namespace corvid
