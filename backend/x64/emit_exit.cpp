// Block entry check, in-block control flow, terminals (patchable links, indirect-jump lookup,
// exits to the run loop) and the per-block driver BlockCompiler::compile.
#include <cstddef>

#include "backend/x64/block_compiler.h"
#include "translator/ir/eval.h"

namespace corvid::x64 {

using namespace asmjit;
using ir::Opcode;
using ir::Type;

void BlockCompiler::jmp_abs(uint64_t target) {
    // Raw rel32 so that the backend can resolve it against the final address itself.
    as_.db(0xE9);
    out_->abs_jumps.push_back({uint32_t(as_.offset()), target});
    as_.dd(0);
}

void BlockCompiler::emit_exit_to_loop(ExitKind kind, unsigned slot, uint32_t cause) {
    as_.mov(ax::rax, Imm(int64_t(reinterpret_cast<uintptr_t>(&tb_))));
    mov_imm(ax::rdx, pack_exit(kind, slot, cause));
    jmp_abs(env_.exit_addr);
}

void BlockCompiler::emit_entry() {
    // Chained jumps land here: the exit request check is the only cost of a transition.
    Label req = as_.newLabel();
    as_.cmp(ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, exit_request))), 0);
    as_.jne(req);
    if (env_.count_insns && block_.guest_insns) {
        as_.add(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, insn_count))), Imm(int32_t(block_.guest_insns)));
    }
    ColdStub c;
    c.kind = ColdStub::Kind::kExitRequest;
    c.label = req;
    c.pc = block_.guest_pc;
    cold_.push_back(c);
}

void BlockCompiler::emit_cold(const ColdStub& c) {
    switch (c.kind) {
        case ColdStub::Kind::kSlowLoad: emit_slow_load(c); return;
        case ColdStub::Kind::kSlowStore: emit_slow_store(c); return;
        case ColdStub::Kind::kExitRequest:
            as_.bind(c.label);
            store_pc_imm(c.pc);
            emit_exit_to_loop(ExitKind::kExitRequest, 0, 0);
            return;
        case ColdStub::Kind::kReturnLink:
            // A return predicted to come back here before the hint was linked: the run loop
            // links kReturnSlot (or declares it unlinkable) and continues at the target.
            as_.bind(c.label);
            store_pc_imm(c.pc);
            emit_exit_to_loop(ExitKind::kLink, kReturnSlot, 0);
            return;
        case ColdStub::Kind::kReturnProbe:
            as_.bind(c.label);
            mov_imm(ax::rcx, c.pc);
            as_.mov(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, pc))), ax::rcx);
            emit_jump_probe();
            emit_exit_to_loop(ExitKind::kJump, 0, 0);
            return;
        case ColdStub::Kind::kLink:
            // Not chained (yet, or never: the target is on another page): the lookup table
            // still avoids the run loop once the engine has entered the target.
            // Only for targets on another page: a chainable exit must reach the engine once.
            as_.bind(c.label);
            if ((c.pc & kPageMask) != (block_.guest_pc & kPageMask)) {
                mov_imm(ax::rcx, c.pc);
                as_.mov(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, pc))), ax::rcx);
                emit_jump_probe();
            } else {
                store_pc_imm(c.pc);
            }
            emit_exit_to_loop(ExitKind::kLink, c.slot, 0);
            return;
    }
}

void BlockCompiler::emit_link_site(unsigned slot, uint64_t target_pc) {
    // The rel32 of the jmp is patched by link()/unlink() with one aligned 4-byte store, so the
    // E9 opcode goes at an offset of 3 mod 4 (blocks start 16-aligned).
    static constexpr uint8_t kNop2[] = {0x66, 0x90}, kNop3[] = {0x0F, 0x1F, 0x00};
    switch ((3 - as_.offset() % 4 + 4) % 4) {
        case 1: as_.db(0x90); break;
        case 2: as_.embed(kNop2, sizeof(kNop2)); break;
        case 3: as_.embed(kNop3, sizeof(kNop3)); break;
        default: break;
    }
    Label stub = as_.newLabel();
    as_.db(0xE9);
    out_->site_off[slot] = uint32_t(as_.offset());
    as_.dd(0);
    out_->stub[slot] = stub;
    tb_.link_pc[slot] = target_pc;
    ColdStub c;
    c.kind = ColdStub::Kind::kLink;
    c.label = stub;
    c.slot = slot;
    c.pc = target_pc;
    cold_.push_back(c);
}

void BlockCompiler::emit_exit_link(const ir::Inst& in) {
    if (out_->num_sites < 2) {
        emit_link_site(out_->num_sites++, in.imm);
    } else {
        // More direct exits than link slots: leave through the run loop's lookup.
        store_pc_imm(in.imm);
        emit_exit_to_loop(ExitKind::kJump, 0, 0);
    }
}

void BlockCompiler::emit_exit_cond(const ir::Inst& in) {
    if (is_const(in.args[0])) {
        ir::Inst link = in;
        link.imm = const_of(in.args[0]) != 0 ? in.imm : in.imm2;
        emit_exit_link(link);
        return;
    }
    if (out_->num_sites != 0) {
        // Slots already used by an earlier terminal of this block: no chaining for this one.
        Label nt = as_.newLabel();
        as_.j(ax::negateCond(branch_cond(in.args[0])), nt);
        store_pc_imm(in.imm);
        emit_exit_to_loop(ExitKind::kJump, 0, 0);
        as_.bind(nt);
        store_pc_imm(in.imm2);
        emit_exit_to_loop(ExitKind::kJump, 0, 0);
        return;
    }
    Label nt = as_.newLabel();
    as_.j(ax::negateCond(branch_cond(in.args[0])), nt);
    emit_link_site(0, in.imm);
    as_.bind(nt);
    emit_link_site(1, in.imm2);
    out_->num_sites = 2;
}

void BlockCompiler::emit_jump_probe() {
    // rcx = cpu->pc (already stored): follow the (pc, mode) -> code table if it has a current
    // entry, else fall through.
    if (!env_.jump_table) return;
    Label miss = as_.newLabel();
    static_assert(sizeof(JumpEntry) == 32 && jump_hash(4) == 1);
    as_.mov(ax::eax, ax::ecx);
    as_.and_(ax::eax, int32_t(kJumpTableMask << 2));
    as_.mov(ax::rdx, Imm(int64_t(reinterpret_cast<uintptr_t>(env_.jump_table))));
    as_.lea(ax::rdx, ax::ptr(ax::rdx, ax::rax, 3));  // rdx = entry
    as_.cmp(ax::qword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, pc))), ax::rcx);
    as_.jne(miss);
    as_.mov(ax::eax, ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, mode))));
    as_.cmp(ax::eax, ax::dword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, mode))));
    as_.jne(miss);
    // No mapping change since the engine entered the block (see JumpEntry); invalidation
    // removes entries at once (X64Backend::invalidated): no validity check either.
    as_.mov(ax::eax, ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, tlb_generation))));
    as_.cmp(ax::eax, ax::dword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, generation))));
    as_.jne(miss);
    as_.jmp(ax::qword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, code))));
    as_.bind(miss);
}

void BlockCompiler::emit_exit_indirect(const ir::Inst& in) {
    // cpu->pc = target; a return first tries the return-stack hint, then both probe the
    // lookup table before returning to the loop.
    load_to(ax::rcx, in.args[0]);
    as_.mov(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, pc))), ax::rcx);
    if (in.op == Opcode::ExitReturn && env_.return_hints) emit_return_hint_pop();
    emit_jump_probe();
    emit_exit_to_loop(ExitKind::kJump, 0, 0);
}

namespace {
constexpr int32_t kHintTop = int32_t(offsetof(CpuCommon, return_hint_top));
constexpr int32_t kHintRing = int32_t(offsetof(CpuCommon, return_hints));

ax::Mem hint_field(size_t field, unsigned bytes) {
    // rax = byte offset of the entry in the ring.
    return ax::Mem(ax::r15, ax::rax, 0, kHintRing + int32_t(field), bytes);
}
}  // namespace

void BlockCompiler::emit_push_return_hint(const ir::Inst& in) {
    // The entry names the return block through a patchable imm64 (kReturnSlot, linked like a
    // chain: same page, see Engine::Impl::can_chain), else one of this block's stubs. A second
    // hint in one block (never made by the frontends) pushes an entry that cannot match, which
    // keeps the ring balanced.
    const uint64_t ret = in.imm;
    const bool first = !out_->has_ret_site;
    as_.add(ax::byte_ptr(ax::r15, kHintTop), int32_t(sizeof(ReturnHint)));  // wraps at 256
    as_.movzx(ax::eax, ax::byte_ptr(ax::r15, kHintTop));
    if (int64_t(ret) == int64_t(int32_t(ret))) {
        as_.mov(hint_field(offsetof(ReturnHint, pc), 8), Imm(int32_t(ret)));
    } else {
        as_.mov(ax::rcx, Imm(int64_t(ret)));
        as_.mov(hint_field(offsetof(ReturnHint, pc), 8), ax::rcx);
    }
    as_.mov(hint_field(offsetof(ReturnHint, mode), 4), Imm(int32_t(first ? block_.mode : ~0u)));
    if (!first) return;
    // mov rcx, imm64 with the imm64 8-aligned, so that one atomic store patches it.
    static constexpr uint8_t kNops[8][8] = {{},
                                            {0x90},
                                            {0x66, 0x90},
                                            {0x0F, 0x1F, 0x00},
                                            {0x0F, 0x1F, 0x40, 0x00},
                                            {0x0F, 0x1F, 0x44, 0x00, 0x00},
                                            {0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00},
                                            {0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00}};
    const size_t pad = (6 - as_.offset() % 8 + 8) % 8;
    if (pad) as_.embed(kNops[pad], pad);
    as_.db(0x48);
    as_.db(0xB9);
    out_->has_ret_site = true;
    out_->ret_linkable = (ret & kPageMask) == (block_.guest_pc & kPageMask);
    out_->ret_site_off = uint32_t(as_.offset());
    as_.dq(0);
    as_.mov(hint_field(offsetof(ReturnHint, code), 8), ax::rcx);
    tb_.link_pc[kReturnSlot] = ret;
    out_->ret_stub = as_.newLabel();
    out_->ret_probe_stub = as_.newLabel();
    ColdStub c;
    c.kind = ColdStub::Kind::kReturnLink;
    c.label = out_->ret_stub;
    c.pc = ret;
    cold_.push_back(c);
    c.kind = ColdStub::Kind::kReturnProbe;
    c.label = out_->ret_probe_stub;
    cold_.push_back(c);
}

void BlockCompiler::emit_return_hint_pop() {
    // rcx = target (stored in cpu->pc). Pop the top entry whether or not it matches, as a
    // hardware return stack does; follow it when pc and mode match.
    Label miss = as_.newLabel();
    as_.movzx(ax::eax, ax::byte_ptr(ax::r15, kHintTop));
    as_.sub(ax::byte_ptr(ax::r15, kHintTop), int32_t(sizeof(ReturnHint)));
    as_.cmp(ax::rcx, hint_field(offsetof(ReturnHint, pc), 8));
    as_.jne(miss);
    as_.mov(ax::edx, ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, mode))));
    as_.cmp(ax::edx, hint_field(offsetof(ReturnHint, mode), 4));
    as_.jne(miss);
    as_.add(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, return_hint_hits))), 1);
    as_.jmp(hint_field(offsetof(ReturnHint, code), 8));
    as_.bind(miss);
    as_.add(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, return_hint_misses))), 1);
}

void BlockCompiler::emit_exit_exception(const ir::Inst& in) {
    store_pc_imm(in.pc);
    mov_imm(ax::rax, in.imm2);
    as_.mov(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, jit_scratch) + 8 * kScratchDetail)), ax::rax);
    emit_exit_to_loop(ExitKind::kException, 0, uint32_t(in.imm));
}

void BlockCompiler::emit_exit_halt(const ir::Inst& in) {
    // The frontend has already stored the next pc (ExitHalt's contract).
    emit_exit_to_loop(ExitKind::kHalt, 0, uint32_t(in.imm));
}

void BlockCompiler::emit_inst(uint32_t i) {
    const ir::Inst& in = block_.insts[i];
    cur_inst_ = i;
    if (flag_use_[i] == kFlagDeferred || flag_use_[i] == kFlagAbsorbed || flag_use_[i] == kFlagToMemory) {
        return;  // read from the host flags where it is needed
    }
    if (!scratch_.prezero.empty()) emit_prezero(i);
    const bool has_result = ir::op_info(in.op).result != ir::Kind::V;
    if (has_result && (alias_[i] != i || cval_[i])) return;  // folded or forwarded: no code
    if (has_result && last_use_[i] < 0 && (ir::is_pure(in.op) || in.op == Opcode::GetState)) return;
    switch (in.op) {
        case Opcode::Const: return;
        case Opcode::GetState: emit_get_state(i, in); return;
        case Opcode::SetState: emit_set_state(in); return;
        case Opcode::Add:
        case Opcode::Sub:
        case Opcode::Mul:
        case Opcode::And:
        case Opcode::Or:
        case Opcode::Xor:
        case Opcode::AndNot: emit_binop(i, in); return;
        case Opcode::MulHiU:
        case Opcode::MulHiS: emit_mulhi(i, in); return;
        case Opcode::DivU:
        case Opcode::DivS:
        case Opcode::RemU:
        case Opcode::RemS: emit_div(i, in); return;
        case Opcode::Neg:
        case Opcode::Not:
        case Opcode::Clz:
        case Opcode::Ctz:
        case Opcode::Popcount:
        case Opcode::Bswap:
        case Opcode::BitRev: emit_unary(i, in); return;
        case Opcode::Shl:
        case Opcode::LShr:
        case Opcode::AShr:
        case Opcode::RotL:
        case Opcode::RotR: emit_shift(i, in); return;
        case Opcode::ZExt:
        case Opcode::SExt:
        case Opcode::Trunc: emit_convert(i, in); return;
        case Opcode::CmpEq:
        case Opcode::CmpNe:
        case Opcode::CmpLtU:
        case Opcode::CmpLtS:
        case Opcode::CmpLeU:
        case Opcode::CmpLeS: emit_cmp(i, in); return;
        case Opcode::Select: emit_select(i, in); return;
        case Opcode::AddCarry:
        case Opcode::AddOverflow:
        case Opcode::AddWithCarry: emit_addc(i, in); return;
        case Opcode::Load: emit_load(i, in); return;
        case Opcode::Store: emit_store(i, in); return;
        case Opcode::Call:
        case Opcode::CallVoid: emit_call(i, in); return;
        case Opcode::Label:
            // Values never flow across labels: every register and slot is free here.
            reset_regs();
            as_.bind(labels_[in.imm]);
            return;
        case Opcode::Br: as_.jmp(labels_[in.imm]); return;
        case Opcode::BrCond:
            if (is_const(in.args[0])) {
                if (const_of(in.args[0]) != 0) as_.jmp(labels_[in.imm]);
                return;
            }
            as_.j(branch_cond(in.args[0]), labels_[in.imm]);
            return;
        case Opcode::PushReturnHint:
            if (env_.return_hints) emit_push_return_hint(in);
            return;
        case Opcode::ExitLink: emit_exit_link(in); return;
        case Opcode::ExitCond: emit_exit_cond(in); return;
        case Opcode::ExitJump:
        case Opcode::ExitReturn: emit_exit_indirect(in); return;
        case Opcode::ExitException: emit_exit_exception(in); return;
        case Opcode::ExitHalt: emit_exit_halt(in); return;
        case Opcode::Count: break;
    }
    fail("unknown opcode");
}

Status BlockCompiler::compile(CompileOutput& out) {
    out_ = &out;
    const size_t n = block_.insts.size();
    if (n == 0) return make_error("x64: empty block");
    const ir::Inst& last = block_.insts.back();
    if (!(ir::op_info(last.op).flags & ir::kTerminal) && last.op != Opcode::Br) {
        return make_error("x64: block does not end in a terminal");
    }
    for (const ir::Inst& in : block_.insts) {
        if ((in.op == Opcode::Label || in.op == Opcode::Br || in.op == Opcode::BrCond) && in.imm >= block_.num_labels) {
            return make_error("x64: label id out of range");
        }
    }
    cold_.clear();
    analyze();
    vreg_.assign(n, -1);
    vslot_.assign(n, -1);
    reset_regs();
    labels_.clear();
    for (uint32_t k = 0; k < block_.num_labels; ++k) labels_.push_back(as_.newLabel());

    emit_entry();
    out.entry_end = uint32_t(as_.offset());
    out.inst_offsets.assign(n + 1, 0);
    for (uint32_t i = 0; i < n && !error_; ++i) {
        out.inst_offsets[i] = uint32_t(as_.offset());
        emit_inst(i);
        end_inst(i);
    }
    out.inst_offsets[n] = uint32_t(as_.offset());
    // Cold code: slow paths and exit stubs, out of the straight-line path.
    for (const ColdStub& c : cold_) emit_cold(c);
    if (error_) return make_error(std::string("x64: ") + error_);
    return {};
}

}  // namespace corvid::x64
