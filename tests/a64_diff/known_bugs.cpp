// The known_bugs list (see known_bugs.h). Every entry names the encoding it matches and what
// differs, so that the owner of frontends/a64 can reproduce it with CORVID_DIFF_REPLAY.
#include "tests/a64_diff/known_bugs.h"

namespace corvid::a64diff {
namespace {

constexpr KnownBug kKnownBugs[] = {
    // Found 2026-11-22 (seed 0xc0121d5eed, 1e6 run; replay CORVID_DIFF_REPLAY=0xf20f264b07aae40b).
    {"ldxp64_alignment",
     "LDXP/LDAXP Xt, Xt2, [Xn] (64-bit pair, e.g. 0xc87f728b ldxp x11, x28, [x20]) with Xn 8- but not "
     "16-byte aligned (x20 = 0x70003738): expected an Alignment fault (Arm ARM: the 128-bit exclusive "
     "access must be 16-byte aligned; Unicorn raises it), got a normal load of x11/x28 without fault "
     "(interp and JIT). 32-bit pairs (0x887f....) fault correctly at 4-but-not-8 alignment.",
     [](uint32_t w) { return (w & 0xffe00000u) == 0xc8600000u; }},
};

}  // namespace

std::span<const KnownBug> known_bugs() { return {kKnownBugs, std::size(kKnownBugs)}; }

const KnownBug* find_known_bug(uint32_t word) {
    for (const KnownBug& b : kKnownBugs) {
        if (b.matches(word)) return &b;
    }
    return nullptr;
}

}  // namespace corvid::a64diff
