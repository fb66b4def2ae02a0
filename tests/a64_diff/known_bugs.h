// Known Corvid A64 frontend bugs found by the differential fuzzer, not fixed yet. Cases that
// hit one are counted and reported loudly instead of failing the CI test.
#pragma once

#include <cstdint>
#include <span>

namespace corvid::a64diff {

struct KnownBug {
    const char* id;           // short name used in the report
    const char* description;  // instruction, expected (Unicorn / Arm ARM) vs got (Corvid)
    bool (*matches)(uint32_t word);
};

std::span<const KnownBug> known_bugs();
// The first known bug that `word` can trigger, or nullptr.
const KnownBug* find_known_bug(uint32_t word);

}  // namespace corvid::a64diff
