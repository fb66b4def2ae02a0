// Seeded generator of random, verifier-clean IR blocks for differential tests (JIT vs interpreter)
// and for fuzzing the optimiser.
#pragma once

#include <cstdint>

#include "translator/ir/ir.h"

namespace corvid::ir {

struct RandomBlockOptions {
    uint32_t num_insts = 80;  // approximate number of instructions to generate
    // Guest-state area the block may read and write: [state_offset, state_offset + state_bytes).
    // The last 8 bytes are reserved as a loop counter (written only by loop control code).
    uint32_t state_offset = 0;
    uint32_t state_bytes = 128;  // multiple of 8, >= 16
    // RAM window for loads/stores: addresses are ram_base + (x & (ram_size - 1)), possibly
    // misaligned or crossing a page. ram_size must be a power of two; 0 disables memory ops.
    uint64_t ram_base = 0;
    uint64_t ram_size = 0;
    bool labels = true;          // forward branches and small counted loops
    bool helpers = true;         // calls to random_block_helpers()
    uint64_t guest_pc = 0x1000;  // Block::guest_pc; Inst::pc advances by 4 per "insn"
};

// Produces a block that ends in ExitHalt(kStop) and passes ir::verify.
Block random_block(uint64_t seed, const RandomBlockOptions& options = {});

// The pure helpers random blocks may call (0..3 arguments), for backends to resolve.
const HelperInfo* random_block_helpers(unsigned* count);

}  // namespace corvid::ir
