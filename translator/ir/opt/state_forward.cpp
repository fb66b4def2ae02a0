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
// of an 8-byte chunk whose number is b modulo 64. A clear bit proves "no known entry there",
// which spares the linear scans for most GetStates and SetStates. Bits are only cleared when
// the whole list is. A range of at most 8 bytes spans at most 2 chunks.
class ChunkFilter {
public:
    void clear() { w_ = 0; }
    void add(uint32_t begin, uint32_t end) { w_ |= bits(begin, end); }
    bool may_touch(uint32_t begin, uint32_t end) const { return (w_ & bits(begin, end)) != 0; }

private:
    static uint64_t bits(uint32_t begin, uint32_t end) {
        if (end <= begin) return ~0ull;  // wraps past 4 GiB (never in a real CPU state)
        return (1ull << ((begin >> 3) & 63)) | (1ull << (((end - 1) >> 3) & 63));
    }
    uint64_t w_ = 0;
};

}  // namespace

// One forward walk that compacts in place: slots before `out` hold the final instructions.
// Until the first forwarded GetState nothing moves and no operand needs renaming.
size_t state_forward_first_change(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks; only [first, n) is read
    thread_local std::vector<Known> known;
    known.clear();
    ChunkFilter filter;
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
    block.state_forwarded = true;
    if (first == n) return kUnchanged;
    insts.resize(out);
    return first;
}

void state_forward(Block& block) {
    state_forward_first_change(block);
}

}  // namespace corvid::ir
