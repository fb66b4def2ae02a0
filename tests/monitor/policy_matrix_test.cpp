// The policy matrix: every creation entry point x every level x a secure, an insecure and an
// undeclared type -> accepted, or rejected with the exact message.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "system/monitor/hmp.h"
#include "system/monitor/qmp.h"
#include "tests/monitor/test_types.h"

namespace corvid::testing {
namespace {

enum class Entry {
    kDeviceOption,
    kHmpDeviceAdd,
    kQmpDeviceAdd,
    kObjectOption,
    kHmpObjectAdd,
    kQmpObjectAdd,
    kChardevOption
};

const char* entry_name(Entry e) {
    switch (e) {
        case Entry::kDeviceOption: return "device_option";
        case Entry::kHmpDeviceAdd: return "hmp_device_add";
        case Entry::kQmpDeviceAdd: return "qmp_device_add";
        case Entry::kObjectOption: return "object_option";
        case Entry::kHmpObjectAdd: return "hmp_object_add";
        case Entry::kQmpObjectAdd: return "qmp_object_add";
        case Entry::kChardevOption: return "chardev_option";
    }
    return "?";
}

struct Level {
    const char* name;
    PolicyLevel level;
};
const Level kLevels[] = {{"accept", PolicyLevel::kAccept},
                         {"warn", PolicyLevel::kWarn},
                         {"prohibit_insecure", PolicyLevel::kProhibitInsecure},
                         {"require_secure", PolicyLevel::kRequireSecure}};

// The expected outcome, written out per level (not derived from the code under test):
// "" = accepted, else the exact rejection message for type `name`.
std::string expected_rejection(PolicyLevel level, Security s, const std::string& name) {
    if (level == PolicyLevel::kProhibitInsecure && s == Security::kInsecure) {
        return "Type '" + name + "' is declared as insecure";
    }
    if (level == PolicyLevel::kRequireSecure && s != Security::kSecure) {
        return "Type '" + name + "' is not declared as secure";
    }
    return "";
}

struct Case {
    Entry entry;
    Level level;
    Statement statement;
};

class PolicyMatrix : public ::testing::TestWithParam<Case> {};

// Runs the entry point; returns "" when accepted, else the error message as that entry point
// words it (HMP "Error: ...", QMP GenericError desc, command line error text).
std::string attempt(TestVm& t, Entry e, const std::string& type) {
    switch (e) {
        case Entry::kDeviceOption: {
            auto opts = OptionList::parse(type + ",id=d0", "driver");
            auto r = t.vm->check_device(*opts);
            if (!r) return r.error();
            auto st = t.vm->add_device(*opts, false);
            return st ? "" : st.error();
        }
        case Entry::kHmpDeviceAdd:
        case Entry::kHmpObjectAdd: {
            Hmp hmp(*t.vm);
            std::string out = e == Entry::kHmpDeviceAdd ? hmp.execute("device_add " + type + ",id=d0")
                                                        : hmp.execute("object_add " + type + ",id=o0");
            if (out.empty()) return "";
            EXPECT_EQ(out.rfind("Error: ", 0), 0u) << out;
            EXPECT_EQ(out.back(), '\n');
            return out.substr(7, out.size() - 8);
        }
        case Entry::kQmpDeviceAdd:
        case Entry::kQmpObjectAdd: {
            QmpSession s(*t.vm, [](const std::string&) {});
            EXPECT_TRUE(s.handle(Json{{"execute", "qmp_capabilities"}}).contains("return"));
            Json req = e == Entry::kQmpDeviceAdd
                           ? Json{{"execute", "device_add"}, {"arguments", {{"driver", type}, {"id", "d0"}}}}
                           : Json{{"execute", "object-add"}, {"arguments", {{"qom-type", type}, {"id", "o0"}}}};
            Json r = s.handle(req);
            if (r.contains("return")) return "";
            EXPECT_EQ(r["error"]["class"], "GenericError");
            return r["error"]["desc"].get<std::string>();
        }
        case Entry::kObjectOption: {
            auto opts = OptionList::parse(type + ",id=o0", "qom-type");
            auto st = t.vm->add_object(*opts);
            return st ? "" : st.error();
        }
        case Entry::kChardevOption: {
            std::string backend = type.substr(std::string("chardev-").size());
            auto opts = OptionList::parse(backend + ",id=c0", "backend");
            auto r = t.vm->add_chardev(*opts);
            return r ? "" : r.error();
        }
    }
    return "?";
}

std::string type_for(Entry e, const Statement& s) {
    switch (e) {
        case Entry::kDeviceOption:
        case Entry::kHmpDeviceAdd:
        case Entry::kQmpDeviceAdd: return std::string("test-dev-") + s.suffix;
        case Entry::kObjectOption:
        case Entry::kHmpObjectAdd:
        case Entry::kQmpObjectAdd: return std::string("test-obj-") + s.suffix;
        case Entry::kChardevOption: return std::string("chardev-test-") + s.suffix;
    }
    return "";
}

TEST_P(PolicyMatrix, AcceptOrRejectWithExactMessage) {
    const Case& c = GetParam();
    TestVm t(c.level.level);
    std::string type = type_for(c.entry, c.statement);
    std::string want = expected_rejection(c.level.level, c.statement.security, type);
    std::string got = attempt(t, c.entry, type);
    EXPECT_EQ(got, want);

    // Accepted objects are in the configuration; rejected ones are not.
    size_t count = t.vm->devices().size() + t.vm->objects().size() + t.vm->chardevs().size();
    EXPECT_EQ(count, want.empty() ? 1u : 0u);

    // warn: one warning per type not declared secure, with the same wording.
    if (c.level.level == PolicyLevel::kWarn && c.statement.security != Security::kSecure) {
        std::string w = c.statement.security == Security::kInsecure ? "Type '" + type + "' is declared as insecure"
                                                                    : "Type '" + type + "' is not declared as secure";
        EXPECT_EQ(t.warnings, std::vector<std::string>{w});
    } else {
        EXPECT_TRUE(t.warnings.empty());
    }
}

std::vector<Case> all_cases() {
    std::vector<Case> out;
    for (Entry e : {Entry::kDeviceOption, Entry::kHmpDeviceAdd, Entry::kQmpDeviceAdd, Entry::kObjectOption,
                    Entry::kHmpObjectAdd, Entry::kQmpObjectAdd, Entry::kChardevOption}) {
        for (const Level& l : kLevels) {
            for (const Statement& s : kStatements) out.push_back({e, l, s});
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Monitor, PolicyMatrix, ::testing::ValuesIn(all_cases()), [](const auto& info) {
    return fmt::format("{}_{}_{}", entry_name(info.param.entry), info.param.level.name, info.param.statement.suffix);
});

}  // namespace
}  // namespace corvid::testing
