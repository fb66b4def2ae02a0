// The fuzzer's own checks must be able to fail: reply shapes, the guard region, the address
// sanitiser, and seeded runs that repeat exactly.
#include <gtest/gtest.h>

#include "tests/qtest_fuzz/fuzzer.h"

namespace corvid::fuzz {
namespace {

TEST(QtestFuzzHarness, ReplyShapes) {
    for (const char* good : {"OK\n", "OK 0x0000000000000001\n", "OK 0x00ff\n", "OK 1500\n", "FAIL Invalid argument\n",
                             "ERR something\n", "OK little\n"}) {
        EXPECT_TRUE(well_formed_reply(good)) << good;
    }
    for (const char* bad : {"", "OK", "ok\n", "OK\nOK\n", "IRQ raise 4\n", "FAIL\n", "OKAY\n", "OK \r\n", "\n"}) {
        EXPECT_FALSE(well_formed_reply(bad)) << bad;
    }
}

TEST(QtestFuzzHarness, GuardNoticesAStrayWriteAndTheRom) {
    for (uint64_t where : {uint64_t{40} << 20, (uint64_t{60} << 20) - 1, uint64_t{0xfffc0100}}) {
        QtestBoard board(Arch::kX86_64, "pc", {});
        ASSERT_EQ(board.error(), "");
        Fuzzer fz(board, 1);
        fz.check_guard();
        EXPECT_FALSE(fz.failed());
        // As a device's DMA would: straight into the host page, not through the fuzzer.
        bool writable = false;
        uint8_t* page = board.machine().memory().ram_page(where, &writable);
        ASSERT_NE(page, nullptr);
        page[where & 0xfff] ^= 0x5a;
        fz.check_guard();
        EXPECT_TRUE(fz.failed()) << std::hex << where;
    }
    // Just below the guard (the slack after the window) and in the window: not checked.
    for (uint64_t where : {(uint64_t{40} << 20) - 1, uint64_t{0x10'0000}}) {
        QtestBoard board(Arch::kX86_64, "pc", {});
        Fuzzer fz(board, 1);
        ASSERT_EQ(board.machine().memory().write(where, 1, 0xa5), MemResult::kOk);
        fz.check_guard();
        EXPECT_FALSE(fz.failed()) << std::hex << where;
    }
}

TEST(QtestFuzzHarness, GeneratedAddressesStayOutOfTheGuard) {
    for (Arch arch : {Arch::kX86_64, Arch::kAArch64}) {
        QtestBoard board(arch, arch == Arch::kX86_64 ? "pc" : "virt", {});
        ASSERT_EQ(board.error(), "");
        Fuzzer fz(board, 3);
        const RamLayout& l = board.layout();
        const uint64_t lo = l.window_end(), hi = l.guard_base + l.guard_size;
        for (int i = 0; i < 200000; i++) {
            const uint64_t at = fz.u(1 << 20) * 4;
            const uint32_t v = static_cast<uint32_t>(fz.sanitize(at, fz.value(), 4));
            EXPECT_FALSE(v >= lo && v < hi) << std::hex << v;
            const uint64_t a = fz.dma_address(l.window_base + 0x10'0000, 0x10'0000);
            EXPECT_FALSE(a >= lo && a < hi) << std::hex << a;
        }
        // Bytes that are not bits 24-31 of a word pass unchanged.
        EXPECT_EQ(fz.sanitize(0, 0x0303'0303, 4) & 0x00ff'ffff, 0x0003'0303u);
    }
}

TEST(QtestFuzzHarness, SameSeedSameCommands) {
    const Target* e1000 = nullptr;
    for (const Target& t : targets()) {
        if (t.name == "e1000") e1000 = &t;
    }
    ASSERT_NE(e1000, nullptr);
    std::vector<std::string> a, b, c;
    EXPECT_EQ(run_target(*e1000, 4000, 11, &a, false).failure, "");
    EXPECT_EQ(run_target(*e1000, 4000, 11, &b, false).failure, "");
    EXPECT_EQ(run_target(*e1000, 4000, 12, &c, false).failure, "");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
}

}  // namespace
}  // namespace corvid::fuzz

namespace corvid::fuzz {
namespace {

// Finding: qtest answered 0 for unassigned ports, where QEMU and our TCG/KVM paths give all-ones.
TEST(QtestFuzzRegression, UnassignedPortsReadAllOnes) {
    QtestBoard pc(Arch::kX86_64, "pc", {});
    ASSERT_EQ(pc.error(), "");
    EXPECT_EQ(pc.execute("inb 0x2000"), "OK 0x00ff\n");
    EXPECT_EQ(pc.execute("inw 0x2000"), "OK 0xffff\n");
    EXPECT_EQ(pc.execute("inl 0x2000"), "OK 0xffffffff\n");
    EXPECT_EQ(pc.execute("inb 0x80"), "OK 0x00ff\n");  // port 0x80 is assigned and reads 0xff too
    EXPECT_EQ(pc.execute("inb 0x3fd"), "OK 0x0060\n");  // an assigned port still reads its register
    QtestBoard virt(Arch::kAArch64, "virt", {});
    ASSERT_EQ(virt.error(), "");
    EXPECT_EQ(virt.execute("inl 0x10"), "OK 0xffffffff\n");  // no I/O space at all
}

}  // namespace
}  // namespace corvid::fuzz
