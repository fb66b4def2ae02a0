// Type registry implementation.
#include "object/type_registry.h"

#include <fmt/format.h>

namespace corvid {

const char* security_name(Security s) {
    switch (s) {
        case Security::kSecure: return "secure";
        case Security::kInsecure: return "insecure";
        case Security::kUndeclared: return "undeclared";
    }
    return "undeclared";
}

Status TypeRegistry::add(TypeInfo info) {
    if (info.name.empty()) return make_error("type without a name");
    if (find(info.name)) return make_error(fmt::format("type '{}' registered twice", info.name));
    for (const auto& a : info.aliases) {
        if (find(a)) return make_error(fmt::format("alias '{}' of type '{}' is already taken", a, info.name));
    }
    if (!info.short_name.empty() && info.short_name != info.name && find(info.short_name)) {
        return make_error(fmt::format("name '{}' of type '{}' is already taken", info.short_name, info.name));
    }
    if (!info.parent.empty() && !find(info.parent)) {
        return make_error(fmt::format("type '{}' has unknown parent '{}'", info.name, info.parent));
    }
    if (!info.abstract && !info.factory) {
        return make_error(fmt::format("concrete type '{}' has no factory", info.name));
    }
    types_.push_back(std::make_unique<TypeInfo>(std::move(info)));
    return {};
}

const TypeInfo* TypeRegistry::find(std::string_view name) const {
    for (const auto& t : types_) {
        if (t->name == name) return t.get();
    }
    for (const auto& t : types_) {
        if (t->short_name == name) return t.get();
        for (const auto& a : t->aliases) {
            if (a == name) return t.get();
        }
    }
    return nullptr;
}

bool TypeRegistry::is_a(const TypeInfo& type, std::string_view ancestor) const {
    const TypeInfo* t = &type;
    for (int depth = 0; t && depth < 64; ++depth) {
        if (t->name == ancestor) return true;
        if (t->parent.empty()) return false;
        t = find(t->parent);
    }
    return false;
}

std::vector<const TypeInfo*> TypeRegistry::list(std::string_view ancestor, bool include_abstract) const {
    std::vector<const TypeInfo*> out;
    for (const auto& t : types_) {
        if (t->abstract && !include_abstract) continue;
        if (!ancestor.empty() && !is_a(*t, ancestor)) continue;
        out.push_back(t.get());
    }
    return out;
}

Result<std::unique_ptr<Object>> TypeRegistry::create(const TypeInfo& type, const OptionList& props) const {
    if (type.abstract) return make_error(fmt::format("Parameter 'driver' expects a non-abstract type; '{}' is abstract", type.name));
    if (!type.factory) return make_error(fmt::format("type '{}' cannot be created", type.name));
    auto obj = type.factory(type, props);
    if (obj.ok()) obj.value()->set_type(&type);
    return obj;
}

void register_root_types(TypeRegistry& registry) {
    for (const char* root : {kTypeMachine, kTypeAccel, kTypeDevice, kTypeObject, kTypeChardev, kTypeNetdev,
                             kTypeBlockDriver}) {
        TypeInfo t;
        t.name = root;
        t.abstract = true;
        (void)registry.add(std::move(t));
    }
}

}  // namespace corvid
