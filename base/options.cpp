// Parser for QEMU-style comma-separated option strings.
#include "base/options.h"

#include <cstdint>

#include <fmt/format.h>

namespace corvid {

Result<OptionList> OptionList::parse(std::string_view text, std::string_view implied_key) {
    OptionList out;
    size_t i = 0;
    bool first = true;
    while (i <= text.size()) {
        // Read one item up to an unescaped comma.
        std::string item;
        while (i < text.size()) {
            if (text[i] == ',') {
                if (i + 1 < text.size() && text[i + 1] == ',') {
                    item += ',';
                    i += 2;
                    continue;
                }
                break;
            }
            item += text[i++];
        }
        ++i;  // skip the comma (or step past the end)
        if (item.empty()) {
            if (i > text.size()) break;
            first = false;
            continue;
        }
        size_t eq = item.find('=');
        if (eq == std::string::npos) {
            if (first && !implied_key.empty()) {
                out.items.emplace_back(std::string(implied_key), item);
            } else {
                out.items.emplace_back(item, "");
            }
        } else {
            std::string key = item.substr(0, eq);
            if (key.empty()) return make_error(fmt::format("Invalid parameter '{}'", item));
            out.items.emplace_back(key, item.substr(eq + 1));
        }
        first = false;
    }
    return out;
}

std::optional<std::string> OptionList::get(std::string_view key) const {
    std::optional<std::string> v;
    for (const auto& [k, val] : items) {
        if (k == key) v = val;  // the last one wins, as in QEMU
    }
    return v;
}

Result<bool> parse_bool_property(std::string_view key, std::string_view value) {
    if (value == "on" || value == "yes" || value == "true" || value.empty()) return true;
    if (value == "off" || value == "no" || value == "false") return false;
    return make_error(fmt::format("Parameter '{}' expects 'on', 'off', 'yes' or 'no'", key));
}

Result<uint64_t> parse_size(std::string_view text, uint64_t default_unit) {
    if (text.empty()) return make_error("empty size");
    uint64_t value = 0;
    size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        uint64_t digit = uint64_t(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10) return make_error(fmt::format("size '{}' is too large", text));
        value = value * 10 + digit;
        ++i;
    }
    if (i == 0) return make_error(fmt::format("invalid size '{}'", text));
    uint64_t unit = default_unit;
    if (i < text.size()) {
        switch (text[i]) {
            case 'b': case 'B': unit = 1; break;
            case 'k': case 'K': unit = 1ull << 10; break;
            case 'm': case 'M': unit = 1ull << 20; break;
            case 'g': case 'G': unit = 1ull << 30; break;
            case 't': case 'T': unit = 1ull << 40; break;
            default: return make_error(fmt::format("invalid size '{}'", text));
        }
        ++i;
        if (i != text.size()) return make_error(fmt::format("invalid size '{}'", text));
    }
    if (value != 0 && unit > UINT64_MAX / value) return make_error(fmt::format("size '{}' is too large", text));
    return value * unit;
}

}  // namespace corvid
