// The IR optimiser: the individual passes (one per file in this folder) and the pass manager.
//
// Every pass takes a verified block and leaves a verified block with the same observable
// behaviour: guest state at every exit, fault and helper call, memory accesses in order.
// Labels are barriers: no pass carries knowledge across a Label.
#pragma once

#include <cstddef>

#include "translator/ir/ir.h"

namespace corvid::ir {

// Folds pure instructions with constant operands (through ir::eval_pure, the interpreter's
// semantics), algebraic identities (x+0, x&0, x*1, x^x, ...), constant Select / BrCond /
// ExitCond conditions.
void const_fold(Block& block);

// const_fold of the instructions from index `start` on, for a block whose instructions before
// `start` are already folded (a const_fold result that a later pass left untouched there): the
// result equals const_fold(block), since const_fold leaves its own output unchanged.
void const_fold_from(Block& block, size_t start);

// Guest-state get/set forwarding: a GetState after a SetState or GetState of the same offset
// and type reuses that value (until a label or a helper that writes state).
void state_forward(Block& block);
// state_forward, reporting where it started changing the block: the index of the first
// GetState it forwarded (every instruction before it is left as it was), or kUnchanged if it
// forwarded nothing. Forwarding can make operands constant or identical (sub x, x), so the
// pass manager folds again from there.
inline constexpr size_t kUnchanged = ~size_t(0);
size_t state_forward_first_change(Block& block);

// Dead guest-state store elimination: a SetState whose bytes are all overwritten by later
// SetStates before any read of them, label, branch, terminal, may-fault instruction (Load,
// Store, ExitException, a helper that may raise) or helper that reads state is removed.
// Faults and helpers thus always see exact state.
//
// Flag liveness comes from this pass plus dead_code: frontends write each flag (NZCV /
// EFLAGS bits) to guest state after every flag-setting instruction; when the next
// instruction redefines the flags before anything reads them, the first write is dead here,
// and dead_code then removes the computation that fed it.
void dead_store(Block& block);

// Removes instructions whose values are unused and that have no effect (pure ops, constants,
// GetState, calls to kHelperPure helpers) and labels that no branch names when control can
// only fall into them.
void dead_code(Block& block);

// Runs the passes in order: fold, forward, fold, dead stores, dead code.
void optimize(Block& block);

// Removes instructions marked in `dead` and renumbers the remaining operands (pass utility).
void compact(Block& block, const std::vector<uint8_t>& dead);

}  // namespace corvid::ir
