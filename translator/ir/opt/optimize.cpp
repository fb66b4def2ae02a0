// The pass manager and the shared compaction utility of the optimiser.
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {

void optimize(Block& block) {
    const_fold(block);
    state_forward(block);
    const_fold(block);  // forwarded constants may fold further
    dead_store(block);
    dead_code(block);
}

void compact(Block& block, const std::vector<uint8_t>& dead) {
    thread_local std::vector<ValueId> renum;  // scratch reused across blocks
    renum.assign(block.insts.size(), kNoValue);
    size_t out = 0;
    for (size_t k = 0; k < block.insts.size(); ++k) {
        if (dead[k]) continue;
        Inst i = block.insts[k];
        for (ValueId& a : i.args) {
            if (a != kNoValue) a = renum[a];
        }
        renum[k] = ValueId(out);
        block.insts[out++] = i;
    }
    block.insts.resize(out);
}

}  // namespace corvid::ir
