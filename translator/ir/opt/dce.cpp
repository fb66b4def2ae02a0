// Dead code elimination (see optimize.h).
#include <array>

#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

// Per opcode: removable when its value is unused (calls: only kHelperPure helpers, decided
// per instruction).
constexpr auto kRemovable = [] {
    std::array<bool, size_t(Opcode::Count)> t{};
    for (size_t o = 0; o < t.size(); ++o) {
        const OpInfo& info = detail::kOpInfos[o];
        t[o] = info.result != Kind::V && !(info.flags & (kSideEffect | kMayFault | kTerminal));
    }
    return t;
}();

bool removable_if_unused(const Inst& i) {
    if (i.op == Opcode::Call) return (reinterpret_cast<const HelperInfo*>(i.imm)->flags & kHelperPure) != 0;
    return kRemovable[size_t(i.op)];
}

}  // namespace

void dead_code(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<uint8_t> dead;  // scratch reused across blocks
    dead.assign(n, 0);
    bool any = false;

    // One backward walk: unused values die; branch targets and label positions are noted.
    thread_local std::vector<uint8_t> referenced;
    referenced.assign(block.num_labels, 0);
    thread_local std::vector<uint32_t> labels;
    labels.clear();
    thread_local std::vector<uint8_t> used;
    used.assign(n, 0);
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        if (i.op == Opcode::Br || i.op == Opcode::BrCond) {
            referenced[i.imm] = 1;
        } else if (i.op == Opcode::Label) {
            labels.push_back(uint32_t(k));
            continue;  // no operands
        } else if (!used[k] && removable_if_unused(i)) {
            dead[k] = 1;
            any = true;
            continue;
        }
        for (ValueId a : i.args) {
            if (a != kNoValue) used[a] = 1;
        }
    }

    // Labels no branch names, entered only by falling through, are dropped (fewer barriers).
    for (uint32_t k : labels) {
        if (referenced[insts[k].imm]) continue;
        if (k > 0) {
            const Inst& prev = insts[k - 1];
            if ((op_info(prev.op).flags & kTerminal) || prev.op == Opcode::Br) continue;
        }
        dead[k] = 1;
        any = true;
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
