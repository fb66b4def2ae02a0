// The x86 differential fuzzing loop: generate a case, run it on Unicorn and on Corvid's
// interpreter and JIT from the same state, compare, and report mismatches reproducibly.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace corvid::x86diff {

struct FuzzOptions {
    uint64_t seed = 0;
    uint32_t shard = 0;
    uint64_t count = 0;       // cases
    size_t max_printed = 20;  // full reports of unexpected mismatches
    bool verbose = false;     // print every case (replay)
    uint64_t inject_xor = 0;  // self-test: perturb Corvid's initial RAX..R15 by this
};

struct FuzzResult {
    uint64_t cases = 0;
    uint64_t instructions = 0;
    uint64_t compared = 0;  // cases whose end state was compared (no fault on either side)
    uint64_t both_faulted = 0;
    uint64_t unverifiable = 0;   // Unicorn looped in the test code / ran out of instructions
    uint64_t unimplemented = 0;  // Corvid #UD where Unicorn executes (not required ISA)
    uint64_t mismatches = 0;     // unexpected
    uint64_t known_bug_hits = 0;
    uint64_t unicorn_restarts = 0;  // Unicorn engines replaced after a no-progress success
    std::map<std::string, uint64_t> known_by_id;
    std::map<std::string, uint64_t> mismatches_by_row;
    std::map<std::string, uint64_t> unimplemented_by_row;
    std::map<std::string, uint64_t> compared_by_row;  // first instruction's row, compared in full
    std::set<uint16_t> compared_ops;                  // map << 8 | opcode of compared first rows
    std::string report;                               // printed mismatch reports
    std::string known_report;                         // one example per known bug
    std::string setup_error;                          // Unicorn could not be set up
};

// Mixes the run seed, shard and case index into a case seed (what CORVID_DIFF_REPLAY takes).
uint64_t case_seed(uint64_t seed, uint32_t shard, uint64_t index);

FuzzResult run_fuzz(const FuzzOptions& options);
// Runs one case by its case seed and describes it, its outcomes and any differences.
std::string replay_case(uint64_t case_seed);

}  // namespace corvid::x86diff
