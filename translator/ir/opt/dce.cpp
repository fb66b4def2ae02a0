// Dead code elimination (see optimize.h).
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

bool removable_if_unused(const Inst& i) {
    if (i.op == Opcode::Call) return (reinterpret_cast<const HelperInfo*>(i.imm)->flags & kHelperPure) != 0;
    const uint32_t f = op_info(i.op).flags;
    return op_info(i.op).result != Kind::V && !(f & (kSideEffect | kMayFault | kTerminal));
}

}  // namespace

void dead_code(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<uint8_t> dead;  // scratch reused across blocks
    dead.assign(n, 0);
    bool any = false;

    // Labels no branch names, entered only by falling through, are dropped (fewer barriers).
    thread_local std::vector<uint8_t> referenced;
    referenced.assign(block.num_labels, 0);
    for (const Inst& i : insts) {
        if (i.op == Opcode::Br || i.op == Opcode::BrCond) referenced[i.imm] = 1;
    }
    for (size_t k = 0; k < n; ++k) {
        const Inst& i = insts[k];
        if (i.op != Opcode::Label || referenced[i.imm]) continue;
        if (k > 0) {
            const Inst& prev = insts[k - 1];
            if ((op_info(prev.op).flags & kTerminal) || prev.op == Opcode::Br) continue;
        }
        dead[k] = 1;
        any = true;
    }

    thread_local std::vector<uint8_t> used;
    used.assign(n, 0);
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        if (removable_if_unused(i) && !used[k]) {
            dead[k] = 1;
            any = true;
            continue;
        }
        for (ValueId a : i.args) {
            if (a != kNoValue) used[a] = 1;
        }
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
