// The known_bugs list (see known_bugs.h). Every entry names the encoding it matches and what
// differs, so that the owner of frontends/x86 can reproduce it with CORVID_DIFF_REPLAY.
#include "tests/x86_diff/known_bugs.h"

#include <array>

namespace corvid::x86diff {
namespace {

// Empty: the last four (push_rm_66_rexw, pop_rm_rsp_base, cmpxchg16b_misaligned,
// grp15_66_prefix_accepted, found with seed 0xc0121d5eed) are fixed and checked by the shards
// again. A new entry: {"id", "encoding, expected vs got, replay seed", matcher}, where the
// matcher takes the instruction bytes (see shape_of) and the replay seed reproduces it with
// CORVID_DIFF_REPLAY=<seed> build/tests/test_x86_diff --gtest_filter='*Replay*'.
constexpr std::array<KnownBug, 0> kKnownBugs{};

}  // namespace

InsnShape shape_of(const uint8_t* p, size_t len) {
    InsnShape s;
    size_t i = 0;
    for (; i < len; ++i) {
        const uint8_t b = p[i];
        if (b == 0x66)
            s.p66 = true;
        else if (b == 0x67)
            s.p67 = true;
        else if (b == 0xf2)
            s.f2 = true;
        else if (b == 0xf3)
            s.f3 = true;
        else if (b == 0xf0)
            s.lock = true;
        else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65)
            continue;
        else
            break;
    }
    if (i < len && (p[i] & 0xf0) == 0x40) s.rex = p[i++];
    if (i < len && p[i] == 0x0f) {
        ++i;
        s.map = 1;
        if (i < len && (p[i] == 0x38 || p[i] == 0x3a)) s.map = p[i++] == 0x38 ? 2 : 3;
    }
    if (i < len) s.op = p[i++];
    if (i < len) s.modrm = p[i++];
    if (i < len) s.sib = p[i];
    return s;
}

std::span<const KnownBug> known_bugs() {
    return {kKnownBugs.data(), kKnownBugs.size()};
}

const KnownBug* find_known_bug(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& lengths) {
    size_t off = 0;
    for (uint8_t len : lengths) {
        for (const KnownBug& b : kKnownBugs) {
            if (b.matches(bytes.data() + off, len)) return &b;
        }
        off += len;
    }
    return nullptr;
}

}  // namespace corvid::x86diff
