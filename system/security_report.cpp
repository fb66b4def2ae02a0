// Builds the security report from the running (or dry-run) configuration.
#include "system/security_report.h"

#include <fmt/format.h>

namespace corvid {

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::kInside: return "inside";
        case Verdict::kOutside: return "outside";
        case Verdict::kUndecided: return "undecided";
    }
    return "undecided";
}

const char* verdict_description(Verdict v) {
    switch (v) {
        case Verdict::kInside: return "inside the security boundary (every object is declared secure)";
        case Verdict::kOutside: return "outside the security boundary (an object is declared insecure)";
        case Verdict::kUndecided: return "undecided (an object has no security statement, none is declared insecure)";
    }
    return "undecided";
}

Verdict verdict_of(const std::vector<Security>& statements) {
    bool undeclared = false;
    for (Security s : statements) {
        if (s == Security::kInsecure) return Verdict::kOutside;
        undeclared |= (s == Security::kUndeclared);
    }
    return undeclared ? Verdict::kUndecided : Verdict::kInside;
}

SecurityReport make_security_report(Vm& vm) {
    SecurityReport r;
    r.level = vm.policy().level();
    auto add = [&](std::string kind, std::string id, const TypeInfo* t, const std::string& name, bool onboard) {
        SecurityItem it;
        it.kind = std::move(kind);
        it.id = std::move(id);
        it.type = t ? t->name : name;
        it.security = t ? t->security : Security::kUndeclared;
        it.onboard = onboard;
        TypeInfo probe;
        probe.name = it.type;
        probe.security = it.security;
        it.allowed = Policy::allows(probe, r.level);
        if (!it.allowed) it.message = policy_message(probe, r.level);
        r.items.push_back(std::move(it));
    };
    if (vm.machine_type()) add("machine", "", vm.machine_type(), "", false);
    if (vm.accel_type()) add("accelerator", "", vm.accel_type(), "", false);
    if (vm.machine()) {
        for (const std::string& name : vm.machine()->onboard_types()) {
            add("device", "", vm.registry().find(name), name, true);
        }
    }
    for (const auto& d : vm.devices()) add("device", d.id, d.type, "", false);
    for (const auto& c : vm.chardevs()) add("chardev", c.id, c.type, "", false);
    for (const auto& o : vm.objects()) add("object", o.id, o.type, "", false);
    std::vector<Security> statements;
    for (const auto& it : r.items) {
        statements.push_back(it.security);
        r.accepted &= it.allowed;
    }
    r.verdict = verdict_of(statements);
    return r;
}

std::string security_report_text(const SecurityReport& r) {
    std::string out = fmt::format("Security level: {}\n", policy_level_name(r.level));
    for (const auto& it : r.items) {
        std::string what = it.type;
        if (it.onboard) what += " (onboard)";
        if (!it.id.empty()) what += fmt::format(" (id {})", it.id);
        const char* stmt = it.security == Security::kUndeclared ? "no statement" : security_name(it.security);
        std::string line = fmt::format("  {:<12} {:<32} {}", it.kind, what, stmt);
        if (!it.allowed) line += fmt::format("  rejected: {}", it.message);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    out += fmt::format("Verdict: {}\n", verdict_description(r.verdict));
    out += fmt::format("Configuration: {} at level {}\n", r.accepted ? "accepted" : "rejected",
                       policy_level_name(r.level));
    return out;
}

Json security_report_json(const SecurityReport& r) {
    Json objects = Json::array();
    for (const auto& it : r.items) {
        Json o{{"kind", it.kind}, {"type", it.type}};
        if (!it.id.empty()) o["id"] = it.id;
        if (it.onboard) o["onboard"] = true;
        o["secure"] = it.security == Security::kSecure;
        o["security"] = security_name(it.security);
        o["allowed"] = it.allowed;
        if (!it.allowed) o["message"] = it.message;
        objects.push_back(std::move(o));
    }
    return Json{{"level", policy_level_name(r.level)},
                {"verdict", verdict_name(r.verdict)},
                {"verdict-description", verdict_description(r.verdict)},
                {"accepted", r.accepted},
                {"objects", std::move(objects)}};
}

}  // namespace corvid
