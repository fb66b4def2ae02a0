// X64Backend: code buffer management, trampoline, linking, lookup table, disassembly.
#include "backend/x64/x64_backend.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "backend/x64/block_compiler.h"
#include "backend/x64/code_buffer.h"
#include "base/log.h"
#include "translator/ir/eval.h"
#include "translator/runtime_helpers.h"

namespace corvid {

std::unique_ptr<ExecBackend> make_x64_backend(size_t code_buffer_bytes, bool count_insns, bool return_hints) {
    auto b = std::make_unique<x64::X64Backend>(code_buffer_bytes, count_insns);
    b->set_return_hints(return_hints);
    return b;
}

namespace x64 {

using namespace asmjit;

namespace {

constexpr size_t kMinBuffer = 64u << 10;
constexpr size_t kMaxBuffer = 1u << 30;

// Registers returned by the trampoline (SysV: a two-word struct comes back in rax:rdx).
struct RawExit {
    uint64_t tb;
    uint64_t packed;
};
using TrampolineFn = RawExit (*)(CpuCommon* cpu, void* code);

// C++ side of the slow-path thunks: `regs` is the frame's save area (16 slots by register
// number) holding the block's registers; the result of a load goes back into its slot.
void slow_load_glue(CpuCommon* cpu, const uint8_t* data, uint64_t* regs, const SlowLoadFn* fn) {
    SlowStubData d;
    std::memcpy(&d, data, sizeof(d));
    cpu->pc = d.pc;
    const uint64_t v = (*fn)(cpu, regs[d.addr_reg & 15], d.flags, d.pc);
    regs[d.value_reg & 15] = ir::truncate(ir::Type(d.type), v);
}

void slow_store_glue(CpuCommon* cpu, const uint8_t* data, uint64_t* regs, const SlowStoreFn* fn) {
    SlowStubData d;
    std::memcpy(&d, data, sizeof(d));
    cpu->pc = d.pc;
    const uint64_t value = d.value_reg == SlowStubData::kNoReg ? d.imm : regs[d.value_reg & 15];
    (*fn)(cpu, regs[d.addr_reg & 15], value, d.flags, d.pc);
}

}  // namespace

// rcx = target pc: jumps to the lookup table's code for (pc, mode) if the entry is current
// (see JumpEntry), else falls through to `miss`. Clobbers `tmp` and rdx.
void emit_table_probe(ax::Assembler& as, const JumpEntry* table, const Label& miss, const ax::Gp& tmp) {
    static_assert(sizeof(JumpEntry) == 32 && jump_hash(4) == 1);
    const ax::Gp t32 = ax::gpd(tmp.id()), t64 = ax::gpq(tmp.id());
    as.mov(t32, ax::ecx);
    as.and_(t32, int32_t(kJumpTableMask << 2));
    as.mov(ax::rdx, Imm(int64_t(reinterpret_cast<uintptr_t>(table))));
    as.lea(ax::rdx, ax::ptr(ax::rdx, t64, 3));  // rdx = entry
    as.cmp(ax::qword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, pc))), ax::rcx);
    as.jne(miss);
    as.mov(t32, ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, mode))));
    as.cmp(t32, ax::dword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, mode))));
    as.jne(miss);
    // No mapping change since the engine entered the block (see JumpEntry); invalidation
    // removes entries at once (X64Backend::invalidated): no validity check either.
    as.mov(t32, ax::dword_ptr(ax::r15, int32_t(offsetof(CpuCommon, tlb_generation))));
    as.cmp(t32, ax::dword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, generation))));
    as.jne(miss);
    as.jmp(ax::qword_ptr(ax::rdx, int32_t(offsetof(JumpEntry, code))));
}

X64Backend::X64Backend(size_t code_buffer_bytes, bool count_insns)
    : buf_(std::make_unique<CodeBuffer>(std::clamp(code_buffer_bytes, kMinBuffer, kMaxBuffer))),
      scratch_(std::make_unique<CompileScratch>()),
      jump_table_(new JumpEntry[size_t(kJumpTableMask) + 1]),
      count_insns_(count_insns),
      slow_load_(&corvid_slow_load),
      slow_store_(&corvid_slow_store) {
    clear_jump_table();
    has_popcnt_ = __builtin_cpu_supports("popcnt");
    if (buf_->ok()) build_trampoline();
}

X64Backend::~X64Backend() = default;

void X64Backend::set_slow_paths(SlowLoadFn load, SlowStoreFn store) {
    slow_load_ = load;
    slow_store_ = store;
}

size_t X64Backend::code_used() const { return buf_->used() - code_start_; }
size_t X64Backend::code_capacity() const { return buf_->capacity() - code_start_; }
bool X64Backend::code_wx() const { return buf_->wx(); }

void X64Backend::build_trampoline() {
    CodeHolder code;
    code.init(Environment::host());
    AsmErrorSink errors;
    code.setErrorHandler(&errors);
    ax::Assembler as(&code);
    // Entry: rdi = cpu, rsi = block code. The frame (spill slots + save area) stays allocated
    // for the whole run; blocks jump to `exit` with rax = TranslatedBlock*, rdx = packed exit.
    static constexpr uint32_t kSaved[] = {kRbx, kRbp, 12, 13, 14, 15};
    for (uint32_t r : kSaved) as.push(ax::gpq(r));
    as.sub(ax::rsp, kFrameSize);
    as.mov(ax::r15, ax::rdi);
    as.jmp(ax::rsi);
    Label exit = as.newLabel();
    as.align(AlignMode::kCode, 16);
    as.bind(exit);
    as.add(ax::rsp, kFrameSize);
    for (size_t k = std::size(kSaved); k-- > 0;) as.pop(ax::gpq(kSaved[k]));
    as.ret();

    // The shared cold paths (see Thunks). Nothing is live at an exit: they clobber freely.
    constexpr int32_t kPcOff = int32_t(offsetof(CpuCommon, pc));
    auto exit_from_data = [&](const ax::Gp& data) {  // data = ExitStubData*
        as.mov(ax::rax, ax::qword_ptr(data, int32_t(offsetof(ExitStubData, tb))));
        as.mov(ax::rdx, ax::qword_ptr(data, int32_t(offsetof(ExitStubData, packed))));
        as.jmp(exit);
    };
    Label exit_thunk = as.newLabel(), probe_thunk = as.newLabel();
    Label load_thunk = as.newLabel(), store_thunk = as.newLabel();
    as.align(AlignMode::kCode, 16);
    as.bind(exit_thunk);  // rsi = ExitStubData*
    as.mov(ax::rcx, ax::qword_ptr(ax::rsi, int32_t(offsetof(ExitStubData, pc))));
    as.mov(ax::qword_ptr(ax::r15, kPcOff), ax::rcx);
    exit_from_data(ax::rsi);

    as.align(AlignMode::kCode, 16);
    as.bind(probe_thunk);  // rsi = ExitStubData*
    as.mov(ax::rcx, ax::qword_ptr(ax::rsi, int32_t(offsetof(ExitStubData, pc))));
    as.mov(ax::qword_ptr(ax::r15, kPcOff), ax::rcx);
    Label probe_miss = as.newLabel();
    emit_table_probe(as, jump_table_.get(), probe_miss, ax::rax);
    as.bind(probe_miss);
    exit_from_data(ax::rsi);


    // Slow paths, called from `call thunk; jmp back; data`: [rsp] = the jmp, the data 5 bytes
    // on; the block's rsp (16-aligned, its frame above) is rsp + 8 here.
    auto slow_thunk = [&](const Label& at, uint64_t glue, const void* fn_slot) {
        constexpr int32_t kSave = kSaveAreaOffset + 8;
        as.align(AlignMode::kCode, 16);
        as.bind(at);
        for (uint8_t r : kAllocatableRegs) as.mov(ax::qword_ptr(ax::rsp, kSave + 8 * r), ax::gpq(r));
        as.mov(ax::rsi, ax::qword_ptr(ax::rsp));
        as.add(ax::rsi, 5);
        as.mov(ax::rdi, ax::r15);
        as.lea(ax::rdx, ax::ptr(ax::rsp, kSave));
        as.mov(ax::rcx, Imm(int64_t(reinterpret_cast<uintptr_t>(fn_slot))));
        as.mov(ax::rax, Imm(int64_t(glue)));
        as.sub(ax::rsp, 8);
        as.call(ax::rax);
        as.add(ax::rsp, 8);
        for (uint8_t r : kAllocatableRegs) as.mov(ax::gpq(r), ax::qword_ptr(ax::rsp, kSave + 8 * r));
        as.ret();
    };
    slow_thunk(load_thunk, uint64_t(reinterpret_cast<uintptr_t>(&slow_load_glue)), &slow_load_);
    slow_thunk(store_thunk, uint64_t(reinterpret_cast<uintptr_t>(&slow_store_glue)), &slow_store_);
    code.flatten();
    code.resolveUnresolvedLinks();
    const size_t size = code.codeSize();
    uint8_t* dst = buf_->alloc(size, 64);
    if (errors.error != kErrorOk || !dst) return;
    code.relocateToBase(uint64_t(reinterpret_cast<uintptr_t>(dst)));
    code.copyFlattenedData(buf_->writable(dst), size);
    CodeBuffer::written(dst, size);
    trampoline_ = dst;
    const uint64_t base = uint64_t(reinterpret_cast<uintptr_t>(dst));
    exit_addr_ = base + code.labelOffset(exit);
    thunks_.exit = base + code.labelOffset(exit_thunk);
    thunks_.probe_exit = base + code.labelOffset(probe_thunk);
    thunks_.slow_load = base + code.labelOffset(load_thunk);
    thunks_.slow_store = base + code.labelOffset(store_thunk);
    code_start_ = buf_->used();
}

void X64Backend::clear_jump_table() {
    for (uint32_t k = 0; k <= kJumpTableMask; ++k) jump_table_[k] = JumpEntry{~0ull, nullptr, 0, 0};
}

void X64Backend::patch_rel32(uint8_t* site, const void* target) const {
    const int64_t rel = reinterpret_cast<const uint8_t*>(target) - (site + 4);
    // Aligned 4-byte store (through the writable view): a concurrently executing jmp sees the
    // old or the new target.
    __atomic_store_n(reinterpret_cast<int32_t*>(buf_->writable(site)), int32_t(rel), __ATOMIC_RELEASE);
    CodeBuffer::written(site, 4);
}

void X64Backend::patch_abs64(uint8_t* site, const void* target) const {
    // Aligned 8-byte store: the mov imm64 that reads it sees the old or the new value.
    __atomic_store_n(reinterpret_cast<uint64_t*>(buf_->writable(site)),
                     uint64_t(reinterpret_cast<uintptr_t>(target)), __ATOMIC_RELEASE);
    CodeBuffer::written(site, 8);
}

Status X64Backend::compile(const ir::Block& block, TranslatedBlock& tb) {
    if (!trampoline_) return make_error("x64: no executable code buffer");
    CompileScratch& sc = *scratch_;
    AsmErrorSink& errors = sc.errors;
    if (!sc.as || ++sc.compiles_since_reset >= 1024) {
        sc.as.reset();
        sc.code.reset(ResetPolicy::kHard);
        sc.code.init(Environment::host());
        sc.code.setErrorHandler(&errors);
        sc.as = std::make_unique<ax::Assembler>(&sc.code);
        sc.compiles_since_reset = 0;
    } else if (sc.as->setOffset(0) != kErrorOk) {
        return make_error("x64: asmjit: cannot rewind the section");
    }
    errors.error = kErrorOk;
    ax::Assembler& as = *sc.as;

    CompileEnv env;
    env.exit_addr = exit_addr_;
    env.thunks = thunks_;
    env.jump_table = jump_table_.get();
    env.count_insns = count_insns_;
    env.has_popcnt = has_popcnt_;
    env.return_hints = return_hints_;
    CompileOutput& out = sc.out;
    out.reset();
    BlockCompiler compiler(env, block, tb, as, sc);
    Status st = compiler.compile(out);
    if (!st) return st;
    if (errors.error != kErrorOk) return make_error("x64: asmjit: " + errors.text);
    // One section, every label bound, no absolute addresses left to asmjit (the block's
    // external rel32 fields are in out.abs_jumps): the bytes are position-independent as they
    // are, from offset 0 to the Assembler's position.
    const size_t size = as.offset();
    uint8_t* dst = buf_->alloc(size, 16);
    if (!dst) return make_error(kBufferFull);
    std::memcpy(buf_->writable(dst), as.bufferData(), size);
    CodeBuffer::written(dst, size);

    for (const auto& j : out.abs_jumps) patch_rel32(dst + j.rel_off, reinterpret_cast<const void*>(j.target));
    BlockMeta& meta = metas_.emplace_back();
    meta.num_sites = out.num_sites;
    for (unsigned s = 0; s < out.num_sites; ++s) {
        meta.site_off[s] = out.site_off[s];
        meta.stub_off[s] = out.stub_off[s];
        patch_rel32(dst + meta.site_off[s], dst + meta.stub_off[s]);
        tb.linked[s] = nullptr;
    }
    tb.linked[kReturnSlot] = nullptr;
    if (out.has_ret_site) {
        meta.has_ret_site = true;
        meta.ret_linkable = out.ret_linkable;
        meta.ret_site_off = out.ret_site_off;
        meta.ret_stub_off = out.ret_stub_off;
        meta.ret_probe_off = out.ret_probe_off;
        patch_abs64(dst + meta.ret_site_off, dst + (out.ret_linkable ? meta.ret_stub_off : meta.ret_probe_off));
    }
    tb.code = dst;
    tb.code_size = size;
    tb.backend_data = &meta;

    last_.code = dst;
    last_.inst_offsets.assign(out.inst_offsets.begin(), out.inst_offsets.end());
    last_.entry_end = out.entry_end;
    return {};
}

ExitInfo X64Backend::execute(CpuCommon* cpu, TranslatedBlock* tb) {
    remember_jump_target(cpu, tb);
    auto fn = reinterpret_cast<TrampolineFn>(trampoline_);
    RawExit r = fn(cpu, tb->code);
    ExitInfo info;
    info.from = reinterpret_cast<TranslatedBlock*>(r.tb);
    info.kind = ExitKind(r.packed & 0xff);
    info.slot = uint8_t(r.packed >> 8);
    info.cause = uint32_t(r.packed >> 32);
    if (info.kind == ExitKind::kException) {
        info.detail = reinterpret_cast<uint64_t>(cpu->jit_scratch[kScratchDetail]);
    }
    return info;
}

void X64Backend::remember_jump_target(CpuCommon* cpu, TranslatedBlock* tb) {
    // The engine has just chosen `tb` for (cpu->pc, cpu->mode) with the current mapping; record
    // the host page its code came from so generated code can check the mapping is unchanged.
    // While `-d exec`/`-d cpu` trace every block in the run loop, indirect jumps must go there.
    if (log::enabled(log::kExec | log::kCpu)) {
        if (jump_table_live_) clear_jump_table();
        jump_table_live_ = false;
        return;
    }
    jump_table_live_ = true;
    // Blocks on two pages too: the generation covers the mapping of both.
    if (!tb->valid || !tb->code) return;
    JumpEntry& e = jump_table_[jump_hash(tb->guest_pc)];
    if (e.code == tb->code && e.pc == tb->guest_pc && e.mode == tb->mode && e.generation == cpu->tlb_generation) return;
    e = JumpEntry{tb->guest_pc, tb->code, tb->mode, cpu->tlb_generation};
}

void X64Backend::link(TranslatedBlock* from, unsigned slot, TranslatedBlock* to) {
    auto* meta = static_cast<BlockMeta*>(from->backend_data);
    if (meta && slot == kReturnSlot && meta->has_ret_site && meta->ret_linkable && to->code) {
        patch_abs64(static_cast<uint8_t*>(from->code) + meta->ret_site_off, to->code);
        from->linked[slot] = to;
        return;
    }
    if (!meta || slot >= meta->num_sites || !to->code) return;
    patch_rel32(static_cast<uint8_t*>(from->code) + meta->site_off[slot], to->code);
    from->linked[slot] = to;
}

void X64Backend::unlink(TranslatedBlock* from, unsigned slot) {
    auto* meta = static_cast<BlockMeta*>(from->backend_data);
    auto* code = static_cast<uint8_t*>(from->code);
    if (meta && slot == kReturnSlot && meta->has_ret_site && meta->ret_linkable) {
        patch_abs64(code + meta->ret_site_off, code + meta->ret_stub_off);
        from->linked[slot] = nullptr;
        return;
    }
    if (!meta || slot >= meta->num_sites) return;
    patch_rel32(code + meta->site_off[slot], code + meta->stub_off[slot]);
    from->linked[slot] = nullptr;
}

void X64Backend::unlinkable(TranslatedBlock* from, unsigned slot) {
    // The return is still predicted; its target is found through the lookup table from now on.
    auto* meta = static_cast<BlockMeta*>(from->backend_data);
    if (!meta || slot != kReturnSlot || !meta->has_ret_site || from->linked[slot]) return;
    auto* code = static_cast<uint8_t*>(from->code);
    meta->ret_linkable = false;
    patch_abs64(code + meta->ret_site_off, code + meta->ret_probe_off);
}

void X64Backend::flush() {
    buf_->reset(code_start_);
    clear_jump_table();
    metas_.clear();
    last_ = LastCompile{};
}

void X64Backend::invalidated(TranslatedBlock& tb) {
    // Generated code trusts the table's entries for validity: drop this block's at once.
    JumpEntry& e = jump_table_[jump_hash(tb.guest_pc)];
    if (tb.code && e.code == tb.code) e = JumpEntry{~0ull, nullptr, 0, 0};
}

void X64Backend::release(TranslatedBlock& tb) {
    invalidated(tb);
    // Outgoing links of a dead block are dropped so that nothing refers to it any more.
    auto* meta = static_cast<BlockMeta*>(tb.backend_data);
    if (meta && tb.code) {
        for (unsigned s = 0; s < meta->num_sites; ++s) unlink(&tb, s);
        unlink(&tb, kReturnSlot);
    }
}

unsigned X64Backend::count_host_insns(const uint8_t* code, size_t bytes) {
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return 0;
    cs_insn* insn = nullptr;
    size_t n = cs_disasm(handle, code, bytes, uint64_t(reinterpret_cast<uintptr_t>(code)), 0, &insn);
    if (insn) cs_free(insn, n);
    cs_close(&handle);
    return unsigned(n);
}

size_t X64Backend::stub_data_size(uint64_t target) const {
    if (target == thunks_.exit || target == thunks_.probe_exit) return sizeof(ExitStubData);
    if (target == thunks_.slow_load || target == thunks_.slow_store) return sizeof(SlowStubData);
    return 0;
}

std::string X64Backend::disassemble(const TranslatedBlock& tb) const {
    if (!tb.code || !tb.code_size) return {};
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return {};
    cs_insn* insn = cs_malloc(handle);
    const auto* code = static_cast<const uint8_t*>(tb.code);
    const uint8_t* p = code;
    size_t left = tb.code_size;
    uint64_t addr = uint64_t(reinterpret_cast<uintptr_t>(code));
    std::string out;
    size_t pending_data = 0;
    while (left > 0 && cs_disasm_iter(handle, &p, &left, &addr, insn)) {
        out += fmt::format("0x{:016x}:  {:<8}{}\n", insn->address, insn->mnemonic, insn->op_str);
        // A cold stub's data follows its last instruction: the `jmp thunk` of an exit stub,
        // the `jmp back` after a slow path's `call thunk`.
        if (insn->size == 5 && (insn->bytes[0] == 0xE8 || insn->bytes[0] == 0xE9)) {
            int32_t rel;
            std::memcpy(&rel, insn->bytes + 1, 4);
            const size_t n = stub_data_size(insn->address + 5 + uint64_t(int64_t(rel)));
            if (n && insn->bytes[0] == 0xE8) {
                pending_data = n;  // after the jmp back
            } else if (n || (pending_data && insn->bytes[0] == 0xE9)) {
                const size_t skip = std::min(n ? n : pending_data, left);
                out += fmt::format("0x{:016x}:  {:<8}{} bytes of stub data\n", addr, ".data", skip);
                p += skip;
                left -= skip;
                addr += skip;
                pending_data = 0;
            }
        }
    }
    cs_free(insn, 1);
    cs_close(&handle);
    return out;
}

}  // namespace x64
}  // namespace corvid
