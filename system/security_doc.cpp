// Security table generator: the registry is the single source of truth for the doc.
#include "system/security_doc.h"

#include <fmt/format.h>

#include "object/type_registry.h"
#include "system/vl.h"

namespace corvid {
namespace {

const char* statement_text(Security s) {
    switch (s) {
        case Security::kSecure: return "secure";
        case Security::kInsecure: return "insecure";
        case Security::kUndeclared: return "no statement";
    }
    return "no statement";
}

}  // namespace

std::string security_table() {
    std::string out;
    out += "| Architecture | Kind | Name | Type | Statement | Description |\n";
    out += "|---|---|---|---|---|---|\n";
    for (Arch arch : {Arch::kAArch64, Arch::kX86_64}) {
        TypeRegistry r;
        register_all_types(r, arch);
        for (const char* root : {kTypeMachine, kTypeAccel, kTypeDevice}) {
            for (const TypeInfo* t : r.list(root)) {
                const char* kind = root == std::string(kTypeMachine) ? "machine"
                                   : root == std::string(kTypeAccel) ? "accelerator"
                                                                     : "device";
                out += fmt::format("| {} | {} | `{}` | `{}` | {} | {} |\n", arch_name(arch), kind,
                                   t->short_name.empty() ? t->name : t->short_name, t->name,
                                   statement_text(t->security), t->description);
            }
        }
    }
    return out;
}

Result<std::string> update_security_doc(const std::string& doc) {
    size_t b = doc.find(kDocBegin);
    size_t e = doc.find(kDocEnd);
    if (b == std::string::npos || e == std::string::npos || e < b) {
        return make_error("docs/security.md has no generated-table markers");
    }
    std::string head = doc.substr(0, b + std::string(kDocBegin).size());
    return head + "\n" + security_table() + doc.substr(e);
}

}  // namespace corvid
