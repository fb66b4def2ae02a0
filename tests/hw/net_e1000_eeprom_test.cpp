// e1000 EEPROM through the Microwire bit-banging interface (EECD) as Linux's e1000 drives it
// on the 82540EM, and the 82574L (e1000e) variant: its EERD layout, BARs and capability.
#include <gtest/gtest.h>

#include <random>

#include "hw/net/e1000.h"
#include "hw/net/e1000_eeprom.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::CaptureBackend;
using testing::PciEnv;
using Ee = MicrowireEeprom;

struct Nic : PciEnv {
    CaptureBackend backend;
    std::unique_ptr<E1000> dev;
    explicit Nic(const E1000Model& model = kE1000Model82540em) {
        NicConfig c;
        c.mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
        c.backend = &backend;
        dev = std::make_unique<E1000>(c, host, model);
        dev->set_devfn(0x18);
        dev->config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    }
};

// The host side of the wire, written the way a driver does it: every pin change is one EECD
// write; data is sampled after the rising edge.
class Bitbang {
public:
    explicit Bitbang(E1000& d) : d_(d) {}
    bool acquire() {
        eecd_ = d_.mmio_read(E1000::kEecd) | Ee::kReq;
        set(eecd_);
        if (!(d_.mmio_read(E1000::kEecd) & Ee::kGnt)) return false;
        eecd_ &= ~(Ee::kDi | Ee::kSk);
        set(eecd_);
        return true;
    }
    void select() { set(eecd_ |= Ee::kCs); }
    void deselect() { set(eecd_ &= ~(Ee::kCs | Ee::kSk | Ee::kDi)); }
    void release() { set(eecd_ &= ~Ee::kReq); }
    void out(uint32_t bits, unsigned count) {
        for (unsigned i = count; i-- > 0;) {
            eecd_ = (bits >> i) & 1 ? eecd_ | Ee::kDi : eecd_ & ~Ee::kDi;
            set(eecd_);
            set(eecd_ | Ee::kSk);
            set(eecd_);
        }
    }
    uint16_t in16() {
        uint16_t v = 0;
        for (unsigned i = 0; i < 16; i++) {
            set(eecd_ | Ee::kSk);
            v = static_cast<uint16_t>(v << 1 | ((d_.mmio_read(E1000::kEecd) & Ee::kDo) ? 1 : 0));
            set(eecd_);
        }
        return v;
    }
    uint16_t read_word(unsigned addr) {
        select();
        out(0b110, 3);  // start bit, READ
        out(addr, 6);
        const uint16_t v = in16();
        deselect();
        return v;
    }

private:
    void set(uint32_t v) { d_.mmio_write(E1000::kEecd, v); }
    E1000& d_;
    uint32_t eecd_ = 0;
};

TEST(NetE1000Eeprom, MicrowireReadsEveryWordAsEerd) {
    Nic n;
    Bitbang bb(*n.dev);
    ASSERT_TRUE(bb.acquire());
    uint16_t sum = 0;
    for (unsigned w = 0; w < E1000::kEepromWords; w++) {
        const uint16_t v = bb.read_word(w);
        n.dev->mmio_write(E1000::kEerd, w << 8 | E1000::kEerdStart);
        EXPECT_EQ(v, n.dev->mmio_read(E1000::kEerd) >> 16) << "word " << w;
        sum = static_cast<uint16_t>(sum + v);
    }
    bb.release();
    EXPECT_EQ(sum, 0xbaba);
    EXPECT_EQ(n.dev->eeprom(0), 0x5452);
    EXPECT_EQ(n.dev->eeprom(2), 0x5634);
}

TEST(NetE1000Eeprom, SequentialReadContinuesIntoTheNextWord) {
    Nic n;
    Bitbang bb(*n.dev);
    ASSERT_TRUE(bb.acquire());
    bb.select();
    bb.out(0b110, 3);
    bb.out(0, 6);
    EXPECT_EQ(bb.in16(), 0x5452);
    EXPECT_EQ(bb.in16(), 0x1200);
    EXPECT_EQ(bb.in16(), 0x5634);
    bb.deselect();
    // Word 63 wraps to word 0.
    bb.select();
    bb.out(0b110, 3);
    bb.out(63, 6);
    EXPECT_EQ(bb.in16(), n.dev->eeprom(63));
    EXPECT_EQ(bb.in16(), 0x5452);
    bb.deselect();
}

TEST(NetE1000Eeprom, DummyBitIsZeroAndIdleDoIsHigh) {
    Nic n;
    Bitbang bb(*n.dev);
    EXPECT_TRUE(n.dev->mmio_read(E1000::kEecd) & Ee::kPres);
    EXPECT_TRUE(n.dev->mmio_read(E1000::kEecd) & Ee::kDo);  // ready
    ASSERT_TRUE(bb.acquire());
    bb.select();
    bb.out(0b110, 3);
    bb.out(1, 6);
    EXPECT_FALSE(n.dev->mmio_read(E1000::kEecd) & Ee::kDo);  // the dummy zero after A0
    bb.deselect();
    EXPECT_TRUE(n.dev->mmio_read(E1000::kEecd) & Ee::kDo);
}

TEST(NetE1000Eeprom, LeadingZerosBeforeStartBitAreIgnored) {
    Nic n;
    Bitbang bb(*n.dev);
    ASSERT_TRUE(bb.acquire());
    bb.select();
    bb.out(0, 4);
    bb.out(0b110, 3);
    bb.out(2, 6);
    EXPECT_EQ(bb.in16(), 0x5634);
    bb.deselect();
}

TEST(NetE1000Eeprom, PinsDoNotReachThePartWithoutGrant) {
    Nic n;
    EXPECT_FALSE(n.dev->mmio_read(E1000::kEecd) & Ee::kGnt);
    // Bit-bang a whole READ of word 0 without EE_REQ: the part never sees CS.
    uint32_t e = Ee::kCs;
    auto bit = [&](unsigned b) {
        e = b ? e | Ee::kDi : e & ~Ee::kDi;
        n.dev->mmio_write(E1000::kEecd, e);
        n.dev->mmio_write(E1000::kEecd, e | Ee::kSk);
        n.dev->mmio_write(E1000::kEecd, e);
    };
    for (unsigned b : {1, 1, 0, 0, 0, 0, 0, 0, 0}) bit(b);
    unsigned ones = 0;
    for (unsigned i = 0; i < 16; i++) {
        n.dev->mmio_write(E1000::kEecd, e | Ee::kSk);
        ones += (n.dev->mmio_read(E1000::kEecd) & Ee::kDo) ? 1 : 0;
        n.dev->mmio_write(E1000::kEecd, e);
    }
    EXPECT_EQ(ones, 16u);  // DO stays at its idle level, not 0x5452's bits
}

TEST(NetE1000Eeprom, OtherOpcodesDoNotChangeTheContents) {
    Nic n;
    Bitbang bb(*n.dev);
    ASSERT_TRUE(bb.acquire());
    bb.select();
    bb.out(0b100, 3);  // EWEN (00 + 11xxxx)
    bb.out(0x30, 6);
    bb.deselect();
    bb.select();
    bb.out(0b101, 3);  // WRITE word 0
    bb.out(0, 6);
    bb.out(0xdead, 16);
    bb.deselect();
    EXPECT_EQ(bb.read_word(0), 0x5452);
}

TEST(NetE1000Eeprom, CtrlResetAbortsATransfer) {
    Nic n;
    Bitbang bb(*n.dev);
    ASSERT_TRUE(bb.acquire());
    bb.select();
    bb.out(0b110, 3);
    bb.out(0, 6);
    n.dev->mmio_write(E1000::kCtrl, E1000::kCtrlRst);
    EXPECT_EQ(n.dev->mmio_read(E1000::kEecd) & (Ee::kReq | Ee::kGnt | Ee::kCs), 0u);
    ASSERT_TRUE(bb.acquire());
    EXPECT_EQ(bb.read_word(1), 0x1200);
}

TEST(NetE1000e, IdentityBarsAndPcieCapability) {
    Nic n(kE1000Model82574l);
    EXPECT_EQ(n.dev->config_read(0, 4), 0x10d38086u);
    EXPECT_EQ(n.dev->config_read(8, 4) >> 8, 0x020000u);
    // BAR0 memory, BAR1 flash (memory), BAR2 I/O, nothing in BAR3 (no MSI-X without an APIC).
    n.dev->config_write(0x10, 0xffffffffu, 4);
    EXPECT_EQ(n.dev->config_read(0x10, 4), 0xfffe0000u);
    n.dev->config_write(0x18, 0xffffffffu, 4);
    EXPECT_EQ(n.dev->config_read(0x18, 4), 0xffffffe1u);
    n.dev->config_write(0x1c, 0xffffffffu, 4);
    EXPECT_EQ(n.dev->config_read(0x1c, 4), 0u);
    unsigned cap = n.dev->config_read(0x34, 1), found = 0;
    for (int guard = 0; cap && guard < 16; guard++) {
        if (n.dev->config_read(cap, 1) == 0x10) found = cap;
        cap = n.dev->config_read(cap + 1, 1);
    }
    ASSERT_NE(found, 0u);
    EXPECT_EQ(n.dev->config_read(found + 2, 2) & 0xf0, 0u);  // endpoint
    EXPECT_EQ(n.dev->config_read(found + 0x12, 2) & 0x3ff, 0x11u);  // 2.5 GT/s x1
}

TEST(NetE1000e, EerdUsesThe82574Layout) {
    Nic n(kE1000Model82574l);
    uint16_t sum = 0;
    for (unsigned w = 0; w < E1000::kEepromWords; w++) {
        n.dev->mmio_write(E1000::kEerd, w << 2 | E1000::kEerdStart);
        const uint32_t v = n.dev->mmio_read(E1000::kEerd);
        ASSERT_TRUE(v & E1000::kEerdDone82574);
        EXPECT_EQ((v >> 2) & 0x3fff, w);
        sum = static_cast<uint16_t>(sum + (v >> 16));
    }
    EXPECT_EQ(sum, 0xbaba);
    n.dev->mmio_write(E1000::kEerd, 1u << 2 | E1000::kEerdStart);
    EXPECT_EQ(n.dev->mmio_read(E1000::kEerd) >> 16, 0x1200u);
    EXPECT_EQ(n.dev->eeprom(0x0d), 0x10d3);
    // The 82540EM's encoding (address at bit 8) names another word on the 82574.
    n.dev->mmio_write(E1000::kEerd, 1u << 8 | E1000::kEerdStart);
    EXPECT_EQ((n.dev->mmio_read(E1000::kEerd) >> 2) & 0x3fff, 0x40u);
}

TEST(NetE1000e, EecdGrantsAndReportsAutoReadDone) {
    Nic n(kE1000Model82574l);
    const uint32_t v = n.dev->mmio_read(E1000::kEecd);
    EXPECT_TRUE(v & Ee::kPres);
    EXPECT_TRUE(v & E1000::kEecdAutoRd);
    EXPECT_FALSE(v & Ee::kGnt);
    n.dev->mmio_write(E1000::kEecd, v | Ee::kReq);
    EXPECT_TRUE(n.dev->mmio_read(E1000::kEecd) & Ee::kGnt);
    n.dev->mmio_write(E1000::kEecd, v);
    EXPECT_FALSE(n.dev->mmio_read(E1000::kEecd) & Ee::kGnt);
}

TEST(NetE1000e, LegacyRingsTransmitAndReceive) {
    Nic n(kE1000Model82574l);
    constexpr uint64_t kTx = 0x10000, kRx = 0x20000, kBuf = 0x100000;
    std::vector<uint8_t> f(60, 0x11);
    n.wr(0x30000, f.data(), f.size());
    n.put<uint64_t>(kTx, 0x30000);
    n.put<uint32_t>(kTx + 8, 60u | static_cast<uint32_t>(E1000::kTxdCmdEop | E1000::kTxdCmdRs) << 24);
    n.dev->mmio_write(E1000::kTdbal, kTx);
    n.dev->mmio_write(E1000::kTdlen, 128);
    n.dev->mmio_write(E1000::kTctl, E1000::kTctlEn);
    n.dev->mmio_write(E1000::kTdt, 1);
    ASSERT_EQ(n.backend.sent.size(), 1u);
    EXPECT_EQ(n.backend.sent[0], f);
    for (unsigned i = 0; i < 8; i++) n.put<uint64_t>(kRx + 16 * i, kBuf + 0x1000 * i);
    n.dev->mmio_write(E1000::kRdbal, kRx);
    n.dev->mmio_write(E1000::kRdlen, 128);
    n.dev->mmio_write(E1000::kRdt, 7);
    n.dev->mmio_write(E1000::kRctl, E1000::kRctlEn | E1000::kRctlBam);
    std::vector<uint8_t> in(70, 0x22);
    std::fill(in.begin(), in.begin() + 6, 0xff);
    n.backend.enqueue(in.data(), in.size());
    n.dev->port().flush();
    EXPECT_EQ(n.get<uint8_t>(kRx + 12), E1000::kRxdStaDd | E1000::kRxdStaEop);
    EXPECT_EQ(n.get<uint8_t>(kBuf + 69), 0x22);
}

// What the two chips do not share with the ring engines (fuzzed in net_fuzz_test.cpp): random
// EECD/EERD traffic, config space (the 82574's PCIe capability), the flash window and random
// registers, 200,000 operations per chip. Nothing may index past the words, the contents never
// change (the part is read-only here) and the interrupt line follows ICR & IMS.
TEST(NetE1000Eeprom, SeededEepromRegisterFuzz) {
    for (const E1000Model* model : {&kE1000Model82540em, &kE1000Model82574l}) {
        Nic n(*model);
        std::array<uint16_t, E1000::kEepromWords> before{};
        for (unsigned w = 0; w < before.size(); w++) before[w] = n.dev->eeprom(w);
        std::mt19937 rng(1234);
        for (int i = 0; i < 200000; i++) {
            const uint32_t v = rng();
            switch (rng() % 10) {
                case 8: {
                    const unsigned size = 1u << (rng() % 3);
                    n.dev->config_write((rng() % 256) & ~(size - 1), v, size);
                    break;
                }
                case 9: (void)n.dev->config_read(rng() % 256, 1); break;
                case 0: case 1: case 2: case 3: n.dev->mmio_write(E1000::kEecd, v & 0x1ff); break;
                case 4: (void)n.dev->mmio_read(E1000::kEecd); break;
                case 5: n.dev->mmio_write(E1000::kEerd, v); break;
                case 6: (void)n.dev->mmio_read(E1000::kEerd); break;
                default: {
                    // Anything but the rings' doorbells and CTRL (reset), which other tests cover.
                    const uint32_t off = (rng() % (E1000::kRegEnd / 4)) * 4;
                    if (off != E1000::kTdt && off != E1000::kRdt && off != E1000::kCtrl && off != E1000::kRctl) {
                        n.dev->mmio_write(off, v);
                    }
                }
            }
            const bool pending = (n.dev->reg(E1000::kIcr) & n.dev->reg(E1000::kIms)) != 0;
            ASSERT_EQ(n.dev->irq_level(), pending) << model->type << " op " << i;
        }
        for (unsigned w = 0; w < before.size(); w++) EXPECT_EQ(n.dev->eeprom(w), before[w]) << model->type;
        if (model->microwire) {
            n.dev->mmio_write(E1000::kEecd, 0);  // deselect, release
            Bitbang bb(*n.dev);
            ASSERT_TRUE(bb.acquire());
            EXPECT_EQ(bb.read_word(2), 0x5634);
        }
    }
}

}  // namespace
}  // namespace corvid
