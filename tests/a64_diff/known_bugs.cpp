// The known_bugs list (see known_bugs.h). Every entry names the encoding it matches and what
// differs, so that the owner of frontends/a64 can reproduce it with CORVID_DIFF_REPLAY.
#include "tests/a64_diff/known_bugs.h"

#include <array>

namespace corvid::a64diff {
namespace {

// Fixed and removed: ldxp64_alignment (64-bit LDXP/LDAXP must be 16-byte aligned).
// Add entries as {id, description, matcher}; std::array allows the list to be empty.
constexpr std::array<KnownBug, 0> kKnownBugs{};

}  // namespace

std::span<const KnownBug> known_bugs() { return {kKnownBugs.data(), kKnownBugs.size()}; }

const KnownBug* find_known_bug(uint32_t word) {
    for (const KnownBug& b : kKnownBugs) {
        if (b.matches(word)) return &b;
    }
    return nullptr;
}

}  // namespace corvid::a64diff
