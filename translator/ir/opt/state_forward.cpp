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

void state_forward(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks
    repl.resize(n);
    thread_local std::vector<uint8_t> dead;
    dead.assign(n, 0);
    thread_local std::vector<Known> known;
    known.clear();
    bool any = false;
    for (size_t k = 0; k < n; ++k) {
        Inst& i = insts[k];
        repl[k] = ValueId(k);
        for (ValueId& a : i.args) {
            if (a != kNoValue) a = repl[a];
        }
        switch (i.op) {
            case Opcode::Label: known.clear(); break;
            case Opcode::GetState: {
                const uint32_t off = uint32_t(i.imm);
                bool found = false;
                for (const Known& e : known) {
                    if (e.offset == off && e.type == i.type) {
                        repl[k] = e.value;
                        dead[k] = 1;
                        any = found = true;
                        break;
                    }
                }
                if (!found) known.push_back({off, i.type, ValueId(k)});
                break;
            }
            case Opcode::SetState: {
                const uint32_t off = uint32_t(i.imm);
                const Type t = insts[i.args[0]].type;
                const unsigned bytes = bit_width(t) / 8;
                std::erase_if(known, [&](const Known& e) { return overlaps(e, off, bytes); });
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
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
