// The policy check: every level against a secure, an insecure and an undeclared type.
#include <gtest/gtest.h>

#include "policy/policy.h"

namespace corvid {
namespace {

TypeInfo named(const char* name, Security sec) {
    TypeInfo t;
    t.name = name;
    t.security = sec;
    return t;
}

struct Case {
    PolicyLevel level;
    Security security;
    bool allowed;
    const char* message;  // error (rejected) or warning (warn level), "" for silence
};

TEST(Policy, MatrixOfLevelsAndStatements) {
    const Case cases[] = {
        {PolicyLevel::kAccept, Security::kSecure, true, ""},
        {PolicyLevel::kAccept, Security::kInsecure, true, ""},
        {PolicyLevel::kAccept, Security::kUndeclared, true, ""},
        {PolicyLevel::kWarn, Security::kSecure, true, ""},
        {PolicyLevel::kWarn, Security::kInsecure, true, "Type 't' is declared as insecure"},
        {PolicyLevel::kWarn, Security::kUndeclared, true, "Type 't' is not declared as secure"},
        {PolicyLevel::kProhibitInsecure, Security::kSecure, true, ""},
        {PolicyLevel::kProhibitInsecure, Security::kInsecure, false, "Type 't' is declared as insecure"},
        {PolicyLevel::kProhibitInsecure, Security::kUndeclared, true, ""},
        {PolicyLevel::kRequireSecure, Security::kSecure, true, ""},
        {PolicyLevel::kRequireSecure, Security::kInsecure, false, "Type 't' is not declared as secure"},
        {PolicyLevel::kRequireSecure, Security::kUndeclared, false, "Type 't' is not declared as secure"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(policy_level_name(c.level)) + " / " + security_name(c.security));
        TypeInfo t = named("t", c.security);
        Policy p(c.level);
        std::vector<std::string> warnings;
        p.set_warning_sink([&](const std::string& w) { warnings.push_back(w); });
        Status st = p.check(t);
        EXPECT_EQ(st.ok(), c.allowed);
        EXPECT_EQ(Policy::allows(t, c.level), c.allowed);
        if (!c.allowed) {
            EXPECT_EQ(st.error(), c.message);
            EXPECT_TRUE(warnings.empty());
        } else if (c.level == PolicyLevel::kWarn && *c.message) {
            ASSERT_EQ(warnings.size(), 1u);
            EXPECT_EQ(warnings[0], c.message);
        } else {
            EXPECT_TRUE(warnings.empty());
        }
    }
}

TEST(Policy, WarnsOncePerType) {
    TypeInfo t = named("tcg-accel", Security::kInsecure);
    Policy p(PolicyLevel::kWarn);
    int n = 0;
    p.set_warning_sink([&](const std::string&) { ++n; });
    EXPECT_TRUE(p.check(t).ok());
    EXPECT_TRUE(p.check(t).ok());
    EXPECT_EQ(n, 1);
}

TEST(PolicySettings, CombinesMachinePropertiesAndCompat) {
    PolicySettings s;
    EXPECT_EQ(s.level().value(), PolicyLevel::kAccept);
    s.prohibit_insecure = true;
    EXPECT_EQ(s.level().value(), PolicyLevel::kProhibitInsecure);
    s.compat = PolicyLevel::kRequireSecure;
    EXPECT_EQ(s.level().value(), PolicyLevel::kRequireSecure);
    s.require_secure = true;
    auto both = s.level();
    ASSERT_FALSE(both.ok());
    EXPECT_NE(both.error().find("cannot both be enabled"), std::string::npos);
}

TEST(PolicySettings, ParsesInsecureTypes) {
    EXPECT_EQ(parse_insecure_types("accept").value(), PolicyLevel::kAccept);
    EXPECT_EQ(parse_insecure_types("warn").value(), PolicyLevel::kWarn);
    EXPECT_EQ(parse_insecure_types("reject").value(), PolicyLevel::kRequireSecure);
    auto bad = parse_insecure_types("deny");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("'insecure-types'"), std::string::npos);
    EXPECT_NE(bad.error().find("'accept', 'warn' or 'reject'"), std::string::npos);
}

}  // namespace
}  // namespace corvid
