// The A64 decode table rows (masks computed at compile time) and the decoder that picks one.
#include "frontends/a64/decode_table.h"

#include <algorithm>
#include <array>
#include <vector>

namespace corvid {
namespace {

constexpr A64Encoding kEncodings[] = {
#define INST(name, desc, pattern, handler)                                                        \
    {#name, desc, pattern, a64_detail::pattern_bits(pattern, true), a64_detail::pattern_bits(pattern, false), \
     #handler},
#include "frontends/a64/decode_table.inc"
#undef INST
};
static_assert(std::size(kEncodings) == size_t(A64Op::kCount));

// Rows bucketed by bits 28:25 (the top-level "op0" group of the architecture), each bucket
// sorted by decreasing specificity so that the first match is the most specific one.
constexpr unsigned kBucketShift = 25;
constexpr uint32_t kBucketBits = 0xf;

struct Buckets {
    std::array<std::vector<uint16_t>, 16> rows;

    Buckets() {
        for (uint32_t b = 0; b < 16; ++b) {
            for (size_t i = 0; i < std::size(kEncodings); ++i) {
                const A64Encoding& e = kEncodings[i];
                uint32_t m = (e.mask >> kBucketShift) & kBucketBits;
                uint32_t v = (e.value >> kBucketShift) & kBucketBits;
                if ((b & m) == v) rows[b].push_back(uint16_t(i));
            }
            std::stable_sort(rows[b].begin(), rows[b].end(), [](uint16_t a, uint16_t c) {
                return a64_specificity(kEncodings[a]) > a64_specificity(kEncodings[c]);
            });
        }
    }
};

const Buckets& buckets() {
    static const Buckets b;
    return b;
}

}  // namespace

std::span<const A64Encoding> a64_encodings() { return {kEncodings, std::size(kEncodings)}; }

A64Op a64_decode(uint32_t insn) {
    for (uint16_t i : buckets().rows[(insn >> kBucketShift) & kBucketBits]) {
        if ((insn & kEncodings[i].mask) == kEncodings[i].value) return A64Op(i);
    }
    return A64Op::kCount;
}

}  // namespace corvid
