// Command-line options of the virt board's interrupt controller and virtio-mmio transports:
// gic-version (only 2 is modelled) and -global virtio-mmio.force-legacy (only false).
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/subprocess.h"

namespace corvid::testing {
namespace {

ProcessResult run_a64(std::vector<std::string> args) {
    args.insert(args.begin(), binary("corvid-system-aarch64"));
    return run_process(args, {}, std::chrono::seconds(20));
}

std::string hello_elf() { return std::string(CORVID_BINARY_DIR) + "/guests/a64/hello.elf"; }

TEST(VirtGicCommandLine, RejectsGicVersionsOtherThanTwo) {
    for (const char* v : {"3", "max", "host"}) {
        const std::string m = std::string("virt,gic-version=") + v;
        ProcessResult r = run_a64({"-display", "none", "-M", m});
        ASSERT_FALSE(r.timed_out);
        EXPECT_EQ(r.exit_status, 1);
        EXPECT_EQ(r.err, "corvid-system-aarch64: -M " + m + ": gic-version=" + v +
                             " is not supported: Corvid's virt board models GICv2 only (gic-version=2)\n");
    }
}

TEST(VirtGicCommandLine, GicVersionIsAVirtProperty) {
    std::vector<std::string> argv{binary("corvid-system-x86_64"), "-display", "none", "-M", "pc,gic-version=2"};
    ProcessResult r = run_process(argv, {}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.err, "corvid-system-x86_64: Property 'pc-machine.gic-version' not found\n");
}

TEST(VirtGicCommandLine, GlobalAcceptsOnlyModernVirtioMmio) {
    struct Case {
        const char* arg;
        const char* error;
    };
    const Case cases[] = {
        {"virtio-mmio.force-legacy=true", "legacy virtio-mmio (version 1) is not supported"},
        {"virtio-mmio.force-legacy=on", "legacy virtio-mmio (version 1) is not supported"},
        {"virtio-mmio.force-legacy=maybe", "Parameter 'force-legacy' expects 'on', 'off', 'yes' or 'no'"},
        {"e1000.mac=52:54:00:12:34:56", "global property 'e1000.mac' is not supported"},
        {"force-legacy", "expects driver.property=value"},
    };
    for (const Case& c : cases) {
        ProcessResult r = run_a64({"-display", "none", "-global", c.arg});
        EXPECT_EQ(r.exit_status, 1) << c.arg;
        EXPECT_EQ(r.err, std::string("corvid-system-aarch64: -global ") + c.arg + ": " + c.error + "\n");
    }
}

TEST(VirtGicCommandLine, QemuStyleArgumentsBootAGuest) {
    if (!std::ifstream(hello_elf())) GTEST_SKIP() << hello_elf() << " not built (no aarch64 cross compiler?)";
    ProcessResult r = run_a64({"-M", "virt,gic-version=2", "-cpu", "cortex-a57", "-display", "none", "-serial",
                               "stdio", "-global", "virtio-mmio.force-legacy=false", "-kernel", hello_elf()});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("Hello from Corvid AArch64 guest!"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace corvid::testing
