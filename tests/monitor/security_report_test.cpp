// The security report: verdicts, the in-process report of a configuration, and the
// -security-report dry run of whole command lines (exit status and the printed report).
#include "system/security_report.h"

#include <gtest/gtest.h>

#include "tests/monitor/monitor_harness.h"
#include "tests/monitor/test_types.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";
const std::string kA64 = "corvid-system-aarch64";

TEST(SecurityReport, Verdicts) {
    using S = Security;
    EXPECT_EQ(verdict_of({S::kSecure, S::kSecure}), Verdict::kInside);
    EXPECT_EQ(verdict_of({S::kSecure, S::kUndeclared}), Verdict::kUndecided);
    EXPECT_EQ(verdict_of({S::kUndeclared, S::kInsecure, S::kSecure}), Verdict::kOutside);
    EXPECT_EQ(verdict_of({}), Verdict::kInside);
    EXPECT_STREQ(verdict_name(Verdict::kUndecided), "undecided");
    EXPECT_EQ(std::string(verdict_description(Verdict::kInside)).rfind("inside the security boundary", 0), 0u);
}

TEST(SecurityReport, ListsEveryObjectWithItsStatement) {
    TestVm t(PolicyLevel::kAccept);
    ASSERT_TRUE(t.vm->add_device(*OptionList::parse("test-dev-secure,id=a", "driver"), true).ok());
    ASSERT_TRUE(t.vm->add_object(*OptionList::parse("test-obj-undeclared,id=b", "qom-type")).ok());
    ASSERT_TRUE(t.vm->add_chardev(*OptionList::parse("test-secure,id=c", "backend")).ok());
    SecurityReport r = make_security_report(*t.vm);
    ASSERT_EQ(r.items.size(), 3u);
    EXPECT_EQ(r.items[0].kind, "device");
    EXPECT_EQ(r.items[0].id, "a");
    EXPECT_EQ(r.items[1].kind, "chardev");
    EXPECT_EQ(r.items[2].kind, "object");
    EXPECT_EQ(r.items[2].security, Security::kUndeclared);
    EXPECT_EQ(r.verdict, Verdict::kUndecided);
    EXPECT_TRUE(r.accepted);
    // Judged at a stricter level, the undeclared object is what fails.
    t.policy.set_level(PolicyLevel::kRequireSecure);
    SecurityReport strict = make_security_report(*t.vm);
    EXPECT_FALSE(strict.accepted);
    EXPECT_EQ(strict.items[2].message, "Type 'test-obj-undeclared' is not declared as secure");
    Json j = security_report_json(strict);
    EXPECT_EQ(j["level"], "require-secure");
    EXPECT_EQ(j["verdict"], "undecided");
    EXPECT_EQ(j["objects"][2]["security"], "undeclared");
    EXPECT_EQ(j["objects"][2]["allowed"], false);
    ASSERT_TRUE(t.vm->add_device(*OptionList::parse("test-dev-insecure,id=x", "driver"), true).ok() == false);
}

struct DryRun {
    const char* name;
    std::string bin;
    std::vector<std::string> args;
    int status;
    std::vector<std::string> lines;  // each must appear in stdout
};

class DryRuns : public ::testing::TestWithParam<DryRun> {};

TEST_P(DryRuns, ReportAndStatus) {
    const DryRun& c = GetParam();
    std::vector<std::string> args = c.args;
    args.push_back("-security-report");
    ProcessResult r = run_process(argv_of(c.bin, args), {}, std::chrono::seconds(10));
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_status, c.status) << r.out << r.err;
    EXPECT_EQ(r.err, "");
    for (const auto& l : c.lines)
        EXPECT_NE(r.out.find(l + "\n"), std::string::npos) << "missing: " << l << "\n" << r.out;
}

const DryRun kDryRuns[] = {
    {"kvm_pc_require_secure",
     kX86,
     {"-machine", "pc,require-secure=on", "-accel", "kvm", "-object", "rng-random,id=rng0", "-chardev",
      "socket,id=mon,path=/tmp/corvid-dry-never-created.sock,server=on,wait=on", "-mon", "chardev=mon,mode=control"},
     0,
     {"Security level: require-secure", "  machine      pc-machine                       secure",
      "  accelerator  kvm-accel                        secure",
      "  device       isa-serial (onboard)             secure",
      "  chardev      chardev-socket (id mon)          secure",
      "  object       rng-random (id rng0)             secure",
      "Verdict: inside the security boundary (every object is declared secure)",
      "Configuration: accepted at level require-secure"}},
    {"tcg_rejected_at_require_secure",
     kX86,
     {"-machine", "pc,require-secure=on", "-accel", "tcg", "-device", "isa-debug-exit"},
     1,
     {"  accelerator  tcg-accel                        insecure  rejected: Type 'tcg-accel' is not declared as secure",
      "  device       isa-debug-exit                   insecure  rejected: Type 'isa-debug-exit' is not declared as "
      "secure",
      "Verdict: outside the security boundary (an object is declared insecure)",
      "Configuration: rejected at level require-secure"}},
    {"qtest_undecided_at_prohibit",
     kX86,
     {"-machine", "pc,prohibit-insecure=on", "-accel", "qtest"},
     0,
     {"  accelerator  qtest-accel                      no statement",
      "Verdict: undecided (an object has no security statement, none is declared insecure)",
      "Configuration: accepted at level prohibit-insecure"}},
    {"isapc_rejected_at_prohibit",
     kX86,
     {"-machine", "isapc,prohibit-insecure=on", "-accel", "kvm"},
     1,
     {"  machine      isapc-machine                    insecure  rejected: Type 'isapc-machine' is declared as "
      "insecure",
      "Configuration: rejected at level prohibit-insecure"}},
    {"default_accept",
     kA64,
     {"-M", "virt"},
     0,
     {"Security level: accept", "  device       pl011 (onboard)                  secure",
      "Verdict: outside the security boundary (an object is declared insecure)",
      "Configuration: accepted at level accept"}},
    {"compat_reject",
     kA64,
     {"-M", "virt", "-compat", "insecure-types=reject", "-accel", "tcg"},
     1,
     {"Security level: require-secure", "Configuration: rejected at level require-secure"}},
};

INSTANTIATE_TEST_SUITE_P(Monitor, DryRuns, ::testing::ValuesIn(kDryRuns),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DryRun, DoesNotStartOrOpenAnything) {
    std::string dir = temp_dir();
    ProcessResult r =
        run_process(argv_of(kA64, {"-M", "virt", "-chardev", "socket,id=s,path=" + dir + "/x.sock,server=on", "-serial",
                                   "chardev:s", "-security-report"}),
                    {}, std::chrono::seconds(5));
    EXPECT_FALSE(r.timed_out);  // a server with wait=on would block: the dry run does not open it
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_NE(access((dir + "/x.sock").c_str(), F_OK), 0);
}

TEST(DryRun, StillReportsCommandLineErrors) {
    ProcessResult r = run_process(argv_of(kX86, {"-machine", "vax", "-security-report"}));
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.err,
              "corvid-system-x86_64: -machine vax: unsupported machine type (use -machine help to list supported "
              "machines)\n");
}

}  // namespace
}  // namespace corvid::testing
