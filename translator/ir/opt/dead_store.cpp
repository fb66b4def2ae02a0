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

bool is_barrier(const Inst& i) {
    if (i.op == Opcode::Call || i.op == Opcode::CallVoid) [[unlikely]]
        return (reinterpret_cast<const HelperInfo*>(i.imm)->flags & (kHelperReadsState | kHelperMayRaise)) != 0;
    return kBarrier[size_t(i.op)];
}

// State offsets up to this are tracked directly by their 8-byte chunk; a block with a larger
// one takes the windowed path.
constexpr uint32_t kMaxDirectOffset = 1u << 20;

// The fast path. Per aligned 8-byte chunk of state: (epoch << 8) | mask, where mask bit j says
// byte j is overwritten later before anything can observe it; the mask counts only while its
// epoch is current. A barrier starts a new epoch. Epochs keep growing across blocks (56 bits
// never wrap), so the table is never cleared. Returns false if an offset is out of range.
bool mark_direct(const std::vector<Inst>& insts, std::vector<uint8_t>& dead, bool& any) {
    thread_local std::vector<uint64_t> chunks;  // scratch reused across blocks
    thread_local uint64_t last_epoch = 0;
    uint64_t epoch = ++last_epoch;
    const size_t n = insts.size();
    auto mask_of = [&](uint32_t c) -> uint32_t {
        const uint64_t v = chunks[c];
        return (v >> 8) == epoch ? uint32_t(v & 0xff) : 0;
    };
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        if (i.op == Opcode::SetState || i.op == Opcode::GetState) {
            const uint32_t off = uint32_t(i.imm);
            if (off >= kMaxDirectOffset) return false;
            const uint32_t c = off >> 3;
            if (c + 2 > chunks.size()) chunks.resize(c + 2 + 64, 0);
            const Type t = i.op == Opcode::SetState ? insts[i.args[0]].type : i.type;
            const uint32_t m = ((1u << (bit_width(t) / 8)) - 1) << (off & 7);
            const uint32_t m0 = m & 0xff, m1 = m >> 8;
            const uint32_t cur0 = mask_of(c), cur1 = m1 ? mask_of(c + 1) : 0;
            if (i.op == Opcode::SetState) {
                if ((cur0 & m0) == m0 && (cur1 & m1) == m1) {
                    if (!any) {
                        dead.assign(n, 0);
                        any = true;
                    }
                    dead[k] = 1;
                } else {
                    chunks[c] = (epoch << 8) | cur0 | m0;
                    if (m1) chunks[c + 1] = (epoch << 8) | cur1 | m1;
                }
            } else {
                chunks[c] = (epoch << 8) | (cur0 & ~m0);
                if (m1) chunks[c + 1] = (epoch << 8) | (cur1 & ~m1);
            }
        } else if (is_barrier(i)) {
            epoch = ++last_epoch;
        }
    }
    return true;
}

// The general path: a byte array over the window of state the block touches.
void mark_windowed(const std::vector<Inst>& insts, std::vector<uint8_t>& dead, bool& any) {
    const size_t n = insts.size();
    uint32_t lo = ~0u, hi = 0;
    for (const Inst& i : insts) {
        if (i.op == Opcode::GetState || i.op == Opcode::SetState) {
            lo = std::min(lo, uint32_t(i.imm));
            hi = std::max(hi, uint32_t(i.imm) + 8);
        }
    }
    if (lo >= hi) return;
    // covered[b] == epoch: byte b is overwritten later before anything can observe it.
    thread_local std::vector<uint32_t> covered;  // scratch reused across blocks
    covered.assign(hi - lo, 0);
    uint32_t epoch = 1;
    for (size_t k = n; k-- > 0;) {
        const Inst& i = insts[k];
        if (i.op == Opcode::SetState) {
            const uint32_t off = uint32_t(i.imm) - lo;
            const unsigned bytes = bit_width(insts[i.args[0]].type) / 8;
            bool all = true;
            for (unsigned b = 0; b < bytes; ++b) all = all && covered[off + b] == epoch;
            if (all) {
                if (!any) {
                    dead.assign(n, 0);
                    any = true;
                }
                dead[k] = 1;
            } else {
                for (unsigned b = 0; b < bytes; ++b) covered[off + b] = epoch;
            }
        } else if (i.op == Opcode::GetState) {
            const uint32_t off = uint32_t(i.imm) - lo;
            for (unsigned b = 0; b < bit_width(i.type) / 8; ++b) covered[off + b] = 0;
        } else if (is_barrier(i)) {
            ++epoch;
        }
    }
}

}  // namespace

void dead_store(Block& block) {
    thread_local std::vector<uint8_t> dead;  // scratch reused across blocks
    bool any = false;
    if (!mark_direct(block.insts, dead, any)) {
        any = false;
        mark_windowed(block.insts, dead, any);
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
