// QEMU-style option strings: "value,key=value,flag,key=a,,b" (",," escapes a comma).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace corvid {

struct OptionList {
    std::vector<std::pair<std::string, std::string>> items;  // in order; a bare word has key ""

    // Parses; `implied_key` names the key of a leading bare word (e.g. "type" for -machine).
    static Result<OptionList> parse(std::string_view text, std::string_view implied_key = {});

    std::optional<std::string> get(std::string_view key) const;
    bool has(std::string_view key) const { return get(key).has_value(); }
};

// "on|off|yes|no" (QEMU also accepts true/false): a boolean property value.
Result<bool> parse_bool_property(std::string_view key, std::string_view value);

// Sizes with an optional K/M/G/T suffix (default unit given in bytes), as -m takes them.
Result<uint64_t> parse_size(std::string_view text, uint64_t default_unit);

}  // namespace corvid
