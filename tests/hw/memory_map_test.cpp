// Tests for hw/memory_map: mapping rules, lookup, RAM/ROM/MMIO dispatch, copy helpers, mtree.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hw/memory_map.h"
#include "log_capture.h"

namespace corvid {
namespace {

using testing::LogCapture;

// A device that records accesses and returns offset-derived values.
class RecordingDevice : public MmioOps {
public:
    struct Access {
        bool is_write;
        uint64_t offset;
        uint64_t value;
        unsigned size;
    };
    uint64_t read(uint64_t offset, unsigned size) override {
        log.push_back({false, offset, 0, size});
        return 0x1122334455667788ull + offset;
    }
    void write(uint64_t offset, uint64_t value, unsigned size) override { log.push_back({true, offset, value, size}); }
    std::vector<Access> log;
};

TEST(AddressSpace, RamReadWriteLittleEndian) {
    AddressSpace as("memory");
    ASSERT_TRUE(as.add_ram("ram", 0x40000000, 0x10000).ok());
    EXPECT_EQ(as.write(0x40000010, 8, 0x0102030405060708ull), MemResult::kOk);
    uint64_t v = 0;
    EXPECT_EQ(as.read(0x40000010, 1, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x08u);
    EXPECT_EQ(as.read(0x40000012, 2, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x0506u);
    EXPECT_EQ(as.read(0x40000014, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x01020304u);
    EXPECT_EQ(as.write(0x40000011, 2, 0xffffaabb), MemResult::kOk);  // only 2 bytes written
    EXPECT_EQ(as.read(0x40000010, 8, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x0102030405aabb08ull);
}

TEST(AddressSpace, RamIsZeroFilledAndPageBacked) {
    AddressSpace as("memory");
    ASSERT_TRUE(as.add_ram("ram", 0x40000000, 0x3000).ok());
    bool writable = false;
    uint8_t* p0 = as.ram_page(0x40000000, &writable);
    uint8_t* p1 = as.ram_page(0x40001fff, &writable);
    ASSERT_NE(p0, nullptr);
    ASSERT_NE(p1, nullptr);
    EXPECT_TRUE(writable);
    EXPECT_EQ(p1 - p0, 0x1000);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p0) % AddressSpace::kPageSize, 0u);
    for (int i = 0; i < 0x3000; i++) ASSERT_EQ(p0[i], 0);
    p0[0x1234] = 0x5a;
    uint64_t v = 0;
    EXPECT_EQ(as.read(0x40001234, 1, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x5au);
    EXPECT_EQ(as.ram_page(0x40003000, &writable), nullptr);
    EXPECT_EQ(as.ram_page(0x3fffffff, &writable), nullptr);
}

TEST(AddressSpace, RejectsMisalignedAndEmptyRam) {
    AddressSpace as("memory");
    EXPECT_FALSE(as.add_ram("a", 0x40000800, 0x1000).ok());
    EXPECT_FALSE(as.add_ram("b", 0x40000000, 0x1800).ok());
    EXPECT_FALSE(as.add_ram("c", 0x40000000, 0).ok());
    EXPECT_FALSE(as.add_rom("d", 0x100, 0x1000).ok());
    EXPECT_TRUE(as.regions().empty());
}

TEST(AddressSpace, OverlapIsRejectedWithClearError) {
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_ram("ram", 0x40000000, 0x100000).ok());
    ASSERT_TRUE(as.add_mmio("uart", 0x09000000, 0x1000, &dev).ok());
    auto s = as.add_mmio("rtc", 0x09000800, 0x1000, &dev);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("'rtc'"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("overlaps 'uart'"), std::string::npos) << s.error();
    // Overlap with the following region, and containment.
    EXPECT_FALSE(as.add_mmio("x", 0x08fff000, 0x2000, &dev).ok());
    EXPECT_FALSE(as.add_ram("y", 0x40010000, 0x1000).ok());
    EXPECT_FALSE(as.add_ram("z", 0x3ff00000, 0x200000).ok());
    // Adjacent regions are fine.
    EXPECT_TRUE(as.add_mmio("before", 0x08fff000, 0x1000, &dev).ok());
    EXPECT_TRUE(as.add_mmio("after", 0x09001000, 0x10, &dev).ok());
    EXPECT_EQ(as.regions().size(), 4u);
}

TEST(AddressSpace, WrapAroundAndLimit) {
    AddressSpace as("memory");
    RecordingDevice dev;
    EXPECT_FALSE(as.add_mmio("wrap", 0xfffffffffffff000ull, 0x2000, &dev).ok());
    EXPECT_TRUE(as.add_mmio("top", 0xfffffffffffff000ull, 0x1000, &dev).ok());
    uint64_t v;
    EXPECT_EQ(as.read(0xffffffffffffffffull, 1, &v), MemResult::kOk);

    AddressSpace io("io", 0x10000);
    EXPECT_TRUE(io.add_mmio("com1", 0x3f8, 8, &dev, kAccess1).ok());
    EXPECT_FALSE(io.add_mmio("beyond", 0xfff0, 0x20, &dev).ok());
    EXPECT_FALSE(io.add_mmio("outside", 0x10000, 1, &dev).ok());
}

TEST(AddressSpace, MmioDispatchWithOffsets) {
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_mmio("dev", 0x09000000, 0x1000, &dev, kAccess4 | kAccess1).ok());
    uint64_t v = 0;
    EXPECT_EQ(as.read(0x09000018, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x55667788u + 0x18u);  // truncated to the access size
    EXPECT_EQ(as.write(0x09000000, 1, 0x141), MemResult::kOk);
    ASSERT_EQ(dev.log.size(), 2u);
    EXPECT_FALSE(dev.log[0].is_write);
    EXPECT_EQ(dev.log[0].offset, 0x18u);
    EXPECT_TRUE(dev.log[1].is_write);
    EXPECT_EQ(dev.log[1].offset, 0u);
    EXPECT_EQ(dev.log[1].value, 0x41u);  // masked to one byte
    EXPECT_EQ(dev.log[1].size, 1u);
}

TEST(AddressSpace, BadSizeAndUnmappedAreGuestErrors) {
    LogCapture cap;
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_mmio("dev", 0x09000000, 0x1000, &dev, kAccess4).ok());
    uint64_t v = 123;
    EXPECT_EQ(as.read(0x09000000, 8, &v), MemResult::kDeviceError);
    EXPECT_EQ(as.write(0x09000000, 2, 1), MemResult::kDeviceError);
    EXPECT_TRUE(dev.log.empty());
    EXPECT_EQ(as.read(0x0b000000, 4, &v), MemResult::kUnmapped);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(as.write(0x0b000000, 4, 7), MemResult::kUnmapped);
    EXPECT_EQ(as.read(0x09000000, 3, &v), MemResult::kDeviceError);
    // An access running off the end of a device window.
    EXPECT_EQ(as.read(0x09000ffe, 4, &v), MemResult::kDeviceError);
    EXPECT_TRUE(dev.log.empty());
    EXPECT_TRUE(cap.contains("size not supported")) << cap.text();
    EXPECT_TRUE(cap.contains("0xb000000")) << cap.text();
    EXPECT_GE(cap.lines(), 6u);
}

TEST(AddressSpace, RomIsReadOnlyForTheGuestButLoadable) {
    LogCapture cap;
    AddressSpace as("memory");
    ASSERT_TRUE(as.add_rom("flash", 0, 0x2000).ok());
    const uint8_t fw[4] = {1, 2, 3, 4};
    ASSERT_TRUE(as.write_bytes(0x1ffe, fw, 2).ok());
    EXPECT_EQ(as.write(0x1ffe, 2, 0xffff), MemResult::kOk);
    uint64_t v = 0;
    EXPECT_EQ(as.read(0x1ffe, 2, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x0201u);
    bool writable = true;
    EXPECT_NE(as.ram_page(0x1000, &writable), nullptr);
    EXPECT_FALSE(writable);
    EXPECT_TRUE(cap.contains("ROM")) << cap.text();
}

TEST(AddressSpace, AccessAcrossAdjacentRamRegions) {
    AddressSpace as("memory");
    ASSERT_TRUE(as.add_ram("lo", 0x0, 0x1000).ok());
    ASSERT_TRUE(as.add_ram("hi", 0x1000, 0x1000).ok());
    EXPECT_EQ(as.write(0xffc, 8, 0x8877665544332211ull), MemResult::kOk);
    uint64_t v = 0;
    EXPECT_EQ(as.read(0xffc, 8, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x8877665544332211ull);
    EXPECT_EQ(as.read(0x1000, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x88776655u);
    // Running into unmapped space fails without a partial write.
    EXPECT_EQ(as.write(0x1ffc, 8, ~0ull), MemResult::kUnmapped);
    EXPECT_EQ(as.read(0x1ffc, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0u);
}

TEST(AddressSpace, CopyHelpersAreBoundsChecked) {
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_ram("ram", 0x40000000, 0x2000).ok());
    ASSERT_TRUE(as.add_mmio("dev", 0x40002000, 0x1000, &dev).ok());
    std::vector<uint8_t> data(0x100);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<uint8_t>(i * 7);
    ASSERT_TRUE(as.write_bytes(0x40000f80, data.data(), data.size()).ok());  // crosses a page
    std::vector<uint8_t> back(data.size());
    ASSERT_TRUE(as.read_bytes(0x40000f80, back.data(), back.size()).ok());
    EXPECT_EQ(back, data);
    EXPECT_FALSE(as.write_bytes(0x40001f80, data.data(), data.size()).ok());  // runs into MMIO
    EXPECT_FALSE(as.read_bytes(0x3fffff00, back.data(), 0x200).ok());        // starts in a hole
    EXPECT_FALSE(as.fill(0xffffffffffffff00ull, 0, 0x200).ok());             // wraps
    EXPECT_TRUE(dev.log.empty());
    ASSERT_TRUE(as.fill(0x40000f80, 0xee, 4).ok());
    uint64_t v;
    EXPECT_EQ(as.read(0x40000f80, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0xeeeeeeeeu);
    EXPECT_TRUE(as.is_memory(0x40000000, 0x2000));
    EXPECT_FALSE(as.is_memory(0x40000000, 0x2001));
    EXPECT_EQ(as.host_ptr(0x40001ff0, 0x20), nullptr);
    EXPECT_NE(as.host_ptr(0x40001fe0, 0x20), nullptr);
}

TEST(AddressSpace, LookupWithManyRegions) {
    AddressSpace as("memory");
    std::vector<RecordingDevice> devs(64);
    for (int i = 63; i >= 0; i--) {  // inserted out of order
        ASSERT_TRUE(as.add_mmio("dev" + std::to_string(i), 0x10000000ull + i * 0x2000, 0x1000, &devs[i]).ok());
    }
    for (int i = 0; i < 64; i++) {
        uint64_t v;
        EXPECT_EQ(as.read(0x10000000ull + i * 0x2000 + 0x10, 4, &v), MemResult::kOk);
        EXPECT_EQ(as.read(0x10000000ull + i * 0x2000 + 0x1000, 4, &v), MemResult::kUnmapped);
        ASSERT_EQ(devs[i].log.size(), 1u);
        EXPECT_EQ(devs[i].log[0].offset, 0x10u);
    }
    auto regs = as.regions();
    for (size_t i = 1; i < regs.size(); i++) EXPECT_LT(regs[i - 1].base, regs[i].base);
}

TEST(AddressSpace, RemoveRegion) {
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_mmio("dev", 0x1000, 0x100, &dev).ok());
    EXPECT_FALSE(as.remove(0x1004).ok());
    ASSERT_TRUE(as.remove(0x1000).ok());
    uint64_t v;
    EXPECT_EQ(as.read(0x1000, 4, &v), MemResult::kUnmapped);
    EXPECT_TRUE(as.add_ram("ram", 0x1000, 0x1000).ok());
}

TEST(AddressSpace, MtreeDump) {
    AddressSpace as("memory");
    RecordingDevice dev;
    ASSERT_TRUE(as.add_ram("mach-virt.ram", 0x40000000, 0x8000000).ok());
    ASSERT_TRUE(as.add_mmio("pl011", 0x09000000, 0x1000, &dev).ok());
    ASSERT_TRUE(as.add_rom("virt.flash0", 0, 0x4000000).ok());
    EXPECT_EQ(as.mtree(),
              "address-space: memory\n"
              "  0000000000000000-ffffffffffffffff (prio 0, i/o): memory\n"
              "    0000000000000000-0000000003ffffff (prio 0, rom): virt.flash0\n"
              "    0000000009000000-0000000009000fff (prio 0, i/o): pl011\n"
              "    0000000040000000-0000000047ffffff (prio 0, ram): mach-virt.ram\n");
    AddressSpace io("io", 0x10000);
    ASSERT_TRUE(io.add_mmio("serial", 0x3f8, 8, &dev, kAccess1).ok());
    EXPECT_NE(io.mtree().find("0000000000000000-000000000000ffff (prio 0, i/o): io"), std::string::npos);
    EXPECT_NE(io.mtree().find("00000000000003f8-00000000000003ff (prio 0, i/o): serial"), std::string::npos);
}

}  // namespace
}  // namespace corvid
