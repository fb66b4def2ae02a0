// Tests for the PCI config-space core: header defaults, write masks and RW1C bits, function
// visibility (multi-function rule), slot conflicts, mechanism #1 decoding and bad accesses.
#include <gtest/gtest.h>

#include "hw/pci/pc_chipset.h"
#include "hw/pci/pci.h"
#include "log_capture.h"

namespace corvid {
namespace {

// A BAR-less endpoint with a device-specific register, for the generic semantics.
class TestFunction : public PciFunction {
public:
    explicit TestFunction(uint8_t header = 0x00) : PciFunction("test", {0x1234, 0x5678, 0x09, 0x020000, header}) {
        set_reg(0x40, 2, 0xaa55, 0x00ff, 0xff00);  // low byte writable, high byte RW1C
    }
};

TEST(Pci, HeaderDefaults) {
    TestFunction f;
    EXPECT_EQ(f.config_read(0x00, 4), 0x56781234u);
    EXPECT_EQ(f.config_read(0x08, 4), 0x02000009u);
    EXPECT_EQ(f.config_read(0x2c, 4), 0x11001af4u);  // QEMU's subsystem IDs
    EXPECT_EQ(f.config_read(0x0e, 1), 0x00u);
}

TEST(Pci, WriteMasksAndRw1c) {
    TestFunction f;
    f.config_write(0x40, 0xffff, 2);
    // Writable bits take the value; RW1C bits written with 1 clear.
    EXPECT_EQ(f.config_read(0x40, 2), 0x00ffu);
    f.config_write(0x40, 0x0012, 2);
    EXPECT_EQ(f.config_read(0x40, 2), 0x0012u);
    f.config_write(0x0c, 0x12345678, 4);  // cache line + latency writable, header/BIST not
    EXPECT_EQ(f.config_read(0x0c, 4), 0x00005678u);
    f.reset();
    EXPECT_EQ(f.config_read(0x40, 2), 0xaa55u);
    EXPECT_EQ(f.config_read(0x0c, 4), 0u);
}

TEST(Pci, FunctionVisibilityAndSlots) {
    PciBus bus;
    ASSERT_TRUE(bus.add(0x18, std::make_unique<TestFunction>(0x00)).ok());
    ASSERT_TRUE(bus.add(0x19, std::make_unique<TestFunction>(0x00)).ok());
    // Function 1 of a single-function device is not visible.
    EXPECT_EQ(bus.read(0, 0x19, 0, 2), 0xffffu);
    ASSERT_TRUE(bus.add(0x20, std::make_unique<TestFunction>(0x80)).ok());
    ASSERT_TRUE(bus.add(0x21, std::make_unique<TestFunction>(0x00)).ok());
    EXPECT_EQ(bus.read(0, 0x21, 0, 2), 0x1234u);
    EXPECT_EQ(bus.read(1, 0x18, 0, 4), 0xffffffffu);
    Status st = bus.add(0x18, std::make_unique<TestFunction>());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "PCI slot 03.0 is already occupied by test");
}

TEST(Pci, ConfigMechanismOne) {
    PciBus bus;
    ASSERT_TRUE(bus.add(0x00, make_i440fx_host()).ok());
    PciConfigIo io(bus, nullptr, false);
    io.write(0, 0x8000'0000u, 4);
    EXPECT_EQ(io.read(4, 4), 0x12378086u);
    EXPECT_EQ(io.read(6, 2), 0x1237u);
    EXPECT_EQ(io.read(7, 1), 0x12u);
    // Register bits 1:0 of the address are ignored; bits 27-24 too on conventional PCI.
    io.write(0, 0x8f00'0003u, 4);
    EXPECT_EQ(io.read(0, 4), 0x8000'0000u);
    testing::LogCapture log;
    EXPECT_EQ(io.read(5, 2), 0xffffu);  // unaligned word
    EXPECT_EQ(io.read(2, 2), 0xffffu);  // not a 32-bit access to the address register
    EXPECT_TRUE(log.contains("pci: unaligned config read of size 2"));
    EXPECT_TRUE(log.contains("pci: bad read of size 2 at port 0xcfa"));
}

TEST(Pci, EcamDecoding) {
    PciBus bus;
    ASSERT_TRUE(bus.add(0xf8, make_ich9_lpc()).ok());
    PciEcam ecam(bus, kQ35EcamSize);
    EXPECT_EQ(ecam.read(0xf8000, 4), 0x29188086u);
    EXPECT_EQ(ecam.read(0xf8060, 4), 0x80808080u);
    ecam.write(0xf8060, 0x0b, 1);
    EXPECT_EQ(ecam.read(0xf8060, 1), 0x0bu);
    testing::LogCapture log;
    EXPECT_EQ(ecam.read(0xf8001, 4), 0xffffffffu);
    EXPECT_TRUE(log.contains("pci ecam: bad read of size 4 at offset 0xf8001"));
}

}  // namespace
}  // namespace corvid
