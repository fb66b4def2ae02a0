// Dead guest-state store elimination (see optimize.h for the rules and the flag-liveness note).
#include <algorithm>
#include <array>

#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

// Per opcode: does it end the stretch in which a later SetState hides an earlier one?
// Calls depend on their helper and are decided separately.
constexpr auto kBarrier = [] {
    std::array<bool, size_t(Opcode::Count)> t{};
    for (size_t o = 0; o < t.size(); ++o) {
        const Opcode op = Opcode(o);
        t[o] = op == Opcode::Label || op == Opcode::Br || op == Opcode::BrCond ||
               (detail::kOpInfos[o].flags & (kMayFault | kTerminal)) != 0;
    }
    return t;
}();

}  // namespace

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
    bool any = false;
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        switch (i.op) {
            case Opcode::SetState: {
                uint32_t* c = covered.data() + (uint32_t(i.imm) - lo);
                const unsigned bytes = bit_width(insts[i.args[0]].type) / 8;
                unsigned b = 0;
                while (b < bytes && c[b] == epoch) ++b;
                if (b == bytes) {
                    if (!any) {
                        dead.assign(n, 0);
                        any = true;
                    }
                    dead[k] = 1;
                } else {
                    for (; b < bytes; ++b) c[b] = epoch;  // [0, b) already hold the epoch
                }
                break;
            }
            case Opcode::GetState: {
                uint32_t* c = covered.data() + (uint32_t(i.imm) - lo);
                const unsigned bytes = bit_width(i.type) / 8;
                for (unsigned b = 0; b < bytes; ++b) c[b] = 0;
                break;
            }
            case Opcode::Call:
            case Opcode::CallVoid: {
                const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
                if (h->flags & (kHelperReadsState | kHelperMayRaise)) ++epoch;
                break;
            }
            default:
                if (kBarrier[size_t(i.op)]) ++epoch;
                break;
        }
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
