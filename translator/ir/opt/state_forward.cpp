// Guest-state get/set forwarding (see optimize.h).
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

struct Known {
    uint32_t offset;
    Type type;
    ValueId value;
};

bool overlaps(const Known& k, uint32_t off, unsigned bytes) {
    return off < k.offset + bit_width(k.type) / 8 && k.offset < off + bytes;
}

}  // namespace

// One forward walk that compacts in place: slots before `out` hold the final instructions.
// Until the first forwarded GetState nothing moves and no operand needs renaming.
bool state_forward_changed(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks; only [first, n) is read
    thread_local std::vector<Known> known;
    known.clear();
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
            case Opcode::Label: known.clear(); break;
            case Opcode::GetState: {
                const uint32_t off = uint32_t(i.imm);
                const Known* hit = nullptr;
                for (const Known& e : known) {
                    if (e.offset == off && e.type == i.type) {
                        hit = &e;
                        break;
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
                known.push_back({off, i.type, ValueId(out)});
                break;
            }
            case Opcode::SetState: {
                const uint32_t off = uint32_t(i.imm);
                const Type t = insts[i.args[0]].type;
                const unsigned bytes = bit_width(t) / 8;
                size_t keep = 0;
                for (size_t e = 0; e < known.size(); ++e) {
                    if (!overlaps(known[e], off, bytes)) known[keep++] = known[e];
                }
                known.resize(keep);
                known.push_back({off, t, i.args[0]});
                break;
            }
            case Opcode::Call:
            case Opcode::CallVoid: {
                const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
                if (h->flags & kHelperWritesState) known.clear();
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
