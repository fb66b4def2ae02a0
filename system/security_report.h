// The running configuration's security report (QMP query-security, HMP `info security`, and
// the -security-report dry run): level, every object with its statement, and a verdict.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"
#include "system/vm.h"

namespace corvid {

enum class Verdict : uint8_t {
    kInside,     // every object declared secure
    kOutside,    // something declared insecure
    kUndecided,  // something undeclared, nothing insecure
};

const char* verdict_name(Verdict v);         // "inside", "outside", "undecided"
const char* verdict_description(Verdict v);  // "inside the security boundary", ...

struct SecurityItem {
    std::string kind;  // "machine", "accelerator", "device", "chardev", "object"
    std::string id;    // user id, or "" (onboard devices, machine, accelerator)
    std::string type;
    Security security = Security::kUndeclared;
    bool onboard = false;
    bool allowed = true;  // passes the level in force
    std::string message;  // the policy message when not allowed
};

struct SecurityReport {
    PolicyLevel level = PolicyLevel::kAccept;
    std::vector<SecurityItem> items;
    Verdict verdict = Verdict::kInside;
    bool accepted = true;  // every item passes the level
};

// Verdict of a set of statements.
Verdict verdict_of(const std::vector<Security>& statements);

SecurityReport make_security_report(Vm& vm);
std::string security_report_text(const SecurityReport& report);
Json security_report_json(const SecurityReport& report);

}  // namespace corvid
