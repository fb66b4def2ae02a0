// Block entry check, in-block control flow, terminals (patchable links, indirect-jump lookup,
// exits to the run loop) and the per-block driver BlockCompiler::compile.
#include <cstddef>
#include <cstring>

#include "backend/x64/block_compiler.h"
#include "translator/ir/eval.h"

namespace corvid::x64 {

using namespace asmjit;
using ir::Opcode;
using ir::Type;

void BlockCompiler::jmp_abs(uint64_t target) {
    // Raw rel32 so that the backend can resolve it against the final address itself.
    static constexpr uint8_t kJmp[5] = {0xE9, 0, 0, 0, 0};
    out_->abs_jumps.push_back({uint32_t(as_.offset()) + 1, target});
    as_.embed(kJmp, sizeof(kJmp));
}

void BlockCompiler::emit_exit_to_loop(ExitKind kind, unsigned slot, uint32_t cause) {
    as_.mov(ax::rax, Imm(int64_t(reinterpret_cast<uintptr_t>(&tb_))));
    mov_imm(ax::rdx, pack_exit(kind, slot, cause));
    jmp_abs(env_.exit_addr);
}

void BlockCompiler::emit_entry() {
    // Chained jumps land here: the exit request check is the only cost of a transition.
    ColdStub c;
    c.kind = ColdStub::Kind::kExitRequest;
    c.pc = block_.guest_pc;
    embed_template(entry_template(), c);
    cold_.push_back(c);
    if (env_.count_insns && block_.guest_insns) {
        as_.add(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, insn_count))), Imm(int32_t(block_.guest_insns)));
    }
}

void BlockCompiler::emit_slow_stub(uint64_t thunk, const SlowStubData& data, uint32_t back) {
    // `call thunk; jmp back` and the data, in one embed. The thunk finds the data after the
    // jmp from its return address and returns normally (calls and returns stay paired, so
    // the host's return prediction survives slow paths). Both rel32s: the call's is resolved
    // at the final address, the jmp's is block-relative.
    uint8_t bytes[10 + sizeof(SlowStubData)];
    const uint32_t at = uint32_t(as_.offset());
    bytes[0] = 0xE8;
    std::memset(bytes + 1, 0, 4);
    bytes[5] = 0xE9;
    const int32_t rel = int32_t(back) - int32_t(at + 10);
    std::memcpy(bytes + 6, &rel, 4);
    std::memcpy(bytes + 10, &data, sizeof(data));
    out_->abs_jumps.push_back({at + 1, thunk});
    as_.embed(bytes, sizeof(bytes));
}

void BlockCompiler::emit_exit_stub(uint64_t thunk, uint64_t pc, uint64_t packed) {
    // `lea rsi, [data]; jmp thunk` and the data (a jump, not a call: the thunk leaves through
    // the trampoline, whose `ret` must still match the call that entered it).
    const CodeTemplate& t = exit_stub_template();
    const ExitStubData d{uint64_t(reinterpret_cast<uintptr_t>(&tb_)), pc, packed};
    uint8_t bytes[sizeof(t.bytes) + sizeof(ExitStubData)];
    std::memcpy(bytes, t.bytes, t.len);
    std::memcpy(bytes + t.len, &d, sizeof(d));
    out_->abs_jumps.push_back({uint32_t(as_.offset()) + t.field, thunk});
    as_.embed(bytes, t.len + sizeof(d));
}

void BlockCompiler::emit_cold(const ColdStub& c) {
    const uint32_t at = uint32_t(as_.offset());
    if (c.jcc_field >= 0) {
        // The hot path's jne: rel32 from the end of its field (asmjit's buffer, before placing).
        const int32_t rel = int32_t(at) - (c.jcc_field + 4);
        std::memcpy(as_.bufferData() + c.jcc_field, &rel, 4);
    }
    switch (c.kind) {
        case ColdStub::Kind::kSlowLoad: emit_slow_load(c); return;
        case ColdStub::Kind::kSlowStore: emit_slow_store(c); return;
        case ColdStub::Kind::kExitRequest:
            emit_exit_stub(env_.thunks.exit, c.pc, pack_exit(ExitKind::kExitRequest, 0, 0));
            return;
        case ColdStub::Kind::kReturnLink:
            // A return predicted to come back here before the hint was linked: the run loop
            // links kReturnSlot (or declares it unlinkable) and continues at the target.
            out_->ret_stub_off = at;
            emit_exit_stub(env_.thunks.exit, c.pc, pack_exit(ExitKind::kLink, kReturnSlot, 0));
            return;
        case ColdStub::Kind::kReturnProbe:
            out_->ret_probe_off = at;
            emit_exit_stub(env_.thunks.probe_exit, c.pc, pack_exit(ExitKind::kJump, 0, 0));
            return;
        case ColdStub::Kind::kLink:
            // Not chained (yet, or never: the target is on another page). A target on another
            // page is looked up in the table first; a chainable one must reach the engine once.
            out_->stub_off[c.slot] = at;
            emit_exit_stub((c.pc & kPageMask) != (block_.guest_pc & kPageMask) ? env_.thunks.probe_exit
                                                                                : env_.thunks.exit,
                           c.pc, pack_exit(ExitKind::kLink, c.slot, 0));
            return;
    }
}

void BlockCompiler::emit_link_site(unsigned slot, uint64_t target_pc) {
    // The rel32 of the jmp is patched by link()/unlink() with one aligned 4-byte store, so the
    // E9 opcode goes at an offset of 3 mod 4 (blocks start 16-aligned).
    // One embed: the padding nop, then E9 and a zero rel32 (patched once the block is placed).
    static constexpr uint8_t kSite[4][8] = {{0xE9, 0, 0, 0, 0},
                                            {0x90, 0xE9, 0, 0, 0, 0},
                                            {0x66, 0x90, 0xE9, 0, 0, 0, 0},
                                            {0x0F, 0x1F, 0x00, 0xE9, 0, 0, 0, 0}};
    const size_t pad = (3 - as_.offset() % 4 + 4) % 4;
    out_->site_off[slot] = uint32_t(as_.offset() + pad + 1);
    as_.embed(kSite[pad], pad + 5);
    tb_.link_pc[slot] = target_pc;
    ColdStub c;
    c.kind = ColdStub::Kind::kLink;
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

void BlockCompiler::emit_exit_indirect(const ir::Inst& in) {
    // cpu->pc = target; a return first tries the return-stack hint, then both probe the
    // lookup table before returning to the loop.
    load_to(ax::rcx, in.args[0]);
    as_.mov(ax::qword_ptr(ax::r15, int32_t(offsetof(CpuCommon, pc))), ax::rcx);
    if (in.op == Opcode::ExitReturn && env_.return_hints) emit_return_hint_pop();
    const CodeTemplate& probe = table_probe_template();
    as_.embed(probe.bytes, probe.len);
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
    ColdStub c;
    c.kind = ColdStub::Kind::kReturnLink;
    c.pc = ret;
    cold_.push_back(c);
    c.kind = ColdStub::Kind::kReturnProbe;
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
    if (scratch_.prezero_next < scratch_.prezero.size()) emit_prezero(i);
    if (scratch_.skip[i]) return;  // folded, forwarded or unused: no code
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
    cold_.clear();
    analyze();  // also rejects label ids out of range
    if (error_) return make_error(std::string("x64: ") + error_);
    reset_regs();
    labels_.clear();
    for (uint32_t k = 0; k < block_.num_labels; ++k) labels_.push_back(as_.newLabel());

    emit_entry();
    out.entry_end = uint32_t(as_.offset());
    out.inst_offsets.resize(n + 1);
    const uint8_t* skip = scratch_.skip.data();
    const int32_t* deaths = scratch_.death_head.data();
    for (uint32_t i = 0; i < n && !error_; ++i) {
        out.inst_offsets[i] = uint32_t(as_.offset());
        if (skip[i] && deaths[i] < 0) continue;  // no code, nothing to free (constants mostly)
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
