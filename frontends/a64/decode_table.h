// The A64 decode table as data: one row per encoding (name, pattern, mask, value), for the
// translator, the disassembly names, and random-instruction generators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace corvid {

struct A64Encoding {
    const char* name;         // e.g. "ADD_imm"
    const char* description;  // e.g. "ADD (immediate)"
    const char* pattern;      // 32 chars, bit 31 first; '0'/'1' fixed, letters are operand bits
    uint32_t mask;            // fixed bits
    uint32_t value;           // their values: insn matches iff (insn & mask) == value
    const char* handler;      // name of the translate function the row is bound to
};

namespace a64_detail {

template <size_t N>
consteval uint32_t pattern_bits(const char (&p)[N], bool want_mask) {
    if (N != 33) throw "A64 decode pattern must have 32 characters";
    uint32_t r = 0;
    for (size_t i = 0; i < 32; ++i) {
        const uint32_t bit = 1u << (31 - i);
        if (p[i] == '0' || p[i] == '1') {
            if (want_mask || p[i] == '1') r |= bit;
        }
    }
    return r;
}

}  // namespace a64_detail

// Row ids, in table order.
enum class A64Op : uint16_t {
#define INST(name, desc, pattern, handler) name,
#include "frontends/a64/decode_table.inc"
#undef INST
    kCount
};

// All rows, in table order (index == A64Op value).
std::span<const A64Encoding> a64_encodings();

// The row that decodes `insn` (most fixed bits wins), or A64Op::kCount when none matches.
A64Op a64_decode(uint32_t insn);

// Number of fixed bits of a row: the decoder's specificity measure.
inline unsigned a64_specificity(const A64Encoding& e) { return unsigned(__builtin_popcount(e.mask)); }

}  // namespace corvid
