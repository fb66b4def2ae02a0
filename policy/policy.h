// The security policy: levels, their command-line syntax, and the one check that every
// creation path (machine, accelerator, -device, device_add, -object, -chardev, ...) calls.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"
#include "object/type_registry.h"

namespace corvid {

enum class PolicyLevel : uint8_t { kAccept, kWarn, kProhibitInsecure, kRequireSecure };

const char* policy_level_name(PolicyLevel level);  // "accept", "warn", "prohibit-insecure", "require-secure"

// The message a type gets at a level, or none if it passes silently.
//   prohibit-insecure: "Type 'X' is declared as insecure"
//   require-secure:    "Type 'X' is not declared as secure"
std::string policy_message(const TypeInfo& type, PolicyLevel level);

// Where the level comes from: -machine require-secure=/prohibit-insecure= and -compat.
struct PolicySettings {
    bool require_secure = false;
    bool prohibit_insecure = false;
    PolicyLevel compat = PolicyLevel::kAccept;  // -compat insecure-types=

    Result<PolicyLevel> level() const;  // error when both machine properties are on
};

// Parses the value of -compat insecure-types=.
Result<PolicyLevel> parse_insecure_types(std::string_view value);

class Policy {
public:
    explicit Policy(PolicyLevel level = PolicyLevel::kAccept) : level_(level) {}

    PolicyLevel level() const { return level_; }
    void set_level(PolicyLevel level) { level_ = level; }

    // Warnings go here (the command line prints "<prog>: warning: <msg>"; monitors may differ).
    void set_warning_sink(std::function<void(const std::string&)> sink) { warn_ = std::move(sink); }

    // THE check. Accept: ok. Warn: ok, one warning per type not declared secure (once per type).
    // Prohibit-insecure / require-secure: an error with the exact message when rejected.
    Status check(const TypeInfo& type);

    // Would this type pass at this level (no warnings emitted)?
    static bool allows(const TypeInfo& type, PolicyLevel level);

private:
    PolicyLevel level_;
    std::function<void(const std::string&)> warn_;
    std::set<std::string> warned_;
};

}  // namespace corvid
