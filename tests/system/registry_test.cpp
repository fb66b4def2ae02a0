// The registry as users see it: statements of the seed types, the generated security doc
// matching the registry, and secure machines building only secure onboard devices.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "hw/machine.h"
#include "system/security_doc.h"
#include "system/vl.h"

namespace corvid {
namespace {

TypeRegistry registry_for(Arch arch) {
    TypeRegistry r;
    register_all_types(r, arch);
    return r;
}

TEST(Registry, SeedStatements) {
    struct Expect {
        Arch arch;
        const char* name;
        const char* type;
        Security sec;
    };
    const Expect expects[] = {
        {Arch::kX86_64, "tcg", "tcg-accel", Security::kInsecure},
        {Arch::kX86_64, "kvm", "kvm-accel", Security::kSecure},
        {Arch::kX86_64, "qtest", "qtest-accel", Security::kUndeclared},
        {Arch::kX86_64, "pc", "pc-machine", Security::kSecure},
        {Arch::kX86_64, "q35", "q35-machine", Security::kSecure},
        {Arch::kX86_64, "microvm", "microvm-machine", Security::kSecure},
        {Arch::kX86_64, "isapc", "isapc-machine", Security::kInsecure},
        {Arch::kX86_64, "none", "none-machine", Security::kInsecure},
        {Arch::kAArch64, "virt", "virt-machine", Security::kSecure},
        {Arch::kAArch64, "none", "none-machine", Security::kInsecure},
        {Arch::kAArch64, "tcg", "tcg-accel", Security::kInsecure},
    };
    for (const auto& e : expects) {
        TypeRegistry r = registry_for(e.arch);
        const TypeInfo* t = r.find(e.name);
        ASSERT_NE(t, nullptr) << e.name;
        EXPECT_EQ(t->name, e.type);
        EXPECT_EQ(t->security, e.sec) << e.name;
        EXPECT_EQ(r.find(e.type), t);
    }
}

TEST(Registry, CommittedSecurityDocMatchesRegistry) {
    std::ifstream in(std::string(CORVID_SOURCE_DIR) + "/docs/security.md");
    ASSERT_TRUE(in) << "docs/security.md is missing";
    std::stringstream ss;
    ss << in.rdbuf();
    auto regenerated = update_security_doc(ss.str());
    ASSERT_TRUE(regenerated.ok()) << regenerated.error();
    EXPECT_EQ(*regenerated, ss.str())
        << "docs/security.md is out of date: run `cmake --build build --target docs-security`";
    EXPECT_NE(ss.str().find("| x86_64 | machine | `isapc` | `isapc-machine` | insecure |"), std::string::npos);
}

TEST(Registry, SecureMachinesBuildOnlySecureOnboardDevices) {
    for (Arch arch : {Arch::kAArch64, Arch::kX86_64}) {
        TypeRegistry r = registry_for(arch);
        for (const TypeInfo* t : r.list(kTypeMachine)) {
            SCOPED_TRACE(t->name);
            auto obj = r.create(*t, {});
            ASSERT_TRUE(obj.ok()) << obj.error();
            auto* m = static_cast<Machine*>(obj->get());
            MachineOptions o;
            struct NullChar : CharBackend {
                void write(const uint8_t*, size_t) override {}
                void set_receiver(Receiver) override {}
            } null_char;
            o.serial0 = &null_char;
            Status st = m->init(o);
            ASSERT_TRUE(st.ok()) << st.error();
            for (const std::string& dev : m->onboard_types()) {
                const TypeInfo* d = r.find(dev);
                ASSERT_NE(d, nullptr) << "onboard device type '" << dev << "' is not registered";
                if (t->security == Security::kSecure) {
                    EXPECT_EQ(d->security, Security::kSecure) << "secure machine " << t->name << " builds " << dev;
                }
            }
        }
    }
}

}  // namespace
}  // namespace corvid
