// A TranslateContext over guest code held in host memory, for tests, benchmarks and tools:
// the bytes stand at guest address `base`; nothing outside them can be fetched.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "translator/frontend.h"

namespace corvid {

class BytesContext final : public TranslateContext {
public:
    // `code` must outlive the context.
    BytesContext(ir::Builder& b, uint64_t base, std::span<const uint8_t> code) : base_(base), code_(code) {
        builder_ = &b;
    }
    bool fetch(uint64_t va, void* out, unsigned size) override {
        if (va < base_ || va - base_ > code_.size() || size > code_.size() - (va - base_)) return false;
        std::memcpy(out, code_.data() + (va - base_), size);
        return true;
    }

private:
    uint64_t base_;
    std::span<const uint8_t> code_;
};

}  // namespace corvid
