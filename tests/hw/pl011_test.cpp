// Tests for the PL011 UART model: registers, FIFO, interrupts, IDs, bad accesses, backend wiring.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/char_backend.h"
#include "hw/char/pl011.h"
#include "log_capture.h"

namespace corvid {
namespace {

using testing::LogCapture;

class FakeChar : public CharBackend {
public:
    void write(const uint8_t* data, size_t size) override { out.append(reinterpret_cast<const char*>(data), size); }
    void set_receiver(Receiver r) override { receiver = std::move(r); }
    // Delivers as much pending input as the device accepts, like a real backend's poll.
    void poll_input() override {
        while (!pending.empty()) {
            size_t n = std::min(receiver.can_receive(), pending.size());
            if (n == 0) break;
            receiver.receive(reinterpret_cast<const uint8_t*>(pending.data()), n);
            pending.erase(0, n);
        }
    }
    std::string out;
    std::string pending;
    Receiver receiver;
};

struct Pl011Fixture : ::testing::Test {
    FakeChar chr;
    std::vector<bool> irq_changes;
    Pl011 uart{&chr, [this](bool level) { irq_changes.push_back(level); }};

    uint32_t rd(uint64_t off) { return static_cast<uint32_t>(uart.read(off, 4)); }
    void wr(uint64_t off, uint32_t v) { uart.write(off, v, 4); }
    void enable(bool fifo) {
        wr(Pl011::kCR, Pl011::kCrUarten | Pl011::kCrTxe | Pl011::kCrRxe);
        wr(Pl011::kLCR_H, (3u << 5) | (fifo ? uint32_t{Pl011::kLcrFen} : 0u));
    }
};

TEST_F(Pl011Fixture, ResetValues) {
    EXPECT_EQ(rd(Pl011::kCR), 0x300u);
    EXPECT_EQ(rd(Pl011::kIFLS), 0x12u);
    EXPECT_EQ(rd(Pl011::kFR), Pl011::kFrTxfe | Pl011::kFrRxfe);
    EXPECT_EQ(rd(Pl011::kLCR_H), 0u);
    EXPECT_EQ(rd(Pl011::kIMSC), 0u);
    EXPECT_EQ(rd(Pl011::kRIS), 0u);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(Pl011Fixture, PrimeCellIds) {
    const uint32_t expected[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    for (int i = 0; i < 8; i++) EXPECT_EQ(rd(0xfe0 + 4 * i), expected[i]) << "offset " << std::hex << 0xfe0 + 4 * i;
    // Read-only.
    LogCapture cap;
    wr(0xfe0, 0);
    EXPECT_EQ(rd(0xfe0), 0x11u);
    EXPECT_TRUE(cap.contains("read-only ID register")) << cap.text();
}

TEST_F(Pl011Fixture, TransmitGoesToBackend) {
    enable(false);
    for (char c : std::string("hi\n")) uart.write(Pl011::kDR, static_cast<uint8_t>(c), 1);
    EXPECT_EQ(chr.out, "hi\n");
    uart.write(Pl011::kDR, 0x1234, 4);  // only the low byte is data
    EXPECT_EQ(chr.out.back(), '\x34');
    EXPECT_EQ(rd(Pl011::kFR) & (Pl011::kFrTxff | Pl011::kFrBusy), 0u);
}

TEST_F(Pl011Fixture, TransmitWhileDisabledIsLoggedButSent) {
    LogCapture cap;
    wr(Pl011::kDR, 'x');  // UARTEN is clear after reset
    EXPECT_EQ(chr.out, "x");
    EXPECT_TRUE(cap.contains("disabled UART")) << cap.text();
}

TEST_F(Pl011Fixture, ReceiveWithoutFifoHoldsOneByte) {
    enable(false);
    chr.pending = "abc";
    chr.poll_input();
    EXPECT_EQ(uart.rx_count(), 1u);
    EXPECT_EQ(chr.pending, "bc");
    EXPECT_EQ(rd(Pl011::kFR) & (Pl011::kFrRxfe | Pl011::kFrRxff), Pl011::kFrRxff);
    // Reading DR frees the holding register and pulls the next pending byte from the backend.
    EXPECT_EQ(rd(Pl011::kDR), static_cast<uint32_t>('a'));
    EXPECT_EQ(chr.pending, "c");
    EXPECT_EQ(rd(Pl011::kDR), static_cast<uint32_t>('b'));
    EXPECT_EQ(rd(Pl011::kDR), static_cast<uint32_t>('c'));
    EXPECT_TRUE(chr.pending.empty());
    EXPECT_NE(rd(Pl011::kFR) & Pl011::kFrRxfe, 0u);
    EXPECT_EQ(rd(Pl011::kRSR), 0u);  // nothing was overrun
}

TEST_F(Pl011Fixture, PollingTheFlagRegisterFetchesPendingInput) {
    chr.pending = "xy";
    EXPECT_NE(rd(Pl011::kFR) & Pl011::kFrRxfe, 0u);  // receiver disabled: input stays queued
    EXPECT_EQ(chr.pending, "xy");
    enable(false);
    EXPECT_EQ(rd(Pl011::kFR) & Pl011::kFrRxfe, 0u);  // a polling loop sees the byte
    EXPECT_EQ(chr.pending, "y");
    EXPECT_EQ(rd(Pl011::kDR), static_cast<uint32_t>('x'));
    EXPECT_EQ(rd(Pl011::kDR), static_cast<uint32_t>('y'));
    EXPECT_NE(rd(Pl011::kFR) & Pl011::kFrRxfe, 0u);
}

TEST_F(Pl011Fixture, FifoIsSixteenDeepAndOrdered) {
    enable(true);
    chr.pending = "0123456789abcdefXYZ";
    chr.poll_input();
    EXPECT_EQ(uart.rx_count(), 16u);
    EXPECT_EQ(chr.pending, "XYZ");
    EXPECT_NE(rd(Pl011::kFR) & Pl011::kFrRxff, 0u);
    std::string got;
    while (!(rd(Pl011::kFR) & Pl011::kFrRxfe)) got += static_cast<char>(rd(Pl011::kDR));
    EXPECT_EQ(got, "0123456789abcdefXYZ");
}

TEST_F(Pl011Fixture, DisabledReceiverTakesNothing) {
    chr.pending = "a";
    chr.poll_input();  // UARTEN clear after reset
    EXPECT_EQ(uart.rx_count(), 0u);
    wr(Pl011::kCR, Pl011::kCrUarten | Pl011::kCrTxe);  // RXE clear
    chr.poll_input();
    EXPECT_EQ(uart.rx_count(), 0u);
    enable(false);
    chr.poll_input();
    EXPECT_EQ(uart.rx_count(), 1u);
}

TEST_F(Pl011Fixture, FifoEnableChangeFlushes) {
    enable(true);
    chr.pending = "abcd";
    chr.poll_input();
    EXPECT_EQ(uart.rx_count(), 4u);
    wr(Pl011::kLCR_H, 3u << 5);  // FEN off
    EXPECT_EQ(uart.rx_count(), 0u);
    EXPECT_NE(rd(Pl011::kFR) & Pl011::kFrRxfe, 0u);
}

TEST_F(Pl011Fixture, RxInterruptAtTriggerLevel) {
    enable(true);
    wr(Pl011::kIFLS, 0x0 << 3);  // RX trigger at 1/8 = 2 bytes
    wr(Pl011::kIMSC, Pl011::kIntRx);
    chr.pending = "a";
    chr.poll_input();
    EXPECT_EQ(rd(Pl011::kRIS) & Pl011::kIntRx, 0u);
    EXPECT_FALSE(uart.irq_level());
    chr.pending = "b";
    chr.poll_input();
    EXPECT_NE(rd(Pl011::kRIS) & Pl011::kIntRx, 0u);
    EXPECT_EQ(rd(Pl011::kMIS), Pl011::kIntRx);
    EXPECT_TRUE(uart.irq_level());
    rd(Pl011::kDR);  // below the trigger again
    EXPECT_FALSE(uart.irq_level());
    ASSERT_EQ(irq_changes.size(), 2u);
    EXPECT_TRUE(irq_changes[0]);
    EXPECT_FALSE(irq_changes[1]);
}

TEST_F(Pl011Fixture, ReceiveTimeoutInterruptUntilDrained) {
    enable(true);
    wr(Pl011::kIMSC, Pl011::kIntRt);
    chr.pending = "z";
    chr.poll_input();
    EXPECT_TRUE(uart.irq_level());
    wr(Pl011::kICR, Pl011::kIntRt);
    EXPECT_FALSE(uart.irq_level());
    chr.pending = "y";
    chr.poll_input();
    EXPECT_TRUE(uart.irq_level());
    rd(Pl011::kDR);
    EXPECT_TRUE(uart.irq_level());  // one byte still queued
    rd(Pl011::kDR);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(Pl011Fixture, TxInterruptAndClear) {
    enable(false);
    wr(Pl011::kIMSC, Pl011::kIntTx);
    EXPECT_FALSE(uart.irq_level());
    wr(Pl011::kDR, 'a');
    EXPECT_TRUE(uart.irq_level());
    EXPECT_EQ(rd(Pl011::kMIS), Pl011::kIntTx);
    wr(Pl011::kICR, Pl011::kIntTx);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(rd(Pl011::kRIS) & Pl011::kIntTx, 0u);
    // Masking a pending interrupt lowers the line without clearing RIS.
    wr(Pl011::kDR, 'b');
    EXPECT_TRUE(uart.irq_level());
    wr(Pl011::kIMSC, 0);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_NE(rd(Pl011::kRIS) & Pl011::kIntTx, 0u);
}

TEST_F(Pl011Fixture, LoopbackOverrunSetsErrors) {
    enable(false);
    wr(Pl011::kCR, Pl011::kCrUarten | Pl011::kCrTxe | Pl011::kCrRxe | Pl011::kCrLbe);
    wr(Pl011::kIMSC, Pl011::kIntOe);
    wr(Pl011::kDR, 'p');
    wr(Pl011::kDR, 'q');  // the 1-entry FIFO is full: overrun
    EXPECT_TRUE(chr.out.empty());
    EXPECT_NE(rd(Pl011::kRIS) & Pl011::kIntOe, 0u);
    EXPECT_TRUE(uart.irq_level());
    EXPECT_NE(rd(Pl011::kRSR) & 0x8u, 0u);
    uint32_t dr = rd(Pl011::kDR);
    EXPECT_EQ(dr & 0xff, static_cast<uint32_t>('p'));
    EXPECT_NE(dr & (1u << 11), 0u);  // OE flagged on the data
    wr(Pl011::kRSR, 0);             // ECR clears
    EXPECT_EQ(rd(Pl011::kRSR), 0u);
}

TEST_F(Pl011Fixture, PlainRegistersKeepTheirWidth) {
    LogCapture cap;
    wr(Pl011::kIBRD, 0x12345);
    EXPECT_EQ(rd(Pl011::kIBRD), 0x2345u);
    wr(Pl011::kFBRD, 0x7f);
    EXPECT_EQ(rd(Pl011::kFBRD), 0x3fu);
    wr(Pl011::kILPR, 0x1ab);
    EXPECT_EQ(rd(Pl011::kILPR), 0xabu);
    wr(Pl011::kDMACR, 0x5);
    EXPECT_EQ(rd(Pl011::kDMACR), 0x5u);
    EXPECT_TRUE(cap.contains("reserved bits")) << cap.text();
}

TEST_F(Pl011Fixture, BadAccessesAreLoggedAndIgnored) {
    LogCapture cap;
    enable(false);
    const uint32_t cr = rd(Pl011::kCR);
    EXPECT_EQ(rd(0x100), 0u);                  // unknown register
    wr(0x100, 1);
    wr(Pl011::kFR, 0);                         // read-only
    EXPECT_EQ(rd(Pl011::kICR), 0u);            // write-only
    EXPECT_EQ(uart.read(Pl011::kCR, 8), 0u);   // too wide
    uart.write(Pl011::kCR, 0, 8);
    EXPECT_EQ(uart.read(Pl011::kCR + 1, 1), 0u);  // not register aligned
    wr(Pl011::kIFLS, 0x3f);                    // reserved level selects
    EXPECT_EQ(rd(Pl011::kCR), cr);
    EXPECT_TRUE(chr.out.empty());
    EXPECT_TRUE(cap.contains("unknown register")) << cap.text();
    EXPECT_TRUE(cap.contains("read-only register")) << cap.text();
    EXPECT_TRUE(cap.contains("write-only register ICR")) << cap.text();
    EXPECT_TRUE(cap.contains("bad read of size 8")) << cap.text();
    EXPECT_TRUE(cap.contains("reserved FIFO level")) << cap.text();
}

TEST_F(Pl011Fixture, ResetClearsState) {
    enable(true);
    wr(Pl011::kIMSC, Pl011::kIntRt);
    chr.pending = "abc";
    chr.poll_input();
    EXPECT_TRUE(uart.irq_level());
    uart.reset();
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(uart.rx_count(), 0u);
    EXPECT_EQ(rd(Pl011::kCR), 0x300u);
    EXPECT_EQ(rd(Pl011::kIMSC), 0u);
}

// Random register traffic mixed with input: the model keeps its invariants and never crashes.
TEST_F(Pl011Fixture, RandomRegisterTraffic) {
    std::mt19937 rng(1234);
    log::set_mask(0);
    for (int i = 0; i < 200000; i++) {
        const uint64_t off = (rng() % 3 == 0) ? (rng() % 0x1000) : (rng() % 0x13) * 4;
        const unsigned size = 1u << (rng() % 4);
        if (rng() % 2) {
            uart.write(off, (rng() % 2) ? rng() : rng() % 0x400, size);
        } else {
            uart.read(off, size);
        }
        if (rng() % 16 == 0) {
            chr.pending.push_back(static_cast<char>(rng()));
            chr.poll_input();
        }
        if (rng() % 5000 == 0) uart.reset();
        const unsigned depth = (rd(Pl011::kLCR_H) & Pl011::kLcrFen) ? 16 : 1;
        ASSERT_LE(uart.rx_count(), depth);
        ASSERT_EQ(uart.irq_level(), (rd(Pl011::kMIS) & Pl011::kIntAll) != 0);
        const bool rxfe = (rd(Pl011::kFR) & Pl011::kFrRxfe) != 0;  // may pull pending input in first
        ASSERT_EQ(rxfe, uart.rx_count() == 0);
        if (chr.pending.size() > 64) chr.pending.clear();
    }
}

TEST(Pl011, WorksThroughAddressSpace) {
    FakeChar chr;
    Pl011 uart(&chr, nullptr);
    AddressSpace as("memory");
    ASSERT_TRUE(as.add_mmio("pl011", 0x09000000, Pl011::kMmioSize, &uart, Pl011::kValidSizes).ok());
    EXPECT_EQ(as.write(0x09000030, 4, 0x301), MemResult::kOk);
    EXPECT_EQ(as.write(0x09000000, 1, 'K'), MemResult::kOk);
    uint64_t v = 0;
    EXPECT_EQ(as.read(0x09000fe0, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x11u);
    EXPECT_EQ(as.read(0x09000000, 8, &v), MemResult::kDeviceError);
    EXPECT_EQ(chr.out, "K");
}

TEST(Pl011, NullBackendDiscardsOutput) {
    Pl011 uart(nullptr, nullptr);
    uart.write(Pl011::kCR, 0x301, 4);
    uart.write(Pl011::kDR, 'x', 4);
    EXPECT_EQ(uart.can_receive(), 1u);
}

}  // namespace
}  // namespace corvid
