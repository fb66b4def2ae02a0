// Type registry: lookup by name and alias, inheritance queries, abstract types, statements.
#include <gtest/gtest.h>

#include "object/type_registry.h"

namespace corvid {
namespace {

class Dummy : public Object {};

Factory dummy_factory() {
    return [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return std::unique_ptr<Object>(std::make_unique<Dummy>());
    };
}

TypeInfo type(std::string name, std::string parent, Security sec, Factory f, std::vector<std::string> aliases = {},
              bool abstract = false) {
    TypeInfo t;
    t.name = std::move(name);
    t.parent = std::move(parent);
    t.security = sec;
    t.factory = std::move(f);
    t.aliases = std::move(aliases);
    t.abstract = abstract;
    return t;
}

TypeRegistry make_registry() {
    TypeRegistry r;
    register_root_types(r);
    TypeInfo base = type("nic-base", kTypeDevice, Security::kSecure, {}, {}, true);
    EXPECT_TRUE(r.add(base).ok());
    TypeInfo nic = type("virtio-net-pci", "nic-base", Security::kSecure, dummy_factory(), {"virtio-net"});
    EXPECT_TRUE(r.add(nic).ok());
    TypeInfo old = type("rtl8139", "nic-base", Security::kInsecure, dummy_factory());
    EXPECT_TRUE(r.add(old).ok());
    TypeInfo child = type("child-of-secure", "virtio-net-pci", Security::kUndeclared, dummy_factory());
    EXPECT_TRUE(r.add(child).ok());
    return r;
}

TEST(TypeRegistry, FindsByNameAndAlias) {
    TypeRegistry r = make_registry();
    ASSERT_NE(r.find("virtio-net-pci"), nullptr);
    EXPECT_EQ(r.find("virtio-net"), r.find("virtio-net-pci"));
    EXPECT_EQ(r.find("no-such-type"), nullptr);
}

TEST(TypeRegistry, RejectsDuplicatesAndUnknownParents) {
    TypeRegistry r = make_registry();
    TypeInfo dup = type("rtl8139", kTypeDevice, Security::kUndeclared, dummy_factory());
    EXPECT_FALSE(r.add(dup).ok());
    TypeInfo alias_clash = type("other", kTypeDevice, Security::kUndeclared, dummy_factory(), {"virtio-net"});
    EXPECT_FALSE(r.add(alias_clash).ok());
    TypeInfo orphan = type("orphan", "nowhere", Security::kUndeclared, dummy_factory());
    Status st = r.add(orphan);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("unknown parent 'nowhere'"), std::string::npos);
    TypeInfo no_factory = type("no-factory", kTypeDevice, Security::kUndeclared, {});
    EXPECT_FALSE(r.add(no_factory).ok());
}

TEST(TypeRegistry, ListsImplementations) {
    TypeRegistry r = make_registry();
    auto devices = r.list(kTypeDevice);
    ASSERT_EQ(devices.size(), 3u);
    EXPECT_EQ(devices[0]->name, "virtio-net-pci");
    auto with_abstract = r.list("nic-base", true);
    EXPECT_EQ(with_abstract.size(), 4u);
    EXPECT_TRUE(r.is_a(*r.find("child-of-secure"), kTypeDevice));
    EXPECT_FALSE(r.is_a(*r.find("rtl8139"), kTypeMachine));
}

TEST(TypeRegistry, StatementsAreNotInherited) {
    TypeRegistry r = make_registry();
    EXPECT_EQ(r.find("virtio-net-pci")->security, Security::kSecure);
    EXPECT_EQ(r.find("child-of-secure")->security, Security::kUndeclared);
    EXPECT_STREQ(security_name(r.find("child-of-secure")->security), "undeclared");
    EXPECT_STREQ(security_name(Security::kInsecure), "insecure");
}

TEST(TypeRegistry, AbstractTypesCannotBeCreated) {
    TypeRegistry r = make_registry();
    auto abstract = r.create(*r.find("nic-base"), {});
    ASSERT_FALSE(abstract.ok());
    EXPECT_NE(abstract.error().find("abstract"), std::string::npos);
    auto obj = r.create(*r.find("rtl8139"), {});
    ASSERT_TRUE(obj.ok());
    EXPECT_EQ(obj.value()->type().name, "rtl8139");
}

TEST(OptionList, ParsesQemuSyntax) {
    auto o = OptionList::parse("pc,require-secure=on,path=a,,b,flag", "type");
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->get("type").value(), "pc");
    EXPECT_EQ(o->get("require-secure").value(), "on");
    EXPECT_EQ(o->get("path").value(), "a,b");
    EXPECT_TRUE(o->has("flag"));
    EXPECT_FALSE(o->has("other"));
    EXPECT_FALSE(OptionList::parse("pc,=x", "type").ok());
}

TEST(OptionList, BoolsAndSizes) {
    for (const char* v : {"on", "yes", "true"}) EXPECT_TRUE(parse_bool_property("p", v).value());
    for (const char* v : {"off", "no", "false"}) EXPECT_FALSE(parse_bool_property("p", v).value());
    auto bad = parse_bool_property("require-secure", "maybe");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), "Parameter 'require-secure' expects 'on', 'off', 'yes' or 'no'");
    EXPECT_EQ(parse_size("128", 1 << 20).value(), 128ull << 20);
    EXPECT_EQ(parse_size("1G", 1 << 20).value(), 1ull << 30);
    EXPECT_EQ(parse_size("64k", 1 << 20).value(), 64ull << 10);
    EXPECT_FALSE(parse_size("12Q", 1).ok());
    EXPECT_FALSE(parse_size("99999999999999999999", 1).ok());
    EXPECT_FALSE(parse_size("", 1).ok());
}

}  // namespace
}  // namespace corvid
