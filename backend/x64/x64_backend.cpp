// X64Backend: code buffer management, trampoline, linking, lookup table, disassembly.
#include "backend/x64/x64_backend.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "backend/x64/block_compiler.h"
#include "backend/x64/code_buffer.h"
#include "base/log.h"
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

class AsmErrors : public ErrorHandler {
public:
    void handleError(asmjit::Error err, const char* message, BaseEmitter*) override {
        if (error == kErrorOk) {
            error = err;
            text = message;
        }
    }
    asmjit::Error error = kErrorOk;
    std::string text;
};

}  // namespace

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
    AsmErrors errors;
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
    code.flatten();
    code.resolveUnresolvedLinks();
    const size_t size = code.codeSize();
    uint8_t* dst = buf_->alloc(size, 64);
    if (errors.error != kErrorOk || !dst) return;
    code.relocateToBase(uint64_t(reinterpret_cast<uintptr_t>(dst)));
    code.copyFlattenedData(buf_->writable(dst), size);
    CodeBuffer::written(dst, size);
    trampoline_ = dst;
    exit_addr_ = uint64_t(reinterpret_cast<uintptr_t>(dst)) + code.labelOffset(exit);
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
    CodeHolder& code = scratch_->code;
    code.reset(ResetPolicy::kSoft);
    code.init(Environment::host());
    AsmErrors errors;
    code.setErrorHandler(&errors);
    ax::Assembler as(&code);

    CompileEnv env;
    env.exit_addr = exit_addr_;
    env.slow_load = slow_load_;
    env.slow_store = slow_store_;
    env.jump_table = jump_table_.get();
    env.count_insns = count_insns_;
    env.has_popcnt = has_popcnt_;
    env.return_hints = return_hints_;
    CompileOutput out;
    BlockCompiler compiler(env, block, tb, as, *scratch_);
    Status st = compiler.compile(out);
    if (!st) return st;
    if (errors.error != kErrorOk) return make_error("x64: asmjit: " + errors.text);
    code.flatten();
    code.resolveUnresolvedLinks();
    const size_t size = code.codeSize();
    uint8_t* dst = buf_->alloc(size, 16);
    if (!dst) return make_error(kBufferFull);
    code.relocateToBase(uint64_t(reinterpret_cast<uintptr_t>(dst)));
    code.copyFlattenedData(buf_->writable(dst), size);
    CodeBuffer::written(dst, size);
    if (errors.error != kErrorOk) return make_error("x64: asmjit: " + errors.text);

    for (const auto& j : out.abs_jumps) patch_rel32(dst + j.rel_off, reinterpret_cast<const void*>(j.target));
    BlockMeta& meta = metas_.emplace_back();
    meta.num_sites = out.num_sites;
    for (unsigned s = 0; s < out.num_sites; ++s) {
        meta.site_off[s] = out.site_off[s];
        meta.stub_off[s] = uint32_t(code.labelOffset(out.stub[s]));
        patch_rel32(dst + meta.site_off[s], dst + meta.stub_off[s]);
        tb.linked[s] = nullptr;
    }
    tb.linked[kReturnSlot] = nullptr;
    if (out.has_ret_site) {
        meta.has_ret_site = true;
        meta.ret_linkable = out.ret_linkable;
        meta.ret_site_off = out.ret_site_off;
        meta.ret_stub_off = uint32_t(code.labelOffset(out.ret_stub));
        meta.ret_probe_off = uint32_t(code.labelOffset(out.ret_probe_stub));
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

std::string X64Backend::disassemble(const TranslatedBlock& tb) const {
    if (!tb.code || !tb.code_size) return {};
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return {};
    cs_insn* insn = nullptr;
    const auto* code = static_cast<const uint8_t*>(tb.code);
    size_t n = cs_disasm(handle, code, tb.code_size, uint64_t(reinterpret_cast<uintptr_t>(code)), 0, &insn);
    std::string out;
    for (size_t k = 0; k < n; ++k) {
        out += fmt::format("0x{:016x}:  {:<8}{}\n", insn[k].address, insn[k].mnemonic, insn[k].op_str);
    }
    if (insn) cs_free(insn, n);
    cs_close(&handle);
    return out;
}

}  // namespace x64
}  // namespace corvid
