// Test-only types (never in the product): a secure, an insecure and an undeclared device,
// object and chardev, and a Vm around a registry that holds them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "system/chardev/chardev.h"
#include "system/vm.h"

namespace corvid::testing {

class NullTestChardev : public Chardev {
public:
    void write(const uint8_t*, size_t) override {}
    std::string filename() const override { return "test"; }
};

struct Statement {
    const char* suffix;  // "secure", "insecure", "undeclared"
    Security security;
};
inline constexpr Statement kStatements[] = {
    {"secure", Security::kSecure}, {"insecure", Security::kInsecure}, {"undeclared", Security::kUndeclared}};

inline void register_test_types(TypeRegistry& r) {
    register_root_types(r);
    for (const Statement& s : kStatements) {
        TypeInfo d;
        d.name = std::string("test-dev-") + s.suffix;
        d.parent = kTypeDevice;
        d.security = s.security;
        d.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
            return std::make_unique<Object>();
        };
        (void)r.add(d);
        TypeInfo o = d;
        o.name = std::string("test-obj-") + s.suffix;
        o.parent = kTypeObject;
        (void)r.add(o);
        TypeInfo c;
        c.name = std::string("chardev-test-") + s.suffix;
        c.parent = kTypeChardev;
        c.security = s.security;
        c.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
            return std::unique_ptr<Object>(std::make_unique<NullTestChardev>());
        };
        (void)r.add(c);
    }
}

// A Vm over the test registry at a level; warnings are collected; devices plug and unplug.
struct TestVm {
    TypeRegistry registry;
    Policy policy;
    RunControl rc;
    std::vector<std::string> warnings;
    std::unique_ptr<Vm> vm;

    explicit TestVm(PolicyLevel level = PolicyLevel::kAccept) : policy(level) {
        register_test_types(registry);
        policy.set_warning_sink([this](const std::string& w) { warnings.push_back(w); });
        vm = std::make_unique<Vm>(registry, policy, rc);
        vm->plug_device = [](const TypeInfo&, const OptionList&, bool) -> Status { return {}; };
        vm->unplug_device = [](const std::string&) -> Status { return {}; };
    }
};

}  // namespace corvid::testing
