// Registration of the accelerator types with their security statements.
#include "accel/accel_types.h"

#include <fmt/format.h>

namespace corvid {
namespace {

// Properties each accelerator accepts; anything else is "Property 'X.p' not found".
Status check_props(const TypeInfo& type, const OptionList& props, std::initializer_list<const char*> known) {
    for (const auto& [k, v] : props.items) {
        if (k == "accel") continue;
        bool ok = false;
        for (const char* n : known) ok |= (k == n);
        if (!ok) return make_error(fmt::format("Property '{}.{}' not found", type.name, k));
    }
    return {};
}

}  // namespace

void register_accel_types(TypeRegistry& registry, Arch) {
    TypeInfo tcg;
    tcg.name = "tcg-accel";
    tcg.short_name = "tcg";
    tcg.parent = kTypeAccel;
    tcg.description = "dynamic binary translator";
    tcg.security = Security::kInsecure;
    tcg.is_default = true;
    tcg.factory = [](const TypeInfo& t, const OptionList& p) -> Result<std::unique_ptr<Object>> {
        if (auto s = check_props(t, p, {"tb-size", "backend", "thread", "count-insns", "stats", "return-hints"}); !s) {
            return make_error(s.error());
        }
        auto a = make_tcg_accel(p);
        if (!a) return make_error(a.error());
        return std::unique_ptr<Object>(std::move(*a));
    };
    (void)registry.add(std::move(tcg));

    TypeInfo kvm;
    kvm.name = "kvm-accel";
    kvm.short_name = "kvm";
    kvm.parent = kTypeAccel;
    kvm.description = "hardware virtualization through /dev/kvm";
    kvm.security = Security::kSecure;
    kvm.factory = [](const TypeInfo& t, const OptionList& p) -> Result<std::unique_ptr<Object>> {
        if (auto s = check_props(t, p, {"device"}); !s) return make_error(s.error());
        return std::unique_ptr<Object>(make_kvm_accel(p));
    };
    (void)registry.add(std::move(kvm));

    TypeInfo qtest;
    qtest.name = "qtest-accel";
    qtest.short_name = "qtest";
    qtest.parent = kTypeAccel;
    qtest.description = "device test harness, no CPU";
    qtest.security = Security::kUndeclared;
    qtest.factory = [](const TypeInfo& t, const OptionList& p) -> Result<std::unique_ptr<Object>> {
        if (auto s = check_props(t, p, {}); !s) return make_error(s.error());
        return std::unique_ptr<Object>(make_qtest_accel(p));
    };
    (void)registry.add(std::move(qtest));
}

}  // namespace corvid
