// Known Corvid x86 frontend bugs found by the differential fuzzer, not fixed yet. Cases that
// hit one are counted and reported loudly instead of failing the CI test.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace corvid::x86diff {

struct KnownBug {
    const char* id;           // short name used in the report
    const char* description;  // instruction bytes, expected (Unicorn / SDM) vs got (Corvid)
    // Whether the instruction (its bytes, prefixes included) can trigger the bug.
    bool (*matches)(const uint8_t* insn, size_t len);
};

std::span<const KnownBug> known_bugs();
// The first known bug that one of the case's instructions can trigger, or nullptr.
const KnownBug* find_known_bug(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& lengths);

// Splits an instruction into legacy prefixes, REX, map and opcode (for matchers).
struct InsnShape {
    bool p66 = false, f2 = false, f3 = false, lock = false, p67 = false;
    uint8_t rex = 0;
    unsigned map = 0;  // 0 primary, 1 0F, 2 0F38, 3 0F3A
    uint8_t op = 0;
    int modrm = -1;  // the byte after the opcode, or -1
    int sib = -1;    // the byte after ModRM, or -1
    unsigned reg() const { return unsigned(modrm >> 3) & 7; }
    bool mem() const { return modrm >= 0 && (modrm >> 6) != 3; }
};
InsnShape shape_of(const uint8_t* insn, size_t len);

}  // namespace corvid::x86diff
