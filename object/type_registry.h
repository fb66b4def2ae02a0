// The type registry: every user-creatable type with its parent, description, security
// statement, aliases and factory. Statements are never inherited.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/options.h"
#include "base/result.h"

namespace corvid {

enum class Security : uint8_t { kUndeclared, kSecure, kInsecure };

// "secure" | "insecure" | "undeclared" (the QMP `security` values).
const char* security_name(Security s);

class Object;
struct TypeInfo;

using Factory = std::function<Result<std::unique_ptr<Object>>(const TypeInfo& type, const OptionList& props)>;

struct TypeInfo {
    std::string name;          // QOM-style type name, e.g. "tcg-accel", "isapc-machine"
    std::string parent;        // "" for a root
    std::string description;
    Security security = Security::kUndeclared;
    bool abstract = false;
    std::vector<std::string> aliases;  // user-facing names, e.g. "isapc", "tcg", "virtio-net"
    std::string short_name;    // name shown in help lists and accepted on the command line
    bool is_default = false;   // the default machine / accelerator of its kind
    bool user_creatable = true;  // false: only boards build it (onboard devices)
    Factory factory;           // empty for abstract types
};

class Object {
public:
    virtual ~Object() = default;
    const TypeInfo& type() const { return *type_; }
    const std::string& id() const { return id_; }
    void set_id(std::string id) { id_ = std::move(id); }
    void set_type(const TypeInfo* t) { type_ = t; }

private:
    const TypeInfo* type_ = nullptr;
    std::string id_;
};

class TypeRegistry {
public:
    // Registers a type; an error if the name or an alias is taken or the parent is unknown.
    Status add(TypeInfo info);

    // Lookup by type name, short name or alias.
    const TypeInfo* find(std::string_view name) const;

    // Is `type` the type `ancestor` or derived from it?
    bool is_a(const TypeInfo& type, std::string_view ancestor) const;

    // Every type that implements `ancestor` (empty: all), in registration order.
    std::vector<const TypeInfo*> list(std::string_view ancestor = {}, bool include_abstract = false) const;

    // Creates an object of a concrete type (abstract types and types without factory fail).
    Result<std::unique_ptr<Object>> create(const TypeInfo& type, const OptionList& props) const;

private:
    std::vector<std::unique_ptr<TypeInfo>> types_;
};

// Abstract roots shared by every binary.
inline constexpr const char* kTypeMachine = "machine";
inline constexpr const char* kTypeAccel = "accel";
inline constexpr const char* kTypeDevice = "device";
inline constexpr const char* kTypeObject = "object";
inline constexpr const char* kTypeChardev = "chardev";
inline constexpr const char* kTypeNetdev = "netdev";
inline constexpr const char* kTypeBlockDriver = "block-driver";

// Registers the abstract roots above.
void register_root_types(TypeRegistry& registry);

}  // namespace corvid
