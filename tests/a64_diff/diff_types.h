// Shared definitions of the A64 differential fuzzer: the guest memory layout that Corvid and
// Unicorn both map, the architectural state that is compared, and one run's outcome.
#pragma once

#include <cstdint>
#include <string>

namespace corvid::a64diff {

// Code: 2 MiB, read-only to the guest, filled with WFI so that every branch target inside it
// halts Corvid's run loop. The instruction(s) under test sit in the middle so that CBZ, B.cond
// and TBZ reach both directions; B/BL mostly leave it (an instruction abort on both sides).
constexpr uint64_t kCodeBase = 0x4000'0000;
constexpr uint64_t kCodeSize = 2u << 20;
constexpr uint64_t kSlot = kCodeBase + (1u << 20);
// Corvid's exception vectors, far away from every PC-relative reach of kSlot.
constexpr uint64_t kVectorBase = 0x3000'0000;
constexpr uint64_t kVectorSize = 0x1000;
// The data window that memory operands are steered into, and that is compared after a run
// (not at 0x8000'0000, one of the generator's special register values).
constexpr uint64_t kDataBase = 0x7000'0000;
constexpr uint64_t kDataSize = 64u << 10;

constexpr uint32_t kWfiWord = 0xd503207f;
constexpr uint32_t kClrexWord = 0xd503305f;

struct ArchState {
    uint64_t x[31] = {};
    uint64_t sp = 0;
    uint64_t pc = 0;
    uint32_t nzcv = 0;  // N Z C V in bits 3..0
};

// How a run ended. kOk includes branches whose target could not be fetched: both sides then
// stop with the pc at the target (Unicorn: UC_ERR_FETCH_*, Corvid: instruction abort or pc
// alignment fault with ELR = target) and the state is comparable.
struct Outcome {
    enum class Kind { kOk, kFault } kind = Kind::kOk;
    ArchState state;
    std::string fault;  // what faulted, for messages
    uint64_t esr = 0;   // Corvid's ESR_EL1 / ELR_EL1 for an exception (0 for Unicorn)
    uint64_t elr = 0;
};

}  // namespace corvid::a64diff
