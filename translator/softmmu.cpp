// The softmmu half of the engine: slow-path loads and stores (TLB fill, MMIO, split and
// misaligned accesses, faults), TLB maintenance, and code-page tracking for self-modifying code.
#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "translator/engine_impl.h"

namespace corvid {
namespace {

uint64_t sign_extend_bytes(uint64_t v, unsigned size) {
    if (size >= 8) return v;
    unsigned s = 64 - size * 8;
    return uint64_t(int64_t(v << s) >> s);
}

uint64_t read_le(const uint8_t* p, unsigned size) {
    uint64_t v = 0;
    std::memcpy(&v, p, size);  // little-endian host
    return v;
}

}  // namespace

void Engine::Impl::raise_at(CpuCommon* cpu, uint64_t pc, uint32_t cause, uint64_t detail) {
    cpu->pc = pc;
    engine.raise(cpu, cause, detail);
}

const CpuSlot::Shadow* Engine::Impl::resolve(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause,
                                             uint64_t* detail) {
    CpuSlot& slot = *slot_for(cpu);
    const uint64_t page = va & kPageMask;
    const unsigned idx = unsigned((va >> kPageBits) & (kTlbEntries - 1));
    CpuSlot::Shadow& sh = slot.shadow[idx];
    if (sh.va_page == page) {
        bool ok = access == Access::kRead ? sh.readable : access == Access::kWrite ? sh.writable : sh.executable;
        if (ok) {
            // A page that stopped holding code gets its write tag back.
            if (access == Access::kWrite && sh.host_page && sh.ram_writable && cpu->tlb[idx].write_tag != page &&
                !code_pages.count(sh.paddr_page))
                cpu->tlb[idx].write_tag = page;
            return &sh;
        }
    }
    std::optional<PageTranslation> pt = frontend_.translate_address(cpu, va, access, cause, detail);
    if (!pt) return nullptr;
    bool ram_writable = false;
    uint8_t* host = bus_.ram_page(pt->paddr_page & kPageMask, &ram_writable);
    sh.va_page = page;
    sh.paddr_page = pt->paddr_page & kPageMask;
    sh.host_page = host;
    sh.readable = pt->readable || access == Access::kRead;
    sh.writable = pt->writable || access == Access::kWrite;
    sh.executable = pt->executable || access == Access::kExecute;
    sh.ram_writable = ram_writable;
    // MMIO never gets a tag; code pages get no write tag so stores reach the invalidation.
    TlbEntry& e = cpu->tlb[idx];
    const bool is_code = code_pages.count(sh.paddr_page) != 0;
    e.read_tag = host && sh.readable ? page : kTlbInvalid;
    e.write_tag = host && sh.writable && ram_writable && !is_code ? page : kTlbInvalid;
    e.code_tag = host && sh.executable ? page : kTlbInvalid;
    e.addend = host ? uint64_t(reinterpret_cast<uintptr_t>(host)) - page : 0;
    return &sh;
}

const uint8_t* Engine::Impl::code_page(CpuCommon* cpu, uint64_t va, uint64_t* paddr_page) {
    CpuSlot& slot = *slot_for(cpu);
    const uint64_t page = va & kPageMask;
    const unsigned idx = unsigned((va >> kPageBits) & (kTlbEntries - 1));
    if (cpu->tlb[idx].code_tag == page) {
        *paddr_page = slot.shadow[idx].paddr_page;
        return slot.shadow[idx].host_page;
    }
    uint32_t cause = 0;
    uint64_t detail = 0;
    const CpuSlot::Shadow* sh = resolve(cpu, va, Access::kExecute, &cause, &detail);
    if (!sh || !sh->host_page) return nullptr;  // fault, or code in MMIO (not supported)
    *paddr_page = sh->paddr_page;
    return sh->host_page;
}

uint64_t Engine::slow_load(CpuCommon* cpu, uint64_t va, uint32_t mem_flags, uint64_t pc) {
    Impl& im = *impl_;
    cpu->pc = pc;  // devices and the frontend may look at it; same as the JIT's slow path
    const unsigned size = ir::mem_size_bytes(mem_flags);
    uint32_t cause = 0;
    uint64_t detail = 0;
    const bool misaligned = (va & (size - 1)) != 0;
    if (misaligned && (mem_flags & ir::kMemAlignCheck)) {
        frontend_.alignment_fault(cpu, va, Access::kRead, &cause, &detail);
        im.raise_at(cpu, pc, cause, detail);
    }
    const bool crosses = ((va & ~kPageMask) + size) > kPageSize;
    uint64_t value = 0;
    if (misaligned || crosses) {
        // Byte by byte, so each part goes wherever its own page maps (RAM or device).
        for (unsigned k = 0; k < size; ++k) value |= slow_load(cpu, va + k, 0, pc) << (8 * k);
    } else {
        const CpuSlot::Shadow* sh = im.resolve(cpu, va, Access::kRead, &cause, &detail);
        if (!sh) im.raise_at(cpu, pc, cause, detail);
        const uint64_t paddr = sh->paddr_page | (va & ~kPageMask);
        if (sh->host_page) {
            value = read_le(sh->host_page + (va & ~kPageMask), size);
        } else if (bus_.read(paddr, size, &value) != MemResult::kOk) {
            frontend_.bus_fault(cpu, va, Access::kRead, &cause, &detail);
            im.raise_at(cpu, pc, cause, detail);
        }
        if (size < 8) value &= (1ull << (8 * size)) - 1;
    }
    return (mem_flags & ir::kMemSigned) ? sign_extend_bytes(value, size) : value;
}

void Engine::slow_store(CpuCommon* cpu, uint64_t va, uint64_t value, uint32_t mem_flags, uint64_t pc) {
    Impl& im = *impl_;
    cpu->pc = pc;
    const unsigned size = ir::mem_size_bytes(mem_flags);
    uint32_t cause = 0;
    uint64_t detail = 0;
    const bool misaligned = (va & (size - 1)) != 0;
    if (misaligned && (mem_flags & ir::kMemAlignCheck)) {
        frontend_.alignment_fault(cpu, va, Access::kWrite, &cause, &detail);
        im.raise_at(cpu, pc, cause, detail);
    }
    if (size < 8) value &= (1ull << (8 * size)) - 1;
    const bool crosses = ((va & ~kPageMask) + size) > kPageSize;
    if (misaligned || crosses) {
        // Translate every page first so a fault on the second page leaves memory untouched.
        const uint64_t last = va + size - 1;
        if (!im.resolve(cpu, va, Access::kWrite, &cause, &detail)) im.raise_at(cpu, pc, cause, detail);
        if ((last & kPageMask) != (va & kPageMask) && !im.resolve(cpu, last, Access::kWrite, &cause, &detail))
            im.raise_at(cpu, pc, cause, detail);
        for (unsigned k = 0; k < size; ++k) slow_store(cpu, va + k, value >> (8 * k), 0, pc);
        return;
    }
    const CpuSlot::Shadow* sh = im.resolve(cpu, va, Access::kWrite, &cause, &detail);
    if (!sh) im.raise_at(cpu, pc, cause, detail);
    const uint64_t paddr = sh->paddr_page | (va & ~kPageMask);
    if (sh->host_page && sh->ram_writable) {
        uint8_t* host = sh->host_page + (va & ~kPageMask);
        if (!im.code_pages.empty()) {
            auto it = im.code_pages.find(sh->paddr_page);
            if (it != im.code_pages.end() && (it->second.chunks & code_chunk_bits(va & ~kPageMask, size)) &&
                im.invalidate_range(paddr, size, cpu, pc)) {
                // The running block holds stale code after this store: leave it and redo the
                // store from a one-instruction block (ir.h guarantees no state was written yet).
                cpu->pc = pc;
                im.single_insn_next = true;
                exit_to_loop(cpu);
            }
        }
        std::memcpy(host, &value, size);
        return;
    }
    if (bus_.write(paddr, size, value) != MemResult::kOk) {
        frontend_.bus_fault(cpu, va, Access::kWrite, &cause, &detail);
        im.raise_at(cpu, pc, cause, detail);
    }
}

void Engine::Impl::block_range_on_page(const BlockEntry* b, uint64_t paddr_page, uint64_t* start, uint64_t* end) {
    if (b->phys_page0 == paddr_page) {
        *start = b->phys_start;
        *end = std::min(b->phys_start + b->guest_size, b->phys_page0 + kPageSize);
    } else {
        *start = b->phys_page1;
        *end = b->phys_page1 + (b->guest_size - (kPageSize - (b->phys_start & ~kPageMask)));
    }
}

void Engine::Impl::add_code_page(uint64_t paddr_page, BlockEntry* b) {
    auto [it, inserted] = code_pages.try_emplace(paddr_page);
    it->second.blocks.push_back(b);
    uint64_t start = 0, end = 0;
    block_range_on_page(b, paddr_page, &start, &end);
    // An empty range (no bytes fetched) still marks its first chunk: never under-approximate.
    it->second.chunks |= code_chunk_bits(start - paddr_page, std::max<uint64_t>(end - start, 1));
    if (!inserted) return;
    // A page that just became a code page loses its write tags, so stores reach slow_store.
    for (auto& s : cpus) {
        for (unsigned i = 0; i < kTlbEntries; ++i) {
            if (s->shadow[i].va_page != kTlbInvalid && s->shadow[i].paddr_page == paddr_page)
                s->cpu->tlb[i].write_tag = kTlbInvalid;
        }
    }
}

void Engine::Impl::remove_code_page(uint64_t paddr_page, BlockEntry* b) {
    auto it = code_pages.find(paddr_page);
    if (it == code_pages.end()) return;
    auto& v = it->second.blocks;
    v.erase(std::remove(v.begin(), v.end(), b), v.end());
    // The page's TLB entries regain their write tag at the next fill.
    if (v.empty()) {
        code_pages.erase(it);
        return;
    }
    uint64_t chunks = 0;
    for (const BlockEntry* o : v) {
        uint64_t start = 0, end = 0;
        block_range_on_page(o, paddr_page, &start, &end);
        chunks |= code_chunk_bits(start - paddr_page, std::max<uint64_t>(end - start, 1));
    }
    it->second.chunks = chunks;
}

bool Engine::Impl::invalidate_range(uint64_t paddr, uint64_t len, CpuCommon* cpu, uint64_t pc) {
    auto it = code_pages.find(paddr & kPageMask);
    if (it == code_pages.end()) return false;
    std::vector<BlockEntry*> hit;
    for (BlockEntry* b : it->second.blocks) {
        // The block's bytes on this page, as a physical range.
        uint64_t start, end;
        block_range_on_page(b, paddr & kPageMask, &start, &end);
        if (paddr < end && paddr + len > start) hit.push_back(b);
    }
    // Whether the running block is among them is judged by the store's pc: a false positive
    // only costs a one-instruction block.
    bool current = false;
    for (BlockEntry* b : hit) {
        if (cpu && executing && !running_one_shot && b->mode == cpu->mode && pc >= b->guest_pc &&
            pc < b->guest_pc + b->guest_size)
            current = true;
        invalidate(b, true);
    }
    return current;
}

void Engine::invalidate_phys(uint64_t paddr, uint64_t size) {
    uint64_t end = paddr + size;
    for (uint64_t p = paddr; p < end;) {
        uint64_t next = std::min(end, (p & kPageMask) + kPageSize);
        impl_->invalidate_range(p, next - p, nullptr, 0);
        p = next;
    }
}

void Engine::tlb_flush(CpuCommon* cpu) {
    CpuSlot& slot = *impl_->slot_for(cpu);
    ++cpu->tlb_generation;
    // Return hints were resolved under the old mappings.
    for (ReturnHint& h : cpu->return_hints) h = ReturnHint{};
    for (auto& e : cpu->tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
    for (auto& s : slot.shadow) s = CpuSlot::Shadow{};
    slot.jump_cache.fill(nullptr);
}

void Engine::tlb_flush_page(CpuCommon* cpu, uint64_t va) {
    CpuSlot& slot = *impl_->slot_for(cpu);
    ++cpu->tlb_generation;
    const uint64_t page = va & kPageMask;
    // A linked return hint names a block on its return pc's page (chaining rules).
    for (ReturnHint& h : cpu->return_hints) {
        if ((h.pc & kPageMask) == page) h = ReturnHint{};
    }
    const unsigned idx = unsigned((va >> kPageBits) & (kTlbEntries - 1));
    if (slot.shadow[idx].va_page == page) {
        cpu->tlb[idx] = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
        slot.shadow[idx] = CpuSlot::Shadow{};
    }
    // Blocks found through the jump cache skip the physical check, so drop the page's entries.
    for (auto& b : slot.jump_cache) {
        if (b && ((b->guest_pc & kPageMask) == page || ((b->guest_pc + b->guest_size - 1) & kPageMask) == page))
            b = nullptr;
    }
}

}  // namespace corvid
