// The IR verifier: checks a block against the opcode table and the structure rules of ir.h.
#pragma once

#include "base/result.h"
#include "translator/ir/ir.h"

namespace corvid::ir {

// Returns an error naming the first offending instruction, followed by the dumped block.
Status verify(const Block& block);

}  // namespace corvid::ir
