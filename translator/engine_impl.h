// Private state of translator/engine.h's Engine, shared by engine.cpp (run loop, block cache)
// and softmmu.cpp (slow paths, TLB, code-page tracking).
#pragma once

#include <array>
#include <csetjmp>
#include <memory>
#include <unordered_map>
#include <vector>

#include "translator/engine.h"
#include "translator/frontend.h"
#include "translator/ir/ir.h"

namespace corvid {

// The engine's bookkeeping around a backend's TranslatedBlock.
struct BlockEntry : TranslatedBlock {
    BlockEntry* next_same_key = nullptr;                    // other physical copies of (pc, mode)
    std::vector<std::pair<BlockEntry*, uint8_t>> incoming;  // (from, slot) chained into us
    uint64_t phys_start = 0;                                // guest-physical address of the first byte
    bool one_shot = false;                                  // executed once, never cached or chained
};

constexpr unsigned kJumpCacheBits = 12;
constexpr unsigned kJumpCacheSize = 1u << kJumpCacheBits;

// Per-CPU data the engine keeps beside CpuCommon::tlb.
struct CpuSlot {
    CpuCommon* cpu = nullptr;
    // Direct-mapped (pc, mode) -> block cache in front of the hash map.
    std::array<BlockEntry*, kJumpCacheSize> jump_cache{};
    // Shadow of each TLB entry: the page it maps and where it goes, valid even for MMIO
    // pages (which have no tags in the TLB itself).
    struct Shadow {
        uint64_t va_page = kTlbInvalid;
        uint64_t paddr_page = 0;
        uint8_t* host_page = nullptr;  // nullptr: not RAM (MMIO / hole)
        bool readable = false, writable = false, executable = false, ram_writable = false;
    };
    std::array<Shadow, kTlbEntries> shadow{};
};

inline unsigned jump_cache_index(uint64_t pc, uint32_t mode) {
    uint64_t h = (pc >> 2) ^ (pc >> (2 + kJumpCacheBits)) ^ (uint64_t(mode) * 0x9e37u);
    return unsigned(h & (kJumpCacheSize - 1));
}

struct CodePage {
    std::vector<BlockEntry*> blocks;
    // 64-byte chunks of the page holding code of `blocks` (bit k: bytes 64k..64k+63), so that
    // stores to the data parts of a code page skip the block search.
    uint64_t chunks = 0;
};

// Bits of CodePage::chunks covering [off, off + len) within one page (len > 0).
inline uint64_t code_chunk_bits(uint64_t off, uint64_t len) {
    const unsigned first = unsigned(off >> 6), last = unsigned((off + len - 1) >> 6);
    const uint64_t upto = last >= 63 ? ~0ull : (2ull << last) - 1;
    return upto & ~((1ull << first) - 1);
}

struct Engine::Impl {
    explicit Impl(Engine& e)
        : engine(e),
          frontend_(e.frontend_),
          bus_(e.bus_),
          backend_(e.backend_),
          stats_(e.stats_),
          options_(e.options_) {}

    Engine& engine;
    Frontend& frontend_;
    MemoryBus& bus_;
    std::unique_ptr<ExecBackend>& backend_;
    EngineStats& stats_;
    const EngineOptions& options_;

    std::jmp_buf jump_buf;
    bool in_run = false;                     // jump_buf is valid
    bool executing = false;                  // inside backend->execute (generated code may be running)
    BlockEntry* running_one_shot = nullptr;  // the one-shot block being executed, if any
    bool single_insn_next = false;           // retranslate the next block as one instruction (SMC)
    bool flush_pending = false;              // backend->flush() once control is back in the loop

    struct KeyHash {
        size_t operator()(const std::pair<uint64_t, uint32_t>& k) const {
            return std::hash<uint64_t>()(k.first * 0x9e3779b97f4a7c15ull ^ k.second);
        }
    };
    std::unordered_map<std::pair<uint64_t, uint32_t>, BlockEntry*, KeyHash> blocks;
    std::unordered_map<uint64_t, CodePage> code_pages;  // guest-physical page -> blocks on it
    std::vector<BlockEntry*> pending_release;           // invalidated, freed back in the loop
    std::vector<std::unique_ptr<CpuSlot>> cpus;
    CpuSlot* last_slot = nullptr;

    ir::Block scratch;                // reused translation buffer
    std::vector<uint8_t> code_bytes;  // guest bytes of the block (for in_asm)

    class TranslateCtx;

    // engine.cpp: run loop and block cache.
    RunExit run_blocks(CpuCommon* cpu, CpuSlot& slot);
    BlockEntry* lookup(CpuCommon* cpu, CpuSlot& slot);
    Result<BlockEntry*> translate(CpuCommon* cpu, CpuSlot& slot, bool one_shot, uint32_t max_insns);
    void log_in_asm(const ir::Block& blk);
    void handle_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail);
    bool can_chain(const BlockEntry* from, const BlockEntry* to) const;
    void link(BlockEntry* from, unsigned slot, BlockEntry* to);
    void release_pending();
    // clear_hints: also empty every CPU's return-hint ring (callers invalidating many blocks
    // do it once themselves).
    void invalidate(BlockEntry* b, bool unlink_incoming, bool clear_hints = true);
    void clear_return_hints();

    // softmmu.cpp: address resolution, TLB fill, code pages.
    // Host pointer of the executable page holding va (filling the TLB), or nullptr when it
    // cannot be executed; never raises.
    const uint8_t* code_page(CpuCommon* cpu, uint64_t va, uint64_t* paddr_page);
    // The shadow entry for va after a successful translation for `access`, or nullptr with
    // *cause / *detail set (the caller raises).
    const CpuSlot::Shadow* resolve(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail);
    void add_code_page(uint64_t paddr_page, BlockEntry* b);
    // The guest-physical bytes [*start, *end) of b on page paddr_page.
    static void block_range_on_page(const BlockEntry* b, uint64_t paddr_page, uint64_t* start, uint64_t* end);
    void remove_code_page(uint64_t paddr_page, BlockEntry* b);
    // Invalidates blocks overlapping [paddr, paddr + len) on one page; true when one of them
    // may be the block running the store at `pc` (the caller must then leave it).
    bool invalidate_range(uint64_t paddr, uint64_t len, CpuCommon* cpu, uint64_t pc);
    [[noreturn]] void raise_at(CpuCommon* cpu, uint64_t pc, uint32_t cause, uint64_t detail);

    // Generated code is no longer running (normal return or longjmp): one-shot blocks die.
    void stop_executing() {
        executing = false;
        if (running_one_shot) {
            running_one_shot->valid = false;
            backend_->invalidated(*running_one_shot);
            pending_release.push_back(running_one_shot);
            running_one_shot = nullptr;
        }
    }

    CpuSlot* slot_for(CpuCommon* cpu) {
        if (last_slot && last_slot->cpu == cpu) return last_slot;
        for (auto& s : cpus) {
            if (s->cpu == cpu) return last_slot = s.get();
        }
        cpus.push_back(std::make_unique<CpuSlot>());
        cpus.back()->cpu = cpu;
        for (auto& e : cpu->tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
        // Hints left by another engine name code that is not ours.
        for (ReturnHint& h : cpu->return_hints) h = ReturnHint{};
        return last_slot = cpus.back().get();
    }
};

}  // namespace corvid
