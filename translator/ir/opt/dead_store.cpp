// Dead guest-state store elimination (see optimize.h for the rules and the flag-liveness note).
#include <algorithm>

#include "translator/ir/opt/optimize.h"

namespace corvid::ir {

void dead_store(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    // The state bytes the block touches, as a window [lo, hi).
    uint32_t lo = ~0u, hi = 0;
    for (const Inst& i : insts) {
        if (i.op == Opcode::GetState || i.op == Opcode::SetState) {
            lo = std::min(lo, uint32_t(i.imm));
            hi = std::max(hi, uint32_t(i.imm) + 8);
        }
    }
    if (lo >= hi) return;
    // covered[b] == epoch: byte b is overwritten later before anything can observe it.
    // A barrier just bumps the epoch.
    thread_local std::vector<uint32_t> covered;  // scratch reused across blocks
    covered.assign(hi - lo, 0);
    uint32_t epoch = 1;
    thread_local std::vector<uint8_t> dead;
    dead.assign(n, 0);
    bool any = false;
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        const OpInfo& info = op_info(i.op);
        if (i.op == Opcode::SetState) {
            const uint32_t off = uint32_t(i.imm) - lo;
            const unsigned bytes = bit_width(insts[i.args[0]].type) / 8;
            bool all = true;
            for (unsigned b = 0; b < bytes; ++b) all = all && covered[off + b] == epoch;
            if (all) {
                dead[k] = 1;
                any = true;
            } else {
                for (unsigned b = 0; b < bytes; ++b) covered[off + b] = epoch;
            }
        } else if (i.op == Opcode::GetState) {
            const uint32_t off = uint32_t(i.imm) - lo;
            for (unsigned b = 0; b < bit_width(i.type) / 8; ++b) covered[off + b] = 0;
        } else if (i.op == Opcode::Call || i.op == Opcode::CallVoid) {
            const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
            if (h->flags & (kHelperReadsState | kHelperMayRaise)) ++epoch;
        } else if ((info.flags & (kMayFault | kTerminal)) || i.op == Opcode::Label || i.op == Opcode::Br ||
                   i.op == Opcode::BrCond) {
            ++epoch;
        }
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
