// Random A64 test cases drawn from the decode table: a row is picked, its operand bits are
// filled at random, and the register state is steered so that memory operands hit the data
// window. Everything is a pure function of a 64-bit case seed, so any case can be replayed.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "frontends/a64/decode_table.h"
#include "tests/a64_diff/diff_types.h"

namespace corvid::a64diff {

enum class Treatment {
    kCompare,    // full state comparison
    kFaultOnly,  // both sides must fault; state is not compared
    kSkip,       // never generated (see the reason)
};

// The named do-not-test list: rows that are not compared in full, each with the reason.
struct RowPolicy {
    const char* row;
    Treatment treatment;
    const char* reason;
};
std::span<const RowPolicy> row_policies();
Treatment row_treatment(A64Op op);

struct TestCase {
    uint64_t seed = 0;
    std::vector<uint32_t> words;  // run from kSlot, in order
    std::vector<A64Op> ops;
    ArchState init;               // pc = kSlot
    bool fault_only = false;      // some instruction is kFaultOnly
    bool unallocated = false;     // one word that no decode row matches (ops[0] == kCount)
};

class InsnGenerator {
public:
    InsnGenerator();
    // The case for `seed`: one instruction, or (a quarter of the time) a short straight-line
    // sequence of 2-4 whose last one may branch, or (one time in 16) one unallocated word.
    TestCase make_case(uint64_t seed) const;
    // One instruction word of row `op` with random operand bits (reserved combinations that
    // are architecturally CONSTRAINED UNPREDICTABLE are re-drawn).
    uint32_t random_word(A64Op op, std::mt19937_64& rng) const;
    size_t eligible_rows() const { return rows_.size(); }

private:
    std::vector<A64Op> rows_;           // every row that is not kSkip
    std::vector<A64Op> straight_rows_;  // those that never branch (for sequence heads)
};

// Name of a row ("ADD_imm"), or "undecoded".
std::string row_name(uint32_t word);

}  // namespace corvid::a64diff
