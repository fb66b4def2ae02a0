// Segmentation helpers shared by the x86 helpers and exception delivery: descriptor table
// reads, segment register loads with their checks, EFLAGS writes with privilege masks.
#pragma once

#include <cstdint>

#include "frontends/x86/x86_frontend.h"

namespace corvid::x86 {

// Reads the 8-byte descriptor for `sel` from the GDT or LDT. Fault: #GP(sel) past the limit.
bool read_descriptor(X86State& s, uint16_t sel, uint64_t* desc, X86Fault* f);
// Fills a segment cache from a descriptor.
void segment_from_descriptor(X86Segment& seg, uint16_t sel, uint64_t desc);
// A flat segment (base 0, limit 4 GiB) with the given attributes.
X86Segment flat_segment(uint16_t sel, uint16_t attr);

// mov/pop to a data segment register (ES SS DS FS GS) with the protected-mode checks.
bool load_data_segment(X86State& s, unsigned seg, uint16_t sel, X86Fault* f);
// Loads CS for a far jmp/call/ret/iret to privilege `new_cpl` (no gates).
bool load_code_segment(X86State& s, uint16_t sel, unsigned new_cpl, X86Fault* f);

// EFLAGS from popf/iret: what may change depends on CPL and IOPL; `size` is the operand size.
void write_eflags_checked(X86State& s, uint64_t value, unsigned size, unsigned cpl);

// Re-derives common.mode after a state change (keeps the interrupt shadow bit) and flushes the
// TLB when the CPL changed (its entries hold permissions for one privilege level).
void update_mode(X86State& s);

// Asks the run loop to return when an interrupt became deliverable.
void request_exit_if_irq_unmasked(X86State& s);

}  // namespace corvid::x86
