// The pass manager and the shared compaction utility of the optimiser.
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {

void optimize(Block& block) {
    const_fold(block);
    // Forwarded values may fold further. const_fold's output is its own fixpoint (one forward
    // walk sees every operand in final form), and state_forward leaves everything before its
    // first change as it was, so folding again only needs to start there.
    const size_t changed = state_forward_first_change(block);
    if (changed != kUnchanged) const_fold_from(block, changed);
    dead_store(block);
    dead_code(block);
}

void compact(Block& block, const std::vector<uint8_t>& dead) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    // Before the first dead instruction nothing moves and operands keep their numbers.
    size_t first = 0;
    while (first < n && !dead[first]) ++first;
    if (first == n) return;
    thread_local std::vector<ValueId> renum;  // scratch reused across blocks; only [first, n) is read
    renum.resize(n);
    size_t out = first;
    for (size_t k = first; k < n; ++k) {
        if (dead[k]) {
            renum[k] = kNoValue;
            continue;
        }
        Inst& i = insts[k];
        for (ValueId& a : i.args) {
            if (a != kNoValue && a >= first) a = renum[a];
        }
        renum[k] = ValueId(out);
        if (out != k) insts[out] = i;
        ++out;
    }
    insts.resize(out);
}

}  // namespace corvid::ir
