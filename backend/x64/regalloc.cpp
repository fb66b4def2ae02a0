// Block analysis (constant folding, guest-state forwarding, liveness) and the linear-scan
// register allocator of the x86-64 backend. The rules are written up in REGALLOC.md.
#include <algorithm>
#include <climits>

#include "backend/x64/block_compiler.h"
#include "translator/ir/eval.h"

namespace corvid::x64 {

using namespace asmjit;
using ir::Opcode;
using ir::Type;

namespace {

constexpr uint8_t kCallerOrder[] = {kRsi, kRdi, 8, 9, 10, 11};
constexpr uint8_t kCalleeOrder[] = {kRbx, kRbp, 12, 13, 14};

constexpr uint32_t mask_of(const uint8_t* regs, size_t n) {
    uint32_t m = 0;
    for (size_t k = 0; k < n; ++k) m |= 1u << regs[k];
    return m;
}
constexpr uint32_t kCallerMask = mask_of(kCallerOrder, std::size(kCallerOrder));
constexpr uint32_t kCalleeMask = mask_of(kCalleeOrder, std::size(kCalleeOrder));
constexpr uint32_t kAllocMask = kCallerMask | kCalleeMask;

bool is_call(Opcode op) { return op == Opcode::Call || op == Opcode::CallVoid; }

}  // namespace

BlockCompiler::BlockCompiler(const CompileEnv& env, const ir::Block& block, TranslatedBlock& tb,
                             ax::Assembler& as, CompileScratch& scratch)
    : env_(env),
      block_(block),
      tb_(tb),
      as_(as),
      free_slots_(scratch.free_slots),
      labels_(scratch.labels),
      cold_(scratch.cold),
      scratch_(scratch) {}

void BlockCompiler::fail(const char* message) {
    if (!error_) error_ = message;
}

// ---------------------------------------------------------------------------------------------
// Analysis

void BlockCompiler::size_arrays(size_t n) {
    CompileScratch& sc = scratch_;
    if (sc.alias.size() < n) {
        sc.alias.resize(n);
        sc.cval.resize(n);
        sc.last_use.resize(n);
        sc.crosses_call.resize(n);
        sc.fused.resize(n);
        sc.flag_use.resize(n);
        sc.flag_cc.resize(n);
        sc.vreg.resize(n);
        sc.vslot.resize(n);
    }
    alias_ = sc.alias.data();
    cval_ = sc.cval.data();
    last_use_ = sc.last_use.data();
    crosses_call_ = sc.crosses_call.data();
    fused_ = sc.fused.data();
    flag_use_ = sc.flag_use.data();
    flag_cc_ = sc.flag_cc.data();
    vreg_ = sc.vreg.data();
    vslot_ = sc.vslot.data();
}

void BlockCompiler::analyze() {
    const size_t n = block_.insts.size();
    size_arrays(n);
    std::fill_n(last_use_, n, -1);
    std::fill_n(crosses_call_, n, 0);
    std::vector<uint16_t>& uses = scratch_.uses;
    uses.assign(n, 0);
    // Known significant low bits of values (the rest is zero), for free truncations: worked out
    // on demand (only a Trunc asks), kUnknownBits until then.
    std::vector<uint8_t>& zbits = scratch_.zbits;
    zbits.assign(n, kUnknownBits);

    // Guest-state forwarding inside a label-free region: a GetState of an offset whose current
    // value is already held by an IR value (an earlier GetState or SetState of the same type)
    // becomes an alias of that value. Helpers that write state and labels forget everything.
    // Nothing to find when the state_forward pass has run (the optimiser is on).
    const bool forward = !block_.state_forwarded;
    using Known = CompileScratch::Known;
    std::vector<Known>& known = scratch_.known;
    known.clear();
    auto find_exact = [&](uint64_t off, Type t) -> const Known* {
        for (const Known& e : known) {
            if (e.off == off && e.type == t) return &e;
        }
        return nullptr;
    };
    auto forget_overlap = [&](uint64_t off, unsigned bytes) {
        for (size_t k = 0; k < known.size();) {
            if (known[k].off < off + bytes && off < known[k].off + known[k].bytes) {
                known[k] = known.back();
                known.pop_back();
            } else {
                ++k;
            }
        }
    };

    // One forward walk: operands are final (canonical) by the time they are read, so uses and
    // last uses are counted in the same walk.
    bool any_call = false;
    for (size_t i = 0; i < n; ++i) {
        const ir::Inst& in = block_.insts[i];
        alias_[i] = ValueId(i);
        cval_[i].reset();
        for (ValueId a : in.args) {
            if (a != ir::kNoValue && a < i) {
                const ValueId c = alias_[a];
                last_use_[c] = int32_t(i);
                if (uses[c] < UINT16_MAX) ++uses[c];
            }
        }
        switch (in.op) {
            case Opcode::Const: cval_[i] = ir::truncate(in.type, in.imm); break;
            case Opcode::Label:
                if (in.imm >= block_.num_labels) fail("label id out of range");
                known.clear();
                break;
            case Opcode::Br:
            case Opcode::BrCond:
                if (in.imm >= block_.num_labels) fail("label id out of range");
                break;
            case Opcode::GetState: {
                if (!forward) break;
                // Reading state changes nothing, so overlapping entries stay true.
                if (const Known* k = find_exact(in.imm, in.type)) {
                    alias_[i] = canon(k->v);
                } else {
                    known.push_back({in.imm, type_bytes(in.type), in.type, ValueId(i)});
                }
                break;
            }
            case Opcode::SetState: {
                if (!forward) break;
                Type t = type_of(in.args[0]);
                forget_overlap(in.imm, type_bytes(t));
                known.push_back({in.imm, type_bytes(t), t, canon(in.args[0])});
                break;
            }
            case Opcode::Call:
            case Opcode::CallVoid: {
                any_call = true;
                auto* h = reinterpret_cast<const ir::HelperInfo*>(in.imm);
                if (!h || (h->flags & ir::kHelperWritesState)) known.clear();
                break;
            }
            default:
                if (ir::is_pure(in.op)) {
                    const unsigned na = ir::op_info(in.op).num_args();
                    bool all_const = true;
                    uint64_t v[3] = {0, 0, 0};
                    for (unsigned k = 0; k < na; ++k) {
                        if (!is_const(in.args[k])) {
                            all_const = false;
                            break;
                        }
                        v[k] = const_of(in.args[k]);
                    }
                    if (all_const) {
                        cval_[i] = ir::eval_pure(in.op, in.type, ir::operand_type(block_, in), v[0], v[1], v[2]);
                        break;
                    }
                    // Conversions that do not change the (zero-extended) bits are free; so is
                    // a narrowing Trunc of a value whose upper bits are known to be zero.
                    const unsigned from = ir::bit_width(type_of(in.args[0]));
                    const unsigned to = ir::bit_width(in.type);
                    if (((in.op == Opcode::ZExt || in.op == Opcode::Trunc) && from <= to) ||
                        (in.op == Opcode::SExt && from == to) ||
                        (in.op == Opcode::Trunc && known_bits(canon(in.args[0]), zbits.data(), 0) <= to)) {
                        alias_[i] = canon(in.args[0]);
                    } else if (in.op == Opcode::Select && is_const(in.args[0])) {
                        alias_[i] = canon(const_of(in.args[0]) != 0 ? in.args[1] : in.args[2]);
                    }
                }
                break;
        }
    }

    // Second walk, now that uses and last uses are final: which instructions emit nothing,
    // which compares fuse with the next branch, and what the flag analysis looks at.
    std::vector<uint8_t>& skip = scratch_.skip;
    skip.resize(n);
    std::vector<uint32_t>& addcs = scratch_.flag_addcs;
    std::vector<uint32_t>& branches = scratch_.flag_branches;
    std::vector<uint32_t>& sign_tests = scratch_.flag_sign_tests;
    addcs.clear();
    branches.clear();
    sign_tests.clear();
    bool any_cmp = false;
    for (uint32_t i = 0; i < n; ++i) {
        const ir::Inst& in = block_.insts[i];
        const bool has_result = ir::op_info(in.op).result != ir::Kind::V;
        skip[i] = in.op == Opcode::Const || (has_result && (alias_[i] != i || cval_[i])) ||
                  (has_result && last_use_[i] < 0 && (ir::is_pure(in.op) || in.op == Opcode::GetState));
        fused_[i] = 0;
        if (in.op >= Opcode::CmpEq && in.op <= Opcode::CmpLeS) {
            any_cmp = true;
            if (in.op == Opcode::CmpLtS && is_const(in.args[1]) && const_of(in.args[1]) == 0) sign_tests.push_back(i);
            // A compare whose only use is the next BrCond/ExitCond: cmp + jcc, no setcc.
            if (i + 1 < n && alias_[i] == i && !cval_[i] && uses[i] == 1) {
                const ir::Inst& next = block_.insts[i + 1];
                fused_[i] = (next.op == Opcode::BrCond || next.op == Opcode::ExitCond) && canon(next.args[0]) == i;
            }
        } else if (in.op == Opcode::AddWithCarry || in.op == Opcode::AddCarry || in.op == Opcode::AddOverflow) {
            addcs.push_back(i);
        } else if ((in.op == Opcode::BrCond || in.op == Opcode::ExitCond) && !is_const(in.args[0])) {
            branches.push_back(i);
        }
    }
    analyze_flags(uses, any_cmp);
    plan_deaths();
    if (!any_call) return;
    std::vector<uint32_t>& calls_before = scratch_.calls_before;
    calls_before.assign(n + 1, 0);
    for (size_t i = 0; i < n; ++i) calls_before[i + 1] = calls_before[i] + (is_call(block_.insts[i].op) ? 1 : 0);
    for (size_t v = 0; v < n; ++v) {
        if (last_use_[v] > int32_t(v) && calls_before[last_use_[v]] > calls_before[v + 1]) crosses_call_[v] = 1;
    }
}

// Upper bound on the significant bits of value v (zero-extended representation), from its
// operands' bounds, memoised in `zb`. Only for values already analysed (operands of the current
// instruction); chains deeper than a few levels get the conservative answer, the full width.
uint8_t BlockCompiler::known_bits(ValueId v, uint8_t* zb, int depth) const {
    if (zb[v] != kUnknownBits) return zb[v];
    const ir::Inst& in = block_.insts[v];
    const unsigned w = ir::bit_width(in.type);
    unsigned r = w;
    if (ir::op_info(in.op).result == ir::Kind::V) {
        r = 64;
    } else if (alias_[v] != v) {
        r = std::min(w, unsigned(known_bits(alias_[v], zb, depth)));
    } else if (cval_[v]) {
        const uint64_t c = *cval_[v];
        r = c ? 64 - __builtin_clzll(c) : 0;
    } else if (depth < 8) {
        auto arg = [&](unsigned k) -> unsigned { return known_bits(alias_[in.args[k]], zb, depth + 1); };
        switch (in.op) {
            case Opcode::Load:
                if (!(in.imm & ir::kMemSigned)) r = std::min(w, 8 * ir::mem_size_bytes(in.imm));
                break;
            case Opcode::ZExt:
            case Opcode::Trunc: r = std::min(w, arg(0)); break;
            case Opcode::And: r = std::min(arg(0), arg(1)); break;
            case Opcode::Or:
            case Opcode::Xor: r = std::max(arg(0), arg(1)); break;
            case Opcode::LShr:
                if (is_const(in.args[1])) {
                    const unsigned c = unsigned(const_of(in.args[1]) & (w - 1));
                    r = arg(0) > c ? arg(0) - c : 0;
                }
                break;
            case Opcode::Shl:
                if (is_const(in.args[1])) r = std::min(w, arg(0) + unsigned(const_of(in.args[1]) & (w - 1)));
                break;
            case Opcode::CmpEq:
            case Opcode::CmpNe:
            case Opcode::CmpLtU:
            case Opcode::CmpLtS:
            case Opcode::CmpLeU:
            case Opcode::CmpLeS:
            case Opcode::AddCarry:
            case Opcode::AddOverflow: r = 1; break;
            default: break;
        }
        r = std::min(r, w);
    } else {
        return uint8_t(w);  // not memoised: a shallower query may do better
    }
    zb[v] = uint8_t(r);
    return zb[v];
}

// ---------------------------------------------------------------------------------------------
// Allocation

void BlockCompiler::reset_regs() {
    for (auto& r : rval_) r = ir::kNoValue;
    const size_t n = block_.insts.size();
    std::fill_n(vreg_, n, int8_t(-1));
    std::fill_n(vslot_, n, -1);
    free_slots_.clear();
    next_slot_ = 0;
    pinned_ = 0;
}

ax::Mem BlockCompiler::slot_mem(int slot, unsigned bytes) const { return ax::ptr(ax::rsp, slot * 8, bytes); }

int BlockCompiler::new_slot() {
    if (!free_slots_.empty()) {
        int s = free_slots_.back();
        free_slots_.pop_back();
        return s;
    }
    if (next_slot_ >= kSpillSlots) {
        fail("too many live values for the spill area");
        return 0;
    }
    return next_slot_++;
}

void BlockCompiler::evict(int r) {
    ValueId v = rval_[r];
    if (v == ir::kNoValue) return;
    if (!is_const(v) && vslot_[v] < 0) {
        int s = new_slot();
        as_.mov(slot_mem(s, 8), ax::gpq(r));
        vslot_[v] = s;
    }
    vreg_[v] = -1;
    rval_[r] = ir::kNoValue;
    pinned_ &= ~(1u << r);
}

int BlockCompiler::alloc_reg(bool prefer_callee) {
    auto first_free = [&](const uint8_t* regs, size_t count) {
        for (size_t k = 0; k < count; ++k) {
            if (rval_[regs[k]] == ir::kNoValue && !(pinned_ & (1u << regs[k]))) return int(regs[k]);
        }
        return -1;
    };
    int r = prefer_callee ? first_free(kCalleeOrder, std::size(kCalleeOrder))
                          : first_free(kCallerOrder, std::size(kCallerOrder));
    if (r < 0) {
        r = prefer_callee ? first_free(kCallerOrder, std::size(kCallerOrder))
                          : first_free(kCalleeOrder, std::size(kCalleeOrder));
    }
    if (r >= 0) return r;
    // Evict the value used furthest in the future; constants cost nothing to rematerialise.
    int best = -1;
    int64_t best_key = -1;
    for (int k = 0; k < 16; ++k) {
        if (!(kAllocMask & (1u << k)) || (pinned_ & (1u << k))) continue;
        ValueId v = rval_[k];
        int64_t key = is_const(v) ? INT64_MAX : last_use_[v];
        if (key > best_key) {
            best_key = key;
            best = k;
        }
    }
    if (best < 0) {
        fail("register allocator: every register is pinned");
        return kRsi;
    }
    evict(best);
    return best;
}

void BlockCompiler::bind(ValueId v, int r) {
    rval_[r] = v;
    vreg_[v] = int8_t(r);
    pinned_ |= 1u << r;
}

void BlockCompiler::mov_imm(const ax::Gp& dst, uint64_t v) {
    // Never `xor`: callers rely on flags surviving a constant load.
    if (v <= UINT32_MAX) {
        as_.mov(ax::gpd(dst.id()), Imm(uint32_t(v)));
    } else {
        as_.mov(ax::gpq(dst.id()), Imm(int64_t(v)));
    }
}

ax::Gp BlockCompiler::use_reg(ValueId arg) {
    ValueId v = canon(arg);
    if (vreg_[v] >= 0) {
        pinned_ |= 1u << vreg_[v];
        return ax::gpq(vreg_[v]);
    }
    int r = alloc_reg(crosses_call_[v]);
    if (is_const(v)) {
        mov_imm(ax::gpq(r), const_of(v));
    } else if (vslot_[v] >= 0) {
        as_.mov(ax::gpq(r), slot_mem(vslot_[v], 8));
    } else {
        fail("value used before it is available");
    }
    bind(v, r);
    return ax::gpq(r);
}

Operand BlockCompiler::use_any(ValueId arg, unsigned bytes, bool allow_imm) {
    ValueId v = canon(arg);
    if (vreg_[v] >= 0) {
        pinned_ |= 1u << vreg_[v];
        return gp_of(vreg_[v], bytes);
    }
    if (is_const(v) && allow_imm) {
        uint64_t c = const_of(v);
        switch (bytes) {
            case 1: return Imm(int8_t(c));
            case 2: return Imm(int16_t(c));
            case 4: return Imm(int32_t(c));
            default:
                if (int64_t(c) == int64_t(int32_t(c))) return Imm(int64_t(c));
                break;
        }
    } else if (!is_const(v) && vslot_[v] >= 0) {
        return slot_mem(vslot_[v], bytes);
    }
    return gp_of(use_reg(arg).id(), bytes);
}

void BlockCompiler::load_to(const ax::Gp& dst, ValueId arg) {
    ValueId v = canon(arg);
    if (is_const(v)) {
        mov_imm(dst, const_of(v));
    } else if (vreg_[v] >= 0) {
        as_.mov(ax::gpq(dst.id()), ax::gpq(vreg_[v]));
    } else if (vslot_[v] >= 0) {
        as_.mov(ax::gpq(dst.id()), slot_mem(vslot_[v], 8));
    } else {
        fail("value used before it is available");
    }
}

void BlockCompiler::load_sx(const ax::Gp& dst, ValueId arg) {
    ValueId v = canon(arg);
    const Type t = type_of(arg);
    const unsigned bytes = type_bytes(t);
    const ax::Gp d = ax::gpq(dst.id());
    if (is_const(v)) {
        mov_imm(d, uint64_t(ir::sign_extend(t, const_of(v))));
        return;
    }
    Operand src;
    if (vreg_[v] >= 0) {
        src = gp_of(vreg_[v], bytes);
    } else if (vslot_[v] >= 0) {
        src = slot_mem(vslot_[v], bytes);
    } else {
        fail("value used before it is available");
        return;
    }
    if (bytes == 8) {
        as_.emit(ax::Inst::kIdMov, d, src);
    } else if (bytes == 4) {
        as_.emit(ax::Inst::kIdMovsxd, d, src);
    } else {
        as_.emit(ax::Inst::kIdMovsx, d, src);
    }
}

ax::Gp BlockCompiler::def_reuse(uint32_t i, ValueId a) {
    ValueId va = canon(a);
    if (vreg_[va] >= 0 && last_use_[va] == int32_t(i)) {
        int r = vreg_[va];
        vreg_[va] = -1;
        bind(ValueId(i), r);
        return ax::gpq(r);
    }
    int r = alloc_reg(crosses_call_[i]);
    load_to(ax::gpq(r), a);
    bind(ValueId(i), r);
    return ax::gpq(r);
}

ax::Gp BlockCompiler::def_fresh(uint32_t i) {
    int r = alloc_reg(crosses_call_[i]);
    bind(ValueId(i), r);
    return ax::gpq(r);
}

ax::Gp BlockCompiler::def_after(uint32_t i) {
    for (ValueId a : block_.insts[i].args) {
        if (a != ir::kNoValue && last_use_[canon(a)] == int32_t(i)) free_value(canon(a));
    }
    return def_fresh(i);
}

void BlockCompiler::free_value(ValueId v) {
    if (vreg_[v] >= 0) {
        if (rval_[vreg_[v]] == v) {
            rval_[vreg_[v]] = ir::kNoValue;
            pinned_ &= ~(1u << vreg_[v]);
        }
        vreg_[v] = -1;
    }
    if (vslot_[v] >= 0) {
        free_slots_.push_back(vslot_[v]);
        vslot_[v] = -1;
    }
}

// Values die at their last use (an absorbed Not's operand at the Not's last user, see
// analyze_flags), an unused result right after its instruction: one list per instruction,
// built once the last uses are final.
void BlockCompiler::plan_deaths() {
    const size_t n = block_.insts.size();
    std::vector<int32_t>& head = scratch_.death_head;
    std::vector<int32_t>& next = scratch_.death_next;
    head.assign(n, -1);
    next.resize(n);
    const auto& skip = scratch_.skip;
    for (size_t v = n; v-- > 0;) {
        const int32_t at = last_use_[v] >= 0 ? last_use_[v] : (skip[v] ? -1 : int32_t(v));
        if (at < 0 || alias_[v] != v) continue;
        next[v] = head[at];
        head[at] = int32_t(v);
    }
}

void BlockCompiler::end_inst(uint32_t i) {
    const int32_t* next = scratch_.death_next.data();
    for (int32_t v = scratch_.death_head[i]; v >= 0; v = next[v]) free_value(ValueId(v));
    pinned_ = 0;
}

void BlockCompiler::evict_caller_saved(uint32_t i) {
    for (uint8_t r : kCallerOrder) {
        ValueId v = rval_[r];
        if (v == ir::kNoValue || last_use_[v] <= int32_t(i)) continue;
        int to = -1;
        if (!is_const(v)) {
            for (uint8_t c : kCalleeOrder) {
                if (rval_[c] == ir::kNoValue) {
                    to = c;
                    break;
                }
            }
        }
        if (to >= 0) {
            as_.mov(ax::gpq(to), ax::gpq(r));
            rval_[r] = ir::kNoValue;
            pinned_ &= ~(1u << r);
            rval_[to] = v;
            vreg_[v] = int8_t(to);
        } else {
            evict(r);
        }
    }
}

}  // namespace corvid::x64
