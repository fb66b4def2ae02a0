// Security policy levels and the single creation check.
#include "policy/policy.h"

#include <fmt/format.h>

namespace corvid {

const char* policy_level_name(PolicyLevel level) {
    switch (level) {
        case PolicyLevel::kAccept: return "accept";
        case PolicyLevel::kWarn: return "warn";
        case PolicyLevel::kProhibitInsecure: return "prohibit-insecure";
        case PolicyLevel::kRequireSecure: return "require-secure";
    }
    return "accept";
}

std::string policy_message(const TypeInfo& type, PolicyLevel level) {
    switch (level) {
        case PolicyLevel::kAccept: return {};
        case PolicyLevel::kProhibitInsecure:
            if (type.security == Security::kInsecure) return fmt::format("Type '{}' is declared as insecure", type.name);
            return {};
        case PolicyLevel::kWarn:
            if (type.security == Security::kInsecure) return fmt::format("Type '{}' is declared as insecure", type.name);
            if (type.security == Security::kUndeclared) return fmt::format("Type '{}' is not declared as secure", type.name);
            return {};
        case PolicyLevel::kRequireSecure:
            if (type.security != Security::kSecure) return fmt::format("Type '{}' is not declared as secure", type.name);
            return {};
    }
    return {};
}

Result<PolicyLevel> PolicySettings::level() const {
    if (require_secure && prohibit_insecure) {
        return make_error("Properties 'require-secure' and 'prohibit-insecure' cannot both be enabled");
    }
    PolicyLevel machine = require_secure      ? PolicyLevel::kRequireSecure
                          : prohibit_insecure ? PolicyLevel::kProhibitInsecure
                                              : PolicyLevel::kAccept;
    // The strictest setting wins when both -machine and -compat speak.
    return machine > compat ? machine : compat;
}

Result<PolicyLevel> parse_insecure_types(std::string_view value) {
    if (value == "accept") return PolicyLevel::kAccept;
    if (value == "warn") return PolicyLevel::kWarn;
    if (value == "reject") return PolicyLevel::kRequireSecure;
    return make_error(fmt::format("Parameter 'insecure-types' does not accept value '{}' (expected 'accept', 'warn' or 'reject')", value));
}

bool Policy::allows(const TypeInfo& type, PolicyLevel level) {
    switch (level) {
        case PolicyLevel::kAccept:
        case PolicyLevel::kWarn: return true;
        case PolicyLevel::kProhibitInsecure: return type.security != Security::kInsecure;
        case PolicyLevel::kRequireSecure: return type.security == Security::kSecure;
    }
    return true;
}

Status Policy::check(const TypeInfo& type) {
    if (level_ == PolicyLevel::kWarn) {
        std::string msg = policy_message(type, level_);
        if (!msg.empty() && warned_.insert(type.name).second && warn_) warn_(msg);
        return {};
    }
    if (allows(type, level_)) return {};
    return make_error(policy_message(type, level_));
}

}  // namespace corvid
