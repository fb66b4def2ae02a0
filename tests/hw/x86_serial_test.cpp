// Tests for the 16550A UART: registers, divisor latch, FIFO and trigger levels, IIR priorities,
// LSR/MSR semantics, loopback, backend wiring and bad accesses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/char_backend.h"
#include "hw/char/serial_16550.h"
#include "log_capture.h"

namespace corvid {
namespace {

using testing::LogCapture;
using S = Serial16550;

class FakeChar : public CharBackend {
public:
    void write(const uint8_t* data, size_t size) override { out.append(reinterpret_cast<const char*>(data), size); }
    void set_receiver(Receiver r) override { receiver = std::move(r); }
    void poll_input() override {
        while (!pending.empty()) {
            size_t n = std::min(receiver.can_receive(), pending.size());
            if (n == 0) break;
            receiver.receive(reinterpret_cast<const uint8_t*>(pending.data()), n);
            pending.erase(0, n);
        }
    }
    std::string out, pending;
    Receiver receiver;
};

struct SerialFixture : ::testing::Test {
    FakeChar chr;
    std::vector<bool> irqs;
    Serial16550 uart{&chr, [this](bool l) { irqs.push_back(l); }};

    uint8_t rd(uint64_t off) { return static_cast<uint8_t>(uart.read(off, 1)); }
    void wr(uint64_t off, uint8_t v) { uart.write(off, v, 1); }
    void feed(const std::string& s) {
        chr.pending += s;
        chr.poll_input();
    }
};

TEST_F(SerialFixture, ResetValues) {
    EXPECT_EQ(rd(S::kIER), 0);
    EXPECT_EQ(rd(S::kIIR), S::kIirNoInt);
    EXPECT_EQ(rd(S::kLCR), 0);
    EXPECT_EQ(rd(S::kMCR), S::kMcrOut2);
    EXPECT_EQ(rd(S::kLSR), S::kLsrThre | S::kLsrTemt);
    EXPECT_EQ(rd(S::kMSR), S::kMsrDcd | S::kMsrDsr | S::kMsrCts);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(SerialFixture, TransmitGoesToBackend) {
    for (char c : std::string("hi\n")) wr(S::kTHR, static_cast<uint8_t>(c));
    EXPECT_EQ(chr.out, "hi\n");
    EXPECT_EQ(rd(S::kLSR) & (S::kLsrThre | S::kLsrTemt), S::kLsrThre | S::kLsrTemt);
}

TEST_F(SerialFixture, DivisorLatchAndScratch) {
    wr(S::kLCR, S::kLcrDlab | 0x03);
    wr(S::kDLL, 0x01);
    wr(S::kDLM, 0x02);
    EXPECT_EQ(rd(S::kDLL), 0x01);
    EXPECT_EQ(rd(S::kDLM), 0x02);
    // With DLAB set, offset 0 is the divisor: nothing is transmitted.
    EXPECT_TRUE(chr.out.empty());
    wr(S::kLCR, 0x03);
    EXPECT_EQ(rd(S::kIER), 0);  // IER untouched by the divisor writes
    wr(S::kSCR, 0xa5);
    EXPECT_EQ(rd(S::kSCR), 0xa5);
    EXPECT_EQ(rd(S::kLCR), 0x03);
}

TEST_F(SerialFixture, ReceiveWithoutFifoHoldsOneByte) {
    feed("ab");
    EXPECT_EQ(uart.rx_count(), 1u);
    EXPECT_TRUE(rd(S::kLSR) & S::kLsrDr);
    EXPECT_EQ(rd(S::kRBR), 'a');
    // The RBR read pulled the next byte from the backend.
    EXPECT_EQ(rd(S::kRBR), 'b');
    EXPECT_FALSE(rd(S::kLSR) & S::kLsrDr);
}

TEST_F(SerialFixture, FifoHoldsSixteenAndOverrunSetsOe) {
    wr(S::kFCR, S::kFcrEnable);
    EXPECT_EQ(rd(S::kIIR) & 0xc0, 0xc0);  // FIFOs enabled
    // Deliver directly (a real backend would stop at can_receive).
    std::string data(17, 'x');
    data[0] = '0';
    uart.receive(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    EXPECT_EQ(uart.rx_count(), 16u);
    const uint8_t lsr = rd(S::kLSR);
    EXPECT_TRUE(lsr & S::kLsrOe);
    EXPECT_FALSE(rd(S::kLSR) & S::kLsrOe);  // cleared by reading LSR
    EXPECT_EQ(rd(S::kRBR), '0');
    EXPECT_EQ(uart.can_receive(), 1u);
}

TEST_F(SerialFixture, FifoClearAndToggleFlush) {
    wr(S::kFCR, S::kFcrEnable);
    feed("abc");
    EXPECT_EQ(uart.rx_count(), 3u);
    wr(S::kFCR, S::kFcrEnable | S::kFcrClearRx);
    EXPECT_EQ(uart.rx_count(), 0u);
    EXPECT_FALSE(rd(S::kLSR) & S::kLsrDr);
    feed("de");
    wr(S::kFCR, 0);  // disabling the FIFOs flushes them
    EXPECT_EQ(uart.rx_count(), 0u);
}

TEST_F(SerialFixture, TriggerLevelAndTimeout) {
    wr(S::kFCR, S::kFcrEnable | 0x80);  // trigger at 8 bytes
    wr(S::kIER, S::kIerRda);
    feed("1234");
    // Below the trigger level: the character timeout reports the data.
    EXPECT_EQ(rd(S::kIIR) & 0x0f, S::kIirCti);
    feed("5678");
    EXPECT_EQ(rd(S::kIIR) & 0x0f, S::kIirRda);
    EXPECT_TRUE(uart.irq_level());
    for (int i = 0; i < 8; i++) rd(S::kRBR);
    EXPECT_EQ(rd(S::kIIR) & 0x0f, S::kIirNoInt);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(SerialFixture, ThreInterruptAcknowledgedByIirRead) {
    wr(S::kIER, S::kIerThre);
    // Enabling THRE with an empty THR raises it at once.
    EXPECT_TRUE(uart.irq_level());
    EXPECT_EQ(rd(S::kIIR), S::kIirThre);
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(rd(S::kIIR), S::kIirNoInt);
    wr(S::kTHR, 'x');
    EXPECT_TRUE(uart.irq_level());
    wr(S::kIER, 0);
    EXPECT_FALSE(uart.irq_level());
}

TEST_F(SerialFixture, EachTransmittedByteIsANewThreEdge) {
    wr(S::kIER, S::kIerThre);
    ASSERT_TRUE(uart.irq_level());
    irqs.clear();
    wr(S::kTHR, 'a');
    wr(S::kTHR, 'b');
    // The line drops while THR is "full" and rises when it empties: an edge per byte.
    EXPECT_EQ(irqs, (std::vector<bool>{false, true, false, true}));
}

TEST_F(SerialFixture, InterruptPriorities) {
    wr(S::kIER, S::kIerRda | S::kIerThre | S::kIerRls | S::kIerMs);
    feed("a");
    uart.receive(reinterpret_cast<const uint8_t*>("b"), 1);  // overrun (no FIFO)
    // Line status beats received data beats THRE.
    EXPECT_EQ(rd(S::kIIR), S::kIirRls);
    rd(S::kLSR);
    EXPECT_EQ(rd(S::kIIR), S::kIirRda);
    EXPECT_EQ(rd(S::kRBR), 'b');  // without FIFO the overrunning byte replaces the unread one
    EXPECT_EQ(rd(S::kIIR), S::kIirThre);
    EXPECT_EQ(rd(S::kIIR), S::kIirNoInt);
    // Looping back changes the modem inputs but, as in QEMU, reports no deltas: no modem
    // status interrupt.
    wr(S::kMCR, S::kMcrLoop | S::kMcrRts);
    EXPECT_EQ(rd(S::kMSR), S::kMsrCts);
    EXPECT_EQ(rd(S::kIIR), S::kIirNoInt);
}

TEST_F(SerialFixture, LoopbackRoutesTxToRx) {
    wr(S::kMCR, S::kMcrLoop | S::kMcrDtr | S::kMcrOut1 | S::kMcrOut2);
    wr(S::kTHR, 'Z');
    EXPECT_TRUE(chr.out.empty());
    EXPECT_EQ(rd(S::kRBR), 'Z');
    const uint8_t msr = rd(S::kMSR);
    EXPECT_EQ(msr & 0xf0, S::kMsrDsr | S::kMsrRi | S::kMsrDcd);
    // The outside world cannot deliver while looped back.
    EXPECT_EQ(uart.can_receive(), 0u);
}

TEST_F(SerialFixture, BadAccessesLoggedAndIgnored) {
    LogCapture log;
    EXPECT_EQ(uart.read(0, 2), 0xffffu);
    uart.write(0, 'x', 4);
    EXPECT_TRUE(chr.out.empty());
    wr(S::kLSR, 0);
    EXPECT_EQ(rd(S::kLSR), S::kLsrThre | S::kLsrTemt);
    EXPECT_TRUE(log.contains("serial: bad read of size 2"));
    EXPECT_TRUE(log.contains("serial: bad write of size 4"));
    EXPECT_TRUE(log.contains("read-only LSR"));
}

TEST_F(SerialFixture, ResetClearsState) {
    wr(S::kFCR, S::kFcrEnable);
    wr(S::kIER, S::kIerRda);
    feed("abc");
    EXPECT_TRUE(uart.irq_level());
    uart.reset();
    EXPECT_FALSE(uart.irq_level());
    EXPECT_EQ(uart.rx_count(), 0u);
    EXPECT_EQ(rd(S::kIER), 0);
}

}  // namespace
}  // namespace corvid
