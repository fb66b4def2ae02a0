// Which EFLAGS bits an instruction leaves architecturally defined (Intel SDM, per instruction
// "Flags Affected"), and which flags a condition code reads.
#pragma once

#include <cstdint>

#include "frontends/x86/x86_decoder.h"

namespace corvid::x86diff {

constexpr uint64_t kCf = 1u << 0, kPf = 1u << 2, kAf = 1u << 4, kZf = 1u << 6, kSf = 1u << 7, kDf = 1u << 10,
                   kOf = 1u << 11;
constexpr uint64_t kAllCompared = kCf | kPf | kAf | kZf | kSf | kOf | kDf;

// The defined subset of kAllCompared after one instruction. `count` is the shift/rotate count
// before masking (imm8, 1 or CL) where the row has one; `f3` selects LZCNT/TZCNT.
uint64_t defined_flags(x86::OpMap map, uint8_t op, unsigned reg, unsigned opsize, bool f3, uint64_t count);
// The flags that condition code `cc` (low nibble of jcc/setcc/cmovcc) reads.
uint64_t condition_reads(unsigned cc);

}  // namespace corvid::x86diff
