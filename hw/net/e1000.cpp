// 82540EM register file and descriptor ring engines (Intel PCI/PCI-X Family of Gigabit
// Ethernet Controllers Software Developer's Manual, sections 3 and 13).
#include "hw/net/e1000.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "hw/pci/pci_devices.h"

namespace corvid {

namespace {
constexpr uint16_t kEepromChecksum = 0xbaba;
constexpr size_t kMinFrame = 60;

struct TxDesc {
    uint64_t addr;
    uint32_t lower;  // legacy: length (15:0), cso, cmd (31:24); extended: DTALEN, DTYP, DCMD
    uint32_t upper;  // status (7:0), ...
};
struct RxDesc {
    uint64_t addr;
    uint16_t length;
    uint16_t csum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
};
static_assert(sizeof(TxDesc) == 16 && sizeof(RxDesc) == 16);

// Ring geometry from the guest: a ring with a zero length or head/tail past its end is not
// processed (the hardware's behaviour is undefined; we stop).
struct Ring {
    uint64_t base;
    uint32_t count;
};
}  // namespace

const E1000Model kE1000Model82540em{"e1000", 0x100e, 0x03, 0x40, E1000::kEerdDone, 8, 0xff, true, false, 0x0c20};
// PHY: the 82574's integrated BM PHY (id 0x0141:0x0cb1).
const E1000Model kE1000Model82574l{"e1000e", 0x10d3, 0x00, 0x20, E1000::kEerdDone82574, 2, 0x3fff, false, true, 0x0cb1};

E1000::E1000(const NicConfig& nic, const PciDeviceHost& host, const E1000Model& model)
    : PciDevice(model.type, {0x8086, model.device_id, model.revision, 0x020000, 0}, host),
      model_(model), mac_(nic.mac), regs_(kRegEnd / 4) {
    add_bar(0, BarType::kMem32, kMmioSize, &mmio_, kAccess4);
    if (model_.pcie) {
        // The 82574L's layout: NVM flash window in BAR1, I/O in BAR2. Its MSI-X table (BAR3)
        // is left out: the x86 boards have no local APIC to deliver message interrupts, and
        // a capability that accepts vectors which never fire would mislead drivers. INTx works.
        add_bar(1, BarType::kMem32, kFlashSize, &flash_, kAccessAny);
        add_bar(2, BarType::kIo, model_.io_size, &io_, kAccess4);
        add_pcie_capability();
    } else {
        add_bar(1, BarType::kIo, model_.io_size, &io_, kAccess4);
    }
    finish_config();
    build_eeprom();
    microwire_ = MicrowireEeprom(eeprom_);
    reset_registers();
    port_ = std::make_unique<NicPort>(nic.backend, host.clock, [this](const uint8_t* d, size_t n) { return receive(d, n); });
}

E1000::~E1000() { port_.reset(); }

void E1000::reset() {
    PciDevice::reset();
    reset_registers();
}

// An endpoint PCI Express capability (version 2): 2.5 GT/s x1 link, 128-byte payloads. There
// is no link to train, so the link status reads as trained from the start.
void E1000::add_pcie_capability() {
    const unsigned at = add_capability(0x10, 0x3c);
    if (!at) return;
    set_reg(at + 2, 2, 0x0002);                          // version 2, endpoint
    set_reg(at + 4, 4, 0x0000'8000);                     // device caps: role-based error reporting
    set_reg(at + 8, 2, 0x2810, 0x7cff);                  // device control: 512-byte read requests, no snoop
    set_reg(at + 0x0c, 4, 0x0001'0411);                  // link caps: 2.5 GT/s, x1, L0s
    set_reg(at + 0x10, 2, 0x0000, 0x01c3);               // link control
    set_reg(at + 0x12, 2, 0x1011);                       // link status: 2.5 GT/s, x1, slot clock
}

// The words software reads (8254x manual table 5-1, 82574 datasheet table 6-1): MAC address,
// init control, IDs, and the checksum word making words 0-0x3f sum to 0xBABA.
void E1000::build_eeprom() {
    eeprom_.fill(0);
    for (unsigned i = 0; i < 3; i++) eeprom_[i] = static_cast<uint16_t>(mac_[2 * i] | mac_[2 * i + 1] << 8);
    eeprom_[0x0a] = 0x4408;  // init control 1 (as QEMU's template)
    eeprom_[0x0b] = 0x0000;  // subsystem id
    eeprom_[0x0c] = 0x0000;  // subsystem vendor id
    eeprom_[0x0d] = model_.device_id;
    eeprom_[0x0e] = 0x8086;  // vendor id
    uint16_t sum = 0;
    for (unsigned i = 0; i < kEepromWords - 1; i++) sum = static_cast<uint16_t>(sum + eeprom_[i]);
    eeprom_[kEepromWords - 1] = static_cast<uint16_t>(kEepromChecksum - sum);
}

uint32_t E1000::eecd_reset_value() const {
    // 82574: NVM present and its auto-read after reset complete (bit 9), which drivers wait for.
    return model_.microwire ? 0u : static_cast<uint32_t>(MicrowireEeprom::kPres) | static_cast<uint32_t>(kEecdAutoRd);
}

void E1000::reset_registers() {
    std::fill(regs_.begin(), regs_.end(), 0);
    tx_frame_.clear();
    tx_overflow_ = false;
    ioaddr_ = 0;
    regs_[kStatus / 4] = 0x80 | 0x2 | 0x1;  // 1000 Mb/s, link up, full duplex
    regs_[kEecd / 4] = eecd_reset_value();
    microwire_.reset();
    regs_[kRal0 / 4] = static_cast<uint32_t>(mac_[0] | mac_[1] << 8 | mac_[2] << 16 | mac_[3] << 24);
    regs_[kRah0 / 4] = static_cast<uint32_t>(mac_[4] | mac_[5] << 8) | 0x8000'0000u;  // address valid
    if (irq_level()) set_irq(false);
}

uint16_t E1000::phy_read(unsigned reg) const {
    switch (reg) {
        case 0: return 0x1140;  // control: autoneg on, full duplex, 1000 Mb/s
        case 1: return 0x796d;  // status: link up, autoneg complete
        case 2: return 0x0141;  // PHY id (M88E1011 as on the 82540EM)
        case 3: return model_.phy_id2;
        case 4: return 0x0de1;
        case 5: return 0x41e1;
        case 0x11: return 0xbc00;  // specific status: 1000 Mb/s, full duplex, link
        default: return 0;
    }
}

void E1000::update_irq() { set_irq((regs_[kIcr / 4] & regs_[kIms / 4]) != 0); }

void E1000::raise(uint32_t cause) {
    regs_[kIcr / 4] |= cause;
    update_irq();
}

uint32_t E1000::mmio_read(uint32_t offset) {
    offset &= ~3u;
    if (offset >= kRegEnd) {
        guest_error("read of unimplemented register 0x{:x}", offset);
        return 0;
    }
    uint32_t& r = regs_[offset / 4];
    switch (offset) {
        case kIcr: {
            // Read-to-clear, and the line drops.
            const uint32_t v = r;
            r = 0;
            update_irq();
            return v;
        }
        case kGprc: case kGptc: case kTpr: case kTpt: {
            const uint32_t v = r;  // statistics clear on read
            r = 0;
            return v;
        }
        case kIms: return r;
        case kIcs: case kImc: return 0;  // write-only
        case kEecd: return model_.microwire ? microwire_.read() : r;
        default: return r;
    }
}

void E1000::mmio_write(uint32_t offset, uint32_t value) {
    offset &= ~3u;
    if (offset >= kRegEnd) {
        guest_error("write of 0x{:x} to unimplemented register 0x{:x} ignored", value, offset);
        return;
    }
    uint32_t& r = regs_[offset / 4];
    switch (offset) {
        case kCtrl:
            if (value & kCtrlRst) {
                reset_registers();
                return;
            }
            r = value;
            return;
        case kStatus: return;  // read-only
        case kEecd:
            if (model_.microwire) {
                microwire_.write(value);
            } else {
                // Request and grant (granted at once: nothing else uses the NVM).
                r = eecd_reset_value() | (value & MicrowireEeprom::kReq);
                if (value & MicrowireEeprom::kReq) r |= MicrowireEeprom::kGnt;
            }
            return;
        case kEerd: write_eerd(value); return;
        case kMdic: {
            const unsigned phy = (value >> 21) & 0x1f, reg = (value >> 16) & 0x1f, op = (value >> 26) & 3;
            uint32_t v = value & 0x03ff'ffffu;
            if (phy != 1) {
                v |= 1u << 30;  // error: no such PHY
            } else if (op == 2) {
                v = (v & 0xffff'0000u) | phy_read(reg);
            }
            r = v | (1u << 28);  // ready
            return;
        }
        case kIcr: r &= ~value; update_irq(); return;  // write 1 to clear
        case kIcs: raise(value); return;
        case kIms: r |= value; update_irq(); return;
        case kImc: regs_[kIms / 4] &= ~value; update_irq(); return;
        case kRctl:
            r = value;
            if (value & kRctlEn) port_->flush();
            return;
        case kRdlen: case kTdlen: r = value & 0x000f'ff80u; return;
        case kRdh: case kRdt: case kTdh: case kTdt: {
            r = value & 0xffff;
            if (offset == kTdt) transmit();
            if (offset == kRdt) port_->flush();  // new buffers
            return;
        }
        case kGprc: case kGptc: case kTpr: case kTpt: return;
        default: r = value; return;
    }
}

void E1000::write_eerd(uint32_t value) {
    uint32_t& r = regs_[kEerd / 4];
    const unsigned shift = model_.eerd_addr_shift;
    const unsigned addr = (value >> shift) & model_.eerd_addr_mask;
    if (!(value & kEerdStart)) {
        r = value & ~model_.eerd_done;
        return;
    }
    // Out-of-range words read as zero; the address is never used as an index without the
    // bound check.
    const uint16_t data = addr < kEepromWords ? eeprom_[addr] : 0;
    if (addr >= kEepromWords) guest_error("EERD read of EEPROM word 0x{:x}", addr);
    r = (static_cast<uint32_t>(data) << 16) | (addr << shift) | model_.eerd_done;
}

void E1000::transmit() {
    if (!(regs_[kTctl / 4] & kTctlEn)) return;
    const Ring ring{(static_cast<uint64_t>(regs_[kTdbah / 4]) << 32) | (regs_[kTdbal / 4] & ~0xfu), regs_[kTdlen / 4] / 16};
    uint32_t& head = regs_[kTdh / 4];
    const uint32_t tail = regs_[kTdt / 4];
    if (ring.count == 0 || head >= ring.count || tail >= ring.count) {
        guest_error("TX ring not processed: TDLEN {} TDH {} TDT {}", ring.count * 16, head, tail);
        return;
    }
    bool sent = false;
    // At most one pass over the ring per doorbell.
    for (uint32_t n = 0; n < ring.count && head != tail; n++) {
        TxDesc d;
        const uint64_t at = ring.base + 16ull * head;
        if (!dma_read(at, &d, sizeof d)) break;
        const uint8_t cmd = static_cast<uint8_t>(d.lower >> 24);
        const bool ext = cmd & kTxdCmdDext;
        const unsigned dtyp = (d.lower >> 20) & 0xf;
        if (!(ext && dtyp == 0)) {  // a context descriptor carries no data (offloads not modelled)
            const uint32_t len = ext ? d.lower & 0xfffff : d.lower & 0xffff;
            if (tx_frame_.size() + len > kNetMaxFrame) {
                tx_overflow_ = true;  // drop the whole packet; never grow past a frame
            } else if (!tx_overflow_ && len) {
                const size_t old = tx_frame_.size();
                tx_frame_.resize(old + len);
                if (!dma_read(d.addr, tx_frame_.data() + old, len)) tx_overflow_ = true;
            }
            if (cmd & kTxdCmdEop) {
                if (!tx_overflow_ && !tx_frame_.empty()) {
                    port_->send(tx_frame_.data(), tx_frame_.size());
                    regs_[kGptc / 4]++;
                    regs_[kTpt / 4]++;
                } else if (tx_overflow_) {
                    guest_error("TX packet longer than {} bytes dropped", kNetMaxFrame);
                }
                tx_frame_.clear();
                tx_overflow_ = false;
            }
        }
        if (cmd & kTxdCmdRs) {
            const uint8_t status = kTxdStaDd;
            (void)dma_write(at + 12, &status, 1);
        }
        head = (head + 1) % ring.count;
        sent = true;
    }
    if (sent) raise(kIcrTxdw | kIcrTxqe);
}

unsigned E1000::rx_buffer_size() const {
    const uint32_t rctl = regs_[kRctl / 4];
    const unsigned bsize = (rctl >> 16) & 3;
    if (rctl & kRctlBsex) {
        static constexpr unsigned kExt[] = {2048, 16384, 8192, 4096};
        return kExt[bsize];
    }
    static constexpr unsigned kNormal[] = {2048, 1024, 512, 256};
    return kNormal[bsize];
}

bool E1000::accept_frame(const uint8_t* data, size_t len) const {
    if (len < 6) return false;
    const uint32_t rctl = regs_[kRctl / 4];
    if (rctl & kRctlUpe) return true;
    static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (std::memcmp(data, kBroadcast, 6) == 0) return (rctl & kRctlBam) != 0;
    if (data[0] & 1) {
        if (rctl & kRctlMpe) return true;
        static constexpr unsigned kShift[] = {4, 3, 2, 0};
        const unsigned s = kShift[(rctl >> 12) & 3];
        const unsigned hash = ((data[4] >> s) | (data[5] << (8 - s))) & 0xfff;
        return (regs_[(kMta / 4) + (hash >> 5)] >> (hash & 31)) & 1;
    }
    // Receive address registers 0-15, valid ones only.
    for (unsigned i = 0; i < 16; i++) {
        const uint32_t lo = regs_[kRal0 / 4 + 2 * i], hi = regs_[kRah0 / 4 + 2 * i];
        if (!(hi & 0x8000'0000u)) continue;
        const uint8_t a[6] = {static_cast<uint8_t>(lo), static_cast<uint8_t>(lo >> 8), static_cast<uint8_t>(lo >> 16),
                              static_cast<uint8_t>(lo >> 24), static_cast<uint8_t>(hi), static_cast<uint8_t>(hi >> 8)};
        if (std::memcmp(data, a, 6) == 0) return true;
    }
    return false;
}

bool E1000::receive(const uint8_t* data, size_t len) {
    if (!(regs_[kRctl / 4] & kRctlEn)) return false;
    if (!accept_frame(data, len)) return true;  // filtered: consumed
    // Short frames are padded to the minimum; unless RCTL.SECRC strips it, the buffer also
    // gets the 4-byte FCS (zeros here: the link is virtual), as QEMU counts it.
    const size_t fcs = (regs_[kRctl / 4] & kRctlSecrc) ? 0 : 4;
    std::vector<uint8_t> frame(std::max(len, kMinFrame) + fcs, 0);
    std::memcpy(frame.data(), data, len);
    data = frame.data();
    len = frame.size();
    const Ring ring{(static_cast<uint64_t>(regs_[kRdbah / 4]) << 32) | (regs_[kRdbal / 4] & ~0xfu), regs_[kRdlen / 4] / 16};
    uint32_t& head = regs_[kRdh / 4];
    const uint32_t tail = regs_[kRdt / 4];
    if (ring.count == 0 || head >= ring.count || tail >= ring.count) {
        guest_error("RX ring not usable: RDLEN {} RDH {} RDT {}", ring.count * 16, head, tail);
        return false;
    }
    const unsigned bufsize = rx_buffer_size();
    const uint32_t needed = static_cast<uint32_t>((len + bufsize - 1) / bufsize);
    const uint32_t available = (tail + ring.count - head) % ring.count;
    if (available < needed) {
        raise(kIcrRxo);
        return false;  // wait for the guest to return buffers
    }
    size_t done = 0;
    for (uint32_t n = 0; n < needed; n++) {
        RxDesc d;
        const uint64_t at = ring.base + 16ull * head;
        if (!dma_read(at, &d, sizeof d)) return true;  // bad ring: the frame is lost
        const size_t chunk = std::min<size_t>(bufsize, len - done);
        if (d.addr && !dma_write(d.addr, data + done, chunk)) return true;
        done += chunk;
        d.length = static_cast<uint16_t>(chunk);
        d.status = static_cast<uint8_t>(kRxdStaDd | (done == len ? static_cast<uint32_t>(kRxdStaEop) : 0u));
        d.errors = 0;
        d.csum = 0;
        if (!dma_write(at, &d, sizeof d)) return true;
        head = (head + 1) % ring.count;
    }
    regs_[kGprc / 4]++;
    regs_[kTpr / 4]++;
    raise(kIcrRxt0);
    return true;
}

uint64_t E1000::Mmio::read(uint64_t offset, unsigned) { return self->mmio_read(static_cast<uint32_t>(offset)); }
void E1000::Mmio::write(uint64_t offset, uint64_t value, unsigned) {
    self->mmio_write(static_cast<uint32_t>(offset), static_cast<uint32_t>(value));
}

// IOADDR (0) selects a register, IODATA (4) accesses it.
uint64_t E1000::Io::read(uint64_t offset, unsigned) {
    if (offset == 0) return self->ioaddr_;
    if (offset == 4) return self->mmio_read(self->ioaddr_ & (kMmioSize - 1));
    return 0;
}
void E1000::Io::write(uint64_t offset, uint64_t value, unsigned) {
    if (offset == 0) self->ioaddr_ = static_cast<uint32_t>(value);
    else if (offset == 4) self->mmio_write(self->ioaddr_ & (kMmioSize - 1), static_cast<uint32_t>(value));
}

namespace {
void register_model(TypeRegistry& r, const E1000Model& model, const char* description) {
    TypeInfo t;
    t.name = model.type;
    t.description = description;
    // Descriptor rings are bounds-checked and walked at most once per doorbell, packets are
    // capped at 64 KiB, EEPROM/PHY indexes are checked, the Microwire state machine indexes
    // its words modulo their count: declared secure. The 82574L is the same code plus a
    // constant capability and a blank flash window.
    t.security = Security::kSecure;
    const E1000Model* m = &model;
    register_pci_device_type(
        r, std::move(t),
        [m](const OptionList& props, const PciDeviceHost& host) -> Result<std::unique_ptr<PciDevice>> {
            auto nic = parse_nic_options(m->type, props, NetRegistry::global());
            if (!nic) return make_error(nic.error());
            return std::unique_ptr<PciDevice>(std::make_unique<E1000>(*nic, host, *m));
        },
        [m](const OptionList& props) -> Status {
            auto nic = parse_nic_options(m->type, props, NetRegistry::global(), {}, false);
            if (!nic) return make_error(nic.error());
            return {};
        });
}
}  // namespace

void register_e1000_type(TypeRegistry& r) {
    register_model(r, kE1000Model82540em, "Intel 82540EM Gigabit Ethernet");
    register_model(r, kE1000Model82574l, "Intel 82574L GbE Controller");
}

}  // namespace corvid
