// End-to-end command-line behaviour of both binaries: policy decisions with their exact
// messages and exit status, help listings, and one-line errors for bad input.
#include <signal.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";
const std::string kA64 = "corvid-system-aarch64";

std::vector<std::string> argv_of(const std::string& bin, std::initializer_list<const char*> args) {
    std::vector<std::string> v{binary(bin)};
    for (const char* a : args) v.emplace_back(a);
    return v;
}

struct RejectCase {
    const char* name;
    std::string bin;
    std::vector<const char*> args;
    std::string stderr_line;  // exact, without the trailing newline
};

class Rejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(Rejects, ExactMessageAndStatus1) {
    const RejectCase& c = GetParam();
    std::vector<std::string> argv{binary(c.bin)};
    for (const char* a : c.args) argv.emplace_back(a);
    ProcessResult r = run_process(argv, {}, std::chrono::seconds(20));
    ASSERT_FALSE(r.timed_out) << "still running; stderr: " << r.err;
    EXPECT_EQ(r.term_signal, 0) << "crashed";
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.err, c.stderr_line + "\n");
    EXPECT_EQ(r.out, "");
}

const RejectCase kRejectCases[] = {
    {"prohibit_tcg", kX86, {"-display", "none", "-machine", "pc,prohibit-insecure=yes", "-accel", "tcg"},
     "corvid-system-x86_64: Type 'tcg-accel' is declared as insecure"},
    {"require_tcg", kX86, {"-machine", "pc,require-secure=yes", "-accel", "tcg"},
     "corvid-system-x86_64: Type 'tcg-accel' is not declared as secure"},
    {"require_tcg_default_accel", kX86, {"-machine", "pc,require-secure=on"},
     "corvid-system-x86_64: Type 'tcg-accel' is not declared as secure"},
    {"require_qtest", kX86, {"-machine", "pc,require-secure=yes", "-accel", "qtest"},
     "corvid-system-x86_64: Type 'qtest-accel' is not declared as secure"},
    {"require_isapc", kX86, {"-machine", "isapc,require-secure=yes", "-accel", "kvm"},
     "corvid-system-x86_64: Type 'isapc-machine' is not declared as secure"},
    {"prohibit_isapc", kX86, {"-machine", "isapc,prohibit-insecure=on", "-accel", "kvm"},
     "corvid-system-x86_64: Type 'isapc-machine' is declared as insecure"},
    {"require_none_machine", kX86, {"-M", "none,require-secure=yes", "-accel", "kvm"},
     "corvid-system-x86_64: Type 'none-machine' is not declared as secure"},
    {"compat_reject_tcg", kX86, {"-machine", "pc", "-compat", "insecure-types=reject", "-accel", "tcg"},
     "corvid-system-x86_64: Type 'tcg-accel' is not declared as secure"},
    {"compat_reject_qtest", kX86, {"-machine", "pc", "-compat", "insecure-types=reject", "-accel", "qtest"},
     "corvid-system-x86_64: Type 'qtest-accel' is not declared as secure"},
    {"compat_reject_isapc", kX86, {"-machine", "isapc", "-compat", "insecure-types=reject", "-accel", "kvm"},
     "corvid-system-x86_64: Type 'isapc-machine' is not declared as secure"},
    {"machine_accel_prop", kX86, {"-machine", "pc,accel=tcg,require-secure=yes"},
     "corvid-system-x86_64: Type 'tcg-accel' is not declared as secure"},
    {"a64_require_tcg", kA64, {"-M", "virt,require-secure=on", "-nographic"},
     "corvid-system-aarch64: Type 'tcg-accel' is not declared as secure"},
    {"a64_prohibit_none", kA64, {"-M", "none,prohibit-insecure=on"},
     "corvid-system-aarch64: Type 'none-machine' is declared as insecure"},
    {"both_levels", kX86, {"-machine", "pc,require-secure=on,prohibit-insecure=on", "-accel", "kvm"},
     "corvid-system-x86_64: -machine pc,require-secure=on,prohibit-insecure=on: Properties 'require-secure' and "
     "'prohibit-insecure' cannot both be enabled"},
    {"bad_bool", kX86, {"-machine", "pc,require-secure=maybe"},
     "corvid-system-x86_64: -machine pc,require-secure=maybe: Parameter 'require-secure' expects 'on', 'off', "
     "'yes' or 'no'"},
    {"bad_compat_value", kX86, {"-compat", "insecure-types=deny"},
     "corvid-system-x86_64: -compat insecure-types=deny: Parameter 'insecure-types' does not accept value "
     "'deny' (expected 'accept', 'warn' or 'reject')"},
    {"bad_compat_key", kX86, {"-compat", "frobnicate=on"},
     "corvid-system-x86_64: -compat frobnicate=on: Parameter 'frobnicate' is unexpected"},
    {"unknown_machine", kX86, {"-machine", "vax"},
     "corvid-system-x86_64: -machine vax: unsupported machine type (use -machine help to list supported machines)"},
    {"a64_machine_on_x86", kX86, {"-M", "virt"},
     "corvid-system-x86_64: -M virt: unsupported machine type (use -machine help to list supported machines)"},
    {"unknown_accel", kX86, {"-accel", "hax"}, "corvid-system-x86_64: -accel hax: invalid accelerator hax"},
    {"unknown_option", kX86, {"-frobnicate"}, "corvid-system-x86_64: -frobnicate: invalid option"},
    {"missing_argument", kX86, {"-machine"}, "corvid-system-x86_64: -machine: requires an argument"},
    {"unknown_machine_prop", kX86, {"-machine", "pc,colour=blue"},
     "corvid-system-x86_64: Property 'pc-machine.colour' not found"},
    {"unknown_accel_prop", kX86, {"-accel", "tcg,colour=blue"},
     "corvid-system-x86_64: -accel tcg,colour=blue: Property 'tcg-accel.colour' not found"},
    {"bad_accel_value", kA64, {"-accel", "tcg,backend=fpga"},
     "corvid-system-aarch64: -accel tcg,backend=fpga: Parameter 'backend' expects 'jit' or 'interp'"},
    {"bad_return_hints", kA64, {"-accel", "tcg,return-hints=sometimes"},
     "corvid-system-aarch64: -accel tcg,return-hints=sometimes: Parameter 'return-hints' expects 'on', 'off', "
     "'yes' or 'no'"},
    {"unknown_device", kX86, {"-device", "flux-capacitor"},
     "corvid-system-x86_64: -device flux-capacitor: 'flux-capacitor' is not a valid device model name"},
    {"bad_memory", kX86, {"-m", "lots"}, "corvid-system-x86_64: -m lots: invalid size 'lots'"},
    {"bad_smp", kX86, {"-smp", "4"}, "corvid-system-x86_64: -smp 4: Invalid SMP CPUs 4: only 1 CPU is supported"},
    {"bad_cpu", kA64, {"-cpu", "cortex-z99"}, "corvid-system-aarch64: unable to find CPU model 'cortex-z99'"},
    {"bad_log_item", kX86, {"-d", "in_asm,bogus"}, "corvid-system-x86_64: -d in_asm,bogus: Invalid -d option \"bogus\""},
    {"bad_serial", kA64, {"-serial", "carrier-pigeon"},
     "corvid-system-aarch64: -serial carrier-pigeon: 'carrier-pigeon' is not a valid char driver"},
    {"a64_kvm", kA64, {"-M", "virt", "-accel", "kvm"},
     "corvid-system-aarch64: -accel kvm: KVM is not supported for AArch64 guests on this host (an x86-64 host runs "
     "x86 guests only)"},
    {"missing_kernel", kA64, {"-M", "virt", "-kernel", "/nonexistent/kernel.elf"},
     "corvid-system-aarch64: could not load kernel '/nonexistent/kernel.elf': No such file or directory"},
};

INSTANTIATE_TEST_SUITE_P(CommandLine, Rejects, ::testing::ValuesIn(kRejectCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct RunCase {
    const char* name;
    std::string bin;
    std::vector<const char*> args;
    bool needs_kvm;
    std::string expected_warning;  // a line that must appear on stderr before termination ("" none)
};

class RunsUntilSignal : public ::testing::TestWithParam<RunCase> {};

TEST_P(RunsUntilSignal, RunsThenTerminatesCleanly) {
    const RunCase& c = GetParam();
    if (c.needs_kvm) {
        std::string why;
        if (!kvm_available(&why)) GTEST_SKIP() << "SKIPPED (needs /dev/kvm): " << why;
    }
    std::vector<std::string> argv{binary(c.bin)};
    for (const char* a : c.args) argv.emplace_back(a);
    SignalResult s = run_until_signal(argv, std::chrono::milliseconds(700), SIGTERM);
    ASSERT_TRUE(s.still_running_before_signal) << "exited early: status " << s.result.exit_status << " stderr: "
                                               << s.result.err;
    EXPECT_EQ(s.result.exit_status, 0);
    std::string prog = c.bin;
    std::string expected = c.expected_warning.empty() ? "" : c.expected_warning + "\n";
    expected += prog + ": terminating on signal 15\n";
    EXPECT_EQ(s.result.err, expected);
}

const RunCase kRunCases[] = {
    {"prohibit_kvm", kX86, {"-machine", "pc,prohibit-insecure=yes", "-accel", "kvm", "-display", "none"}, true, ""},
    {"require_kvm", kX86, {"-machine", "pc,require-secure=yes", "-accel", "kvm", "-display", "none"}, true, ""},
    {"compat_reject_kvm", kX86, {"-machine", "q35", "-compat", "insecure-types=reject", "-accel", "kvm"}, true, ""},
    {"prohibit_qtest", kX86, {"-machine", "pc,prohibit-insecure=yes", "-accel", "qtest"}, false, ""},
    {"qtest_default", kX86, {"-accel", "qtest"}, false, ""},
    {"warn_tcg", kX86, {"-machine", "pc", "-compat", "insecure-types=warn", "-accel", "qtest"}, false,
     "corvid-system-x86_64: warning: Type 'qtest-accel' is not declared as secure"},
    {"warn_isapc", kX86, {"-machine", "isapc", "-compat", "insecure-types=warn", "-accel", "kvm"}, true,
     "corvid-system-x86_64: warning: Type 'isapc-machine' is declared as insecure"},
    {"tcg_stopped", kA64, {"-M", "virt", "-S", "-display", "none"}, false, ""},
};

INSTANTIATE_TEST_SUITE_P(CommandLine, RunsUntilSignal, ::testing::ValuesIn(kRunCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CommandLine, MachineHelpMarksStatements) {
    ProcessResult r = run_process(argv_of(kX86, {"-machine", "help"}));
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_NE(r.out.find("Supported machines are:\n"), std::string::npos);
    EXPECT_NE(r.out.find("pc                   Standard PC (i440FX + PIIX, 1996) (secure) (default)\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("isapc                ISA-only PC (insecure)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("q35                  Standard PC (Q35 + ICH9, 2009) (secure)\n"), std::string::npos);
    EXPECT_NE(r.out.find("microvm              microvm (i386) (secure)\n"), std::string::npos);
    EXPECT_NE(r.out.find("none                 empty machine (insecure)\n"), std::string::npos);
    ProcessResult a = run_process(argv_of(kA64, {"-M", "help"}));
    EXPECT_NE(a.out.find("virt                 "), std::string::npos) << a.out;
    EXPECT_NE(a.out.find("(secure) (default)\n"), std::string::npos);
}

TEST(CommandLine, AccelHelpMarksStatements) {
    ProcessResult r = run_process(argv_of(kX86, {"-accel", "help"}));
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_NE(r.out.find("tcg                  dynamic binary translator (insecure) (default)\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("kvm                  hardware virtualization through /dev/kvm (secure)\n"), std::string::npos);
    EXPECT_NE(r.out.find("qtest                device test harness, no CPU\n"), std::string::npos);
}

TEST(CommandLine, ReturnHintsOptionReachesTheJit) {
    // calls-small.elf is recursive: with hints on, returns find their target on the ring.
    const std::string elf = std::string(CORVID_BINARY_DIR) + "/guests/a64bench/calls-small.elf";
    if (!std::ifstream(elf)) GTEST_SKIP() << elf << " not built (no aarch64 cross compiler?)";
    for (bool on : {true, false}) {
        const std::string accel = std::string("tcg,stats=on,return-hints=") + (on ? "on" : "off");
        ProcessResult r = run_process({binary(kA64), "-M", "virt", "-cpu", "cortex-a57", "-display", "none",
                                       "-accel", accel, "-kernel", elf},
                                      {}, std::chrono::seconds(60));
        ASSERT_FALSE(r.timed_out) << accel;
        EXPECT_EQ(r.exit_status, 0) << accel << ": " << r.err;
        EXPECT_NE(r.err.find(std::string("return hints             ") + (on ? "on\n" : "off\n")), std::string::npos)
            << r.err;
        std::smatch m;
        ASSERT_TRUE(std::regex_search(r.err, m, std::regex("return hints hit +([0-9]+)\n"))) << r.err;
        if (on) {
            EXPECT_GT(std::stoull(m[1].str()), 1000u) << r.err;
        } else {
            EXPECT_EQ(m[1].str(), "0") << r.err;
        }
    }
}

TEST(CommandLine, VersionHelpAndLogHelp) {
    ProcessResult v = run_process(argv_of(kX86, {"-version"}));
    EXPECT_EQ(v.exit_status, 0);
    EXPECT_EQ(v.out.rfind("corvid-system-x86_64 version ", 0), 0u);
    ProcessResult h = run_process(argv_of(kA64, {"-h"}));
    EXPECT_EQ(h.exit_status, 0);
    EXPECT_NE(h.out.find("-machine [type=]name"), std::string::npos);
    ProcessResult d = run_process(argv_of(kA64, {"-d", "help"}));
    EXPECT_NE(d.out.find("in_asm"), std::string::npos);
    EXPECT_NE(d.out.find("guest_errors"), std::string::npos);
    ProcessResult c = run_process(argv_of(kA64, {"-cpu", "help"}));
    EXPECT_NE(c.out.find("cortex-a57"), std::string::npos);
}

TEST(CommandLine, KvmErrorMatchesQemuWhenDeviceMissing) {
    // QEMU's two lines when the KVM device cannot be opened (device= points it elsewhere).
    ProcessResult r = run_process(argv_of(kX86, {"-accel", "kvm,device=/nonexistent/kvm"}));
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.err,
              "Could not access KVM kernel module: No such file or directory\n"
              "corvid-system-x86_64: -accel kvm,device=/nonexistent/kvm: failed to initialize kvm: No such file or "
              "directory\n");
    ProcessResult plain = run_process(argv_of(kX86, {"-accel", "kvm", "-machine", "pc", "-S"}), {},
                                      std::chrono::milliseconds(300));
    std::string why;
    if (!kvm_available(&why)) {
        EXPECT_NE(plain.err.find("Could not access KVM kernel module: "), std::string::npos);
        EXPECT_NE(plain.err.find("corvid-system-x86_64: -accel kvm: failed to initialize kvm: "), std::string::npos);
    }
}

}  // namespace
}  // namespace corvid::testing
