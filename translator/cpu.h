// The part of every guest CPU state that the translator core and generated code rely on.
//
// A frontend's state struct starts with a CpuCommon member (at offset 0, standard layout),
// so generated code addresses both common and guest fields from the one fixed host register.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace corvid {

constexpr unsigned kPageBits = 12;
constexpr uint64_t kPageSize = 1ull << kPageBits;
constexpr uint64_t kPageMask = ~(kPageSize - 1);

constexpr unsigned kTlbBits = 8;
constexpr unsigned kTlbEntries = 1u << kTlbBits;

// One softmmu TLB entry. A tag is the page-aligned guest virtual address when the page may
// be accessed on the fast path that way, or kTlbInvalid. Fast path for an access of size s
// at va: idx = (va >> kPageBits) & (kTlbEntries - 1); hit iff
// (va & (kPageMask | (s - 1))) == tag; host address = va + addend. Misaligned accesses thus
// always miss, and the slow path handles page crossing and alignment checks.
// MMIO pages are never entered; pages holding translated code have no write tag, so stores
// to them take the slow path (which invalidates the affected blocks).
struct TlbEntry {
    uint64_t read_tag;
    uint64_t write_tag;
    uint64_t code_tag;
    uint64_t addend;  // host pointer = guest va + addend
};
static_assert(sizeof(TlbEntry) == 32);
constexpr uint64_t kTlbInvalid = ~0ull;

// One entry of the return-stack hint ring (CpuCommon::return_hints), written and read by
// generated code: a call pushes the return pc, its mode and the host code to continue at
// (the return block, or a stub of the calling block that lets the run loop resolve it); a
// return pops the top entry and jumps to `code` when pc and mode match its target. The
// engine clears entries whenever the code they name may be stale (invalidation, flush, TLB
// flush), so a match is always safe to follow; a miss takes the ordinary lookup.
struct ReturnHint {
    uint64_t pc = ~0ull;
    const void* code = nullptr;
    uint32_t mode = ~0u;  // ~0u: empty (no frontend uses every mode bit)
    uint32_t reserved = 0;
    uint64_t reserved2 = 0;
};
static_assert(sizeof(ReturnHint) == 32);
constexpr unsigned kReturnHintEntries = 8;
// Generated code keeps the top as a byte offset in one byte, which wraps around by itself.
static_assert(kReturnHintEntries * sizeof(ReturnHint) == 256);

class Engine;

struct CpuCommon {
    uint64_t pc = 0;                         // guest pc whenever control is outside generated code
    std::atomic<uint32_t> exit_request{0};   // non-zero: leave generated code at the next block entry
    uint32_t mode = 0;                       // frontend mode bits, part of the block cache key
    uint64_t insn_count = 0;                 // executed guest instructions (when counting is enabled)
    // Set by the run loop when a helper raises a guest exception (see Engine::raise).
    uint32_t pending_cause = 0;
    // Bumped by every Engine::tlb_flush / tlb_flush_page, i.e. whenever a virtual-to-physical
    // mapping may have changed; lookup structures keyed by virtual pc compare it.
    uint32_t tlb_generation = 0;
    uint64_t pending_detail = 0;
    Engine* engine = nullptr;                // the engine running this CPU (for helpers)
    void* jit_scratch[4] = {};               // reserved for the backend (lookup table base etc.)
    TlbEntry tlb[kTlbEntries];
    // Return-stack hints (see ReturnHint): byte offset of the top entry, the ring, and how
    // many returns found / did not find their target on top (kept by generated code).
    uint8_t return_hint_top = 0;
    uint64_t return_hint_hits = 0;
    uint64_t return_hint_misses = 0;
    ReturnHint return_hints[kReturnHintEntries];
};

constexpr size_t kCpuTlbOffset = offsetof(CpuCommon, tlb);

}  // namespace corvid
