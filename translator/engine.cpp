// The run loop and block cache of translator/engine.h: lookup (jump cache, then hash map with a
// physical-page check), translation (frontend -> verify -> optimise -> backend), chaining,
// exceptions and invalidation bookkeeping. The softmmu half is in softmmu.cpp.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "base/log.h"
#include "translator/engine_impl.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid {
namespace {

enum JumpCode : int { kJmpRaise = 1, kJmpExit = 2 };

[[noreturn]] void internal_fatal(const char* what) {
    std::fprintf(stderr, "corvid: internal error: %s\n", what);
    std::abort();
}

}  // namespace

// Fetches guest code for the frontend through the softmmu code path, recording the physical
// pages (at most two) and the bytes (for -d in_asm).
class Engine::Impl::TranslateCtx final : public TranslateContext {
public:
    TranslateCtx(Engine::Impl& e, CpuCommon* cpu, ir::Builder& b, uint32_t max) : engine_(e), cpu_(cpu) {
        builder_ = &b;
        max_insns = max;
    }

    bool fetch(uint64_t va, void* out, unsigned size) override {
        auto* dst = static_cast<uint8_t*>(out);
        while (size > 0) {
            uint64_t page = va & kPageMask;
            unsigned chunk = unsigned(std::min<uint64_t>(size, kPageSize - (va - page)));
            uint64_t paddr_page = 0;
            const uint8_t* host = engine_.code_page(cpu_, va, &paddr_page);
            if (!host) return false;
            if (!note_page(paddr_page)) return false;
            std::memcpy(dst, host + (va - page), chunk);
            // Record the bytes not recorded yet (fetches may overlap: x86 reads ahead).
            if (va <= next_byte_va_ && next_byte_va_ < va + chunk) {
                const uint8_t* from = dst + (next_byte_va_ - va);
                const uint8_t* end = dst + chunk;
                engine_.code_bytes.insert(engine_.code_bytes.end(), from, end);
                next_byte_va_ = va + chunk;
            }
            va += chunk;
            dst += chunk;
            size -= chunk;
        }
        return true;
    }

    void start(uint64_t pc) { next_byte_va_ = pc; }
    uint64_t page0 = ~0ull, page1 = ~0ull;

private:
    bool note_page(uint64_t p) {
        if (page0 == ~0ull || page0 == p) return page0 = p, true;
        if (page1 == ~0ull || page1 == p) return page1 = p, true;
        return false;  // a block covers at most two pages
    }

    Engine::Impl& engine_;
    CpuCommon* cpu_;
    uint64_t next_byte_va_ = 0;
};

Engine::Engine(Frontend& frontend, MemoryBus& bus, EngineOptions options, std::unique_ptr<ExecBackend> backend)
    : frontend_(frontend),
      bus_(bus),
      options_(options),
      backend_(std::move(backend)),
      impl_(std::make_unique<Impl>(*this)) {}

Engine::~Engine() {
    for (auto& [key, head] : impl_->blocks) {
        for (BlockEntry* b = head; b;) {
            BlockEntry* n = b->next_same_key;
            backend_->release(*b);
            delete b;
            b = n;
        }
    }
    for (BlockEntry* b : impl_->pending_release) {
        backend_->release(*b);
        delete b;
    }
}

BlockEntry* Engine::Impl::lookup(CpuCommon* cpu, CpuSlot& slot) {
    const uint64_t pc = cpu->pc;
    const uint32_t mode = cpu->mode;
    BlockEntry*& jc = slot.jump_cache[jump_cache_index(pc, mode)];
    if (jc && jc->guest_pc == pc && jc->mode == mode) return jc;
    uint64_t paddr_page = 0;
    if (!code_page(cpu, pc, &paddr_page)) return nullptr;
    auto it = blocks.find({pc, mode});
    if (it == blocks.end()) return nullptr;
    for (BlockEntry* b = it->second; b; b = b->next_same_key) {
        if (b->phys_page0 != paddr_page) continue;
        if (b->phys_page1 != ~0ull) {
            uint64_t p1 = 0;
            if (!code_page(cpu, (pc & kPageMask) + kPageSize, &p1) || p1 != b->phys_page1) continue;
        }
        jc = b;
        return b;
    }
    return nullptr;
}

Result<BlockEntry*> Engine::Impl::translate(CpuCommon* cpu, CpuSlot& slot, bool one_shot, uint32_t max_insns) {
    auto t0 = std::chrono::steady_clock::now();
    Impl& im = *this;
    ir::Block& blk = im.scratch;
    blk.insts.clear();
    blk.guest_pc = cpu->pc;
    blk.mode = cpu->mode;
    blk.guest_insns = 0;
    blk.guest_size = 0;
    blk.num_labels = 0;
    blk.state_forwarded = false;
    im.code_bytes.clear();
    ir::Builder builder(blk);
    builder.set_pc(cpu->pc);
    TranslateCtx ctx(*this, cpu, builder, max_insns);
    ctx.start(cpu->pc);
    frontend_.translate(ctx);

    if (log::enabled(log::kInAsm)) log_in_asm(blk);
    if (Status s = ir::verify(blk); !s) return make_error(s.error());
    if (log::enabled(log::kOp)) log::write(fmt::format("OP:\n{}", ir::to_string(blk)));
    if (options_.optimize) {
        ir::optimize(blk);
        if (log::enabled(log::kOpOpt)) log::write(fmt::format("OP after optimization:\n{}", ir::to_string(blk)));
    }

    auto* b = new BlockEntry;
    b->guest_pc = blk.guest_pc;
    b->mode = blk.mode;
    b->guest_insns = blk.guest_insns;
    b->guest_size = blk.guest_size;
    b->one_shot = one_shot || ctx.page0 == ~0ull;  // no code page: an instruction abort block
    b->phys_page0 = ctx.page0;
    b->phys_page1 = ctx.page1;
    b->phys_start = ctx.page0 + (blk.guest_pc & ~kPageMask);
    for (const ir::Inst& i : blk.insts) {
        if (i.op == ir::Opcode::ExitLink) b->link_pc[0] = i.imm;
        if (i.op == ir::Opcode::ExitCond) b->link_pc[0] = i.imm, b->link_pc[1] = i.imm2;
        if (i.op == ir::Opcode::PushReturnHint && b->link_pc[kReturnSlot] == ~0ull) b->link_pc[kReturnSlot] = i.imm;
    }
    Status st = backend_->compile(blk, *b);
    if (!st && st.error() == kBufferFull) {
        ++stats_.buffer_flushes;
        engine.flush_all();
        release_pending();
        st = backend_->compile(blk, *b);
    }
    if (!st) {
        delete b;
        return make_error(fmt::format("backend {} failed to compile block at 0x{:x}: {}", backend_->name(),
                                      blk.guest_pc, st.error()));
    }
    if (log::enabled(log::kOutAsm)) {
        std::string text = backend_->disassemble(*b);
        if (!text.empty()) log::write(fmt::format("OUT: [size={}]\n{}", b->code_size, text));
    }
    ++stats_.blocks_translated;
    stats_.guest_insns_translated += b->guest_insns;
    stats_.host_code_bytes += b->code_size;

    if (!b->one_shot) {
        auto [it, inserted] = im.blocks.try_emplace({b->guest_pc, b->mode}, b);
        if (!inserted) {
            b->next_same_key = it->second;
            it->second = b;
        }
        add_code_page(b->phys_page0, b);
        if (b->phys_page1 != ~0ull) add_code_page(b->phys_page1, b);
        slot.jump_cache[jump_cache_index(b->guest_pc, b->mode)] = b;
    }
    stats_.translate_ns +=
        uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    return b;
}

void Engine::Impl::log_in_asm(const ir::Block& blk) {
    const auto& bytes = code_bytes;
    std::string out = "----------------\nIN: \n";
    size_t off = 0;
    while (off < bytes.size() && off < blk.guest_size) {
        size_t len = 0;
        std::string text = frontend_.disassemble(blk.guest_pc + off, bytes.data() + off, bytes.size() - off, &len);
        if (len == 0 || off + len > bytes.size()) len = std::min<size_t>(4, bytes.size() - off);
        std::string hex;
        if (len == 4 && frontend_.fixed_width_insns()) {
            uint32_t w;
            std::memcpy(&w, bytes.data() + off, 4);
            hex = fmt::format("{:08x}", w);
        } else {
            for (size_t k = 0; k < len; ++k) hex += fmt::format("{:02x}", bytes[off + k]);
        }
        out += fmt::format("0x{:016x}:  {}  {}\n", blk.guest_pc + off, hex, text);
        off += len;
    }
    log::write(out);
}

void Engine::Impl::handle_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) {
    log::logf(log::kInt, "Taking exception cause={} detail=0x{:x} at pc=0x{:x}", cause, detail, cpu->pc);
    frontend_.deliver_exception(cpu, cause, detail);
}

RunExit Engine::run(CpuCommon* cpu) {
    Impl& im = *impl_;
    cpu->engine = this;
    CpuSlot& slot = *im.slot_for(cpu);
    const uint64_t insns_before = cpu->insn_count;
    const uint64_t hits_before = cpu->return_hint_hits, misses_before = cpu->return_hint_misses;
    if (im.in_run) internal_fatal("Engine::run re-entered");
    im.in_run = true;
    // Raises and exits from helpers land here; the backend is then entered afresh.
    switch (setjmp(im.jump_buf)) {
        case kJmpRaise:
            im.stop_executing();
            im.handle_exception(cpu, cpu->pending_cause, cpu->pending_detail);
            break;
        case kJmpExit: im.stop_executing(); break;
        default: break;
    }
    RunExit out = im.run_blocks(cpu, slot);
    im.in_run = false;
    if (options_.count_insns) stats_.executed_insns += cpu->insn_count - insns_before;
    stats_.return_hint_hits += cpu->return_hint_hits - hits_before;
    stats_.return_hint_misses += cpu->return_hint_misses - misses_before;
    return out;
}

RunExit Engine::Impl::run_blocks(CpuCommon* cpu, CpuSlot& slot) {
    Impl& im = *this;
    const bool trace = log::enabled(log::kExec | log::kCpu);
    for (;;) {
        if (cpu->exit_request.load(std::memory_order_acquire)) {
            cpu->exit_request.store(0, std::memory_order_relaxed);
            return RunExit{};
        }
        if (!im.pending_release.empty() || im.flush_pending) release_pending();
        BlockEntry* b = nullptr;
        if (im.single_insn_next) {
            im.single_insn_next = false;
            auto r = translate(cpu, slot, true, 1);
            if (!r) return RunExit{RunExit::Kind::kError, ir::HaltReason::kStop, r.error()};
            b = *r;
        } else {
            b = lookup(cpu, slot);
            if (!b) {
                auto r = translate(cpu, slot, false, options_.max_block_insns);
                if (!r) return RunExit{RunExit::Kind::kError, ir::HaltReason::kStop, r.error()};
                b = *r;
            }
        }
        if (trace) {
            if (log::enabled(log::kCpu)) log::write(frontend_.dump_state(cpu));
            log::logf(log::kExec, "Trace 0: {} [{:08x}/{:016x}/{:08x}/00000000] ", static_cast<void*>(b), 0u,
                      b->guest_pc, b->mode);
        }
        for (;;) {
            im.executing = true;
            im.running_one_shot = b->one_shot ? b : nullptr;
            ExitInfo e = backend_->execute(cpu, b);
            im.stop_executing();
            BlockEntry* from = static_cast<BlockEntry*>(e.from);
            if (im.flush_pending) {
                // A helper flushed everything: finish that before compiling anything new.
                im.release_pending();
                from = nullptr;
            }
            switch (e.kind) {
                case ExitKind::kLink: {
                    ++stats_.lookup_exits;
                    if (trace || !from || from->one_shot || !from->valid || im.single_insn_next) break;
                    if (cpu->exit_request.load(std::memory_order_acquire)) break;
                    BlockEntry* to = lookup(cpu, slot);
                    if (!to) {
                        const uint64_t flushes = stats_.buffer_flushes;
                        auto r = translate(cpu, slot, false, options_.max_block_insns);
                        if (!r) return RunExit{RunExit::Kind::kError, ir::HaltReason::kStop, r.error()};
                        to = *r;
                        if (stats_.buffer_flushes != flushes) from = nullptr;  // freed by the flush
                    }
                    // One-shot blocks (e.g. an instruction abort) run but are never chained to.
                    if (!from || to->one_shot || !can_chain(from, to)) {
                        // A return hint whose target can never be chained stops asking.
                        if (from && !to->one_shot && e.slot == kReturnSlot) backend_->unlinkable(from, e.slot);
                        b = to;
                        continue;
                    }
                    link(from, e.slot, to);
                    b = to;
                    continue;
                }
                case ExitKind::kJump: ++stats_.lookup_exits; break;
                case ExitKind::kException: handle_exception(cpu, e.cause, e.detail); break;
                case ExitKind::kHalt: return RunExit{RunExit::Kind::kHalt, ir::HaltReason(e.cause), {}};
                case ExitKind::kExitRequest: break;  // handled at the top of the loop
            }
            break;
        }
    }
}

// A chain must stay valid without a lookup, so it only joins blocks of one virtual page that
// maps one physical page (a remapping flushes the TLB but cannot see chains into other pages).
bool Engine::Impl::can_chain(const BlockEntry* from, const BlockEntry* to) const {
    return to->valid && !to->one_shot && (from->guest_pc & kPageMask) == (to->guest_pc & kPageMask) &&
           from->phys_page0 == to->phys_page0 && to->phys_page1 == ~0ull && from->mode == to->mode;
}

void Engine::Impl::link(BlockEntry* from, unsigned slot, BlockEntry* to) {
    if (from->linked[slot]) return;
    from->linked[slot] = to;
    backend_->link(from, slot, to);
    to->incoming.emplace_back(from, uint8_t(slot));
    ++stats_.chained_links;
}

void Engine::Impl::release_pending() {
    Impl& im = *this;
    // Code that ran after the invalidation (the block that asked for it) may have pushed hints
    // naming the blocks about to be freed.
    clear_return_hints();
    if (im.flush_pending) {
        im.flush_pending = false;
        backend_->flush();
        for (BlockEntry* b : im.pending_release) delete b;  // the backend forgot them all
    } else {
        for (BlockEntry* b : im.pending_release) {
            backend_->release(*b);
            delete b;
        }
    }
    im.pending_release.clear();
}

void Engine::Impl::clear_return_hints() {
    for (auto& s : cpus) {
        for (ReturnHint& h : s->cpu->return_hints) h = ReturnHint{};
    }
}

void Engine::Impl::invalidate(BlockEntry* b, bool unlink_incoming, bool clear_hints) {
    Impl& im = *this;
    if (!b->valid) return;
    b->valid = false;
    backend_->invalidated(*b);
    // A return hint may name b's code (or a stub of b): none may be followed from now on.
    if (clear_hints) clear_return_hints();
    ++stats_.invalidations;
    auto it = im.blocks.find({b->guest_pc, b->mode});
    if (it != im.blocks.end()) {
        BlockEntry** pp = &it->second;
        while (*pp && *pp != b) pp = &(*pp)->next_same_key;
        if (*pp) *pp = b->next_same_key;
        if (!it->second) im.blocks.erase(it);
    }
    for (auto& s : im.cpus) {
        BlockEntry*& jc = s->jump_cache[jump_cache_index(b->guest_pc, b->mode)];
        if (jc == b) jc = nullptr;
    }
    remove_code_page(b->phys_page0, b);
    if (b->phys_page1 != ~0ull) remove_code_page(b->phys_page1, b);
    if (unlink_incoming) {
        for (auto [from, s] : b->incoming) {
            if (from->valid && from->linked[s] == b) {
                backend_->unlink(from, s);
                from->linked[s] = nullptr;
            }
        }
        for (unsigned s = 0; s < kLinkSlots; ++s) {
            auto* to = static_cast<BlockEntry*>(b->linked[s]);
            if (!to) continue;
            auto& in = to->incoming;
            for (size_t k = 0; k < in.size(); ++k) {
                if (in[k].first == b && in[k].second == s) {
                    in[k] = in.back();
                    in.pop_back();
                    break;
                }
            }
        }
    }
    b->incoming.clear();
    im.pending_release.push_back(b);
}

void Engine::flush_all() {
    Impl& im = *impl_;
    std::vector<BlockEntry*> all;
    for (auto& [key, head] : im.blocks) {
        for (BlockEntry* b = head; b; b = b->next_same_key) all.push_back(b);
    }
    // Generated code may still be running (a helper asked for the flush): keep its code until
    // the loop regains control, but cut every chain now so it returns there.
    for (BlockEntry* b : all) im.invalidate(b, im.executing, false);
    im.clear_return_hints();
    im.blocks.clear();
    im.code_pages.clear();
    for (auto& s : im.cpus) s->jump_cache.fill(nullptr);
    im.flush_pending = true;
    if (!im.executing) im.release_pending();
}

void Engine::raise(CpuCommon* cpu, uint32_t cause, uint64_t detail) {
    if (!impl_->in_run) internal_fatal("Engine::raise outside Engine::run");
    cpu->pending_cause = cause;
    cpu->pending_detail = detail;
    std::longjmp(impl_->jump_buf, kJmpRaise);
}

void Engine::exit_to_loop(CpuCommon*) {
    if (!impl_->in_run) internal_fatal("Engine::exit_to_loop outside Engine::run");
    std::longjmp(impl_->jump_buf, kJmpExit);
}

std::string Engine::stats_report() const {
    const EngineStats& s = stats_;
    std::string out;
    out += fmt::format("Translation buffer state:\n");
    out += fmt::format("backend                  {}\n", backend_->name());
    out += fmt::format("TB count                 {}\n", s.blocks_translated);
    out += fmt::format("TB avg target size       {:.1f} insns\n",
                       s.blocks_translated ? double(s.guest_insns_translated) / double(s.blocks_translated) : 0.0);
    out += fmt::format("TB avg host size         {:.1f} bytes\n",
                       s.blocks_translated ? double(s.host_code_bytes) / double(s.blocks_translated) : 0.0);
    out += fmt::format("host code bytes          {}\n", s.host_code_bytes);
    out += fmt::format("translation time         {:.3f} ms\n", double(s.translate_ns) / 1e6);
    out += fmt::format("TB flush count           {}\n", s.buffer_flushes);
    out += fmt::format("TB invalidate count      {}\n", s.invalidations);
    out += fmt::format("direct jumps chained     {}\n", s.chained_links);
    out += fmt::format("run loop lookups         {}\n", s.lookup_exits);
    out += fmt::format("return hints hit         {}\n", s.return_hint_hits);
    out += fmt::format("return hints missed      {}\n", s.return_hint_misses);
    if (options_.count_insns) out += fmt::format("executed guest insns     {}\n", s.executed_insns);
    return out;
}

}  // namespace corvid
