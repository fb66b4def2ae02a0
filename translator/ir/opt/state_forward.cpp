// Guest-state get/set forwarding (see optimize.h).
#include <cstdint>

#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

struct Known {
    uint32_t begin, end;  // the state bytes [begin, end)
    Type type;
    ValueId value;
};

// A conservative filter over the known entries: bit b is set if some entry may touch a byte
// whose 4-byte slot number is b modulo 256. A clear bit proves "no known entry there", which
// spares the linear scans for most GetStates and SetStates. Bits are only cleared when the
// whole list is.
class SlotFilter {
public:
    void clear() { w_[0] = w_[1] = w_[2] = w_[3] = 0; }
    // A range that wraps past 4 GiB (never in a real CPU state) makes the filter give up.
    void add(uint32_t begin, uint32_t end) {
        if (end <= begin) {
            w_[0] = w_[1] = w_[2] = w_[3] = ~0ull;
            return;
        }
        for (uint32_t s = begin >> 2; s <= (end - 1) >> 2; ++s) w_[(s >> 6) & 3] |= 1ull << (s & 63);
    }
    bool may_touch(uint32_t begin, uint32_t end) const {
        if (end <= begin) return true;
        for (uint32_t s = begin >> 2; s <= (end - 1) >> 2; ++s) {
            if (w_[(s >> 6) & 3] & (1ull << (s & 63))) return true;
        }
        return false;
    }

private:
    uint64_t w_[4] = {};
};

}  // namespace

// One forward walk that compacts in place: slots before `out` hold the final instructions.
// Until the first forwarded GetState nothing moves and no operand needs renaming.
bool state_forward_changed(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks; only [first, n) is read
    thread_local std::vector<Known> known;
    known.clear();
    SlotFilter filter;
    size_t first = n;  // the first removed instruction
    size_t out = 0;
    for (size_t k = 0; k < n; ++k) {
        Inst& i = insts[k];
        if (first != n) {
            for (ValueId& a : i.args) {
                if (a != kNoValue && a >= first) a = repl[a];
            }
        }
        switch (i.op) {
            case Opcode::Label:
                known.clear();
                filter.clear();
                break;
            case Opcode::GetState: {
                const uint32_t off = uint32_t(i.imm);
                const uint32_t end = off + bit_width(i.type) / 8;
                const Known* hit = nullptr;
                if (filter.may_touch(off, end)) {
                    for (const Known& e : known) {
                        if (e.begin == off && e.type == i.type) {
                            hit = &e;
                            break;
                        }
                    }
                }
                if (hit) {
                    if (first == n) {
                        first = k;
                        repl.resize(n);
                    }
                    repl[k] = hit->value;
                    continue;  // removed: not copied to `out`
                }
                known.push_back({off, end, i.type, ValueId(out)});
                filter.add(off, end);
                break;
            }
            case Opcode::SetState: {
                const uint32_t off = uint32_t(i.imm);
                const Type t = insts[i.args[0]].type;
                const uint32_t end = off + bit_width(t) / 8;
                if (filter.may_touch(off, end)) {
                    size_t keep = 0;
                    for (size_t e = 0; e < known.size(); ++e) {
                        if (!(off < known[e].end && known[e].begin < end)) known[keep++] = known[e];
                    }
                    known.resize(keep);
                }
                known.push_back({off, end, t, i.args[0]});
                filter.add(off, end);
                break;
            }
            case Opcode::Call:
            case Opcode::CallVoid: {
                const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
                if (h->flags & kHelperWritesState) {
                    known.clear();
                    filter.clear();
                }
                break;
            }
            default: break;
        }
        if (first != n) {
            repl[k] = ValueId(out);
            insts[out] = i;
        }
        ++out;
    }
    if (first == n) return false;
    insts.resize(out);
    return true;
}

void state_forward(Block& block) {
    state_forward_changed(block);
}

}  // namespace corvid::ir
