// The known_bugs list (see known_bugs.h). Every entry names the encoding it matches and what
// differs, so that the owner of frontends/x86 can reproduce it with CORVID_DIFF_REPLAY.
#include "tests/x86_diff/known_bugs.h"

#include <iterator>

namespace corvid::x86diff {
namespace {

constexpr KnownBug kKnownBugs[] = {
    // All found 2026-11-22 with seed 0xc0121d5eed (CORVID_DIFF_COUNT=400000); the replay seeds
    // reproduce them with CORVID_DIFF_REPLAY=<seed> build/tests/test_x86_diff --gtest_filter='*Replay*'.
    {"push_rm_66_rexw",
     "PUSH r/m (FF /6) with both 66 and REX.W, e.g. 66 49 ff f0 (push r8) or 66 48 ff 70 7e (push [rax+0x7e]): "
     "REX.W wins over 66 (SDM 2.2.1.2), so 8 bytes are pushed and RSP drops by 8 (Unicorn, host CPU); Corvid "
     "pushes a 16-bit word, RSP drops by 2 (rsp expected 0x2019c0 got 0x2019c6; replay 0x92f876098cc4277). "
     "Not required ISA. PUSH r (50+r) and POP with the same prefixes agree.",
     [](const uint8_t* p, size_t n) {
         const InsnShape s = shape_of(p, n);
         return s.map == 0 && s.op == 0xff && s.reg() == 6 && s.p66 && (s.rex & 8);
     }},
    {"pop_rm_rsp_base",
     "POP r/m64 (8F /0) whose address uses RSP as base, e.g. 8f 04 64 (pop qword [rsp]): the SDM computes the "
     "address after RSP is incremented (Unicorn writes the popped value at the new RSP 0x2094a0); Corvid uses "
     "the old RSP (writes it back at 0x209498; replay 0xdc5b2dce65d849e0). Not required ISA.",
     [](const uint8_t* p, size_t n) {
         const InsnShape s = shape_of(p, n);
         return s.map == 0 && s.op == 0x8f && s.reg() == 0 && s.mem() && (s.modrm & 7) == 4 && s.sib >= 0 &&
                (s.sib & 7) == 4 && !(s.rex & 1);
     }},
    {"cmpxchg16b_misaligned",
     "CMPXCHG16B m128 (REX.W 0F C7 /1) with an operand that is not 16-byte aligned, e.g. 49 0f c7 09 "
     "(cmpxchg16b [r9], r9 = 0x203a6e): SDM #GP(0) (Unicorn raises it); Corvid performs the compare-exchange "
     "without a fault (replay 0xa11dd5846d1e9333). Not required ISA (cmpxchg8b/16b).",
     [](const uint8_t* p, size_t n) {
         const InsnShape s = shape_of(p, n);
         return s.map == 1 && s.op == 0xc7 && s.reg() == 1 && s.mem() && (s.rex & 8);
     }},
    {"grp15_66_prefix_accepted",
     "66 0F AE F8..FF (66 + the SFENCE register form; PCOMMIT, not in either CPU model): expected #UD "
     "(Unicorn raises it); Corvid ignores the 66 and executes SFENCE (e.g. 66 0f ae f8; replay "
     "0x25f56abc1b222440). Not required ISA.",
     [](const uint8_t* p, size_t n) {
         const InsnShape s = shape_of(p, n);
         return s.map == 1 && s.op == 0xae && s.p66 && s.modrm >= 0xf8;
     }},
};

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
    return {kKnownBugs, std::size(kKnownBugs)};
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
