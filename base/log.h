// Logging grouped by the QEMU-style `-d` categories, written through spdlog to stderr or `-D file`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "base/result.h"

namespace corvid::log {

enum Category : uint32_t {
    kInAsm = 1u << 0,
    kOp = 1u << 1,
    kOpOpt = 1u << 2,
    kOutAsm = 1u << 3,
    kExec = 1u << 4,
    kInt = 1u << 5,
    kGuestErrors = 1u << 6,
    kUnimp = 1u << 7,
    kCpu = 1u << 8,
};

struct CategoryInfo {
    const char* name;
    uint32_t mask;
    const char* help;
};

// All categories, for `-d help` and parsing.
const CategoryInfo* categories(size_t* count);

// Parses "in_asm,op,..." (or "help" handled by the caller) into a mask.
Result<uint32_t> parse_categories(std::string_view list);

void set_mask(uint32_t mask);
uint32_t mask();
inline bool enabled(uint32_t cat) { return (mask() & cat) != 0; }

// Redirect the log to a file (`-D`); empty path means stderr.
Status set_file(const std::string& path);

// Writes one already formatted message (a trailing newline is not required).
void write(std::string_view text);

template <typename... Args>
void logf(uint32_t cat, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(cat)) write(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace corvid::log
