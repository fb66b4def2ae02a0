// PSCI and semihosting for AArch64 -kernel boots. Guest pointers are validated and guest
// data copied out before use; bad pointers give the semihosting error result, never a crash.
#include "hw/boards/arm_firmware.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <vector>

#include "base/log.h"

namespace corvid {
namespace {

constexpr size_t kMaxString = 64 * 1024;  // longest SYS_WRITE0 string we copy out

uint64_t now_ns() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

}  // namespace

A64Platform::HvcResult ArmFirmware::hvc(A64State& cpu, uint16_t) {
    uint32_t fn = uint32_t(cpu.x[0]);
    bool psci_range = (fn >= 0x84000000 && fn <= 0x8400001f) || (fn >= 0xc4000000 && fn <= 0xc400001f);
    if (!psci_range) {
        log::logf(log::kUnimp, "hvc: function 0x{:x} is not a PSCI call", fn);
        return HvcResult::kNotHandled;
    }
    int64_t ret = kPsciNotSupported;
    switch (fn) {
        case kPsciVersion: ret = 0x10001; break;  // PSCI 1.1
        case kPsciCpuSuspend32:
        case kPsciCpuSuspend64: ret = kPsciSuccess; break;  // a standby state: returns at once
        case kPsciCpuOff:
            cpu_off_ = true;
            cpu.common.exit_request.store(1);
            ret = kPsciSuccess;
            break;
        case kPsciCpuOn32:
        case kPsciCpuOn64: {
            uint64_t target = cpu.x[1] & 0xff00ffffffull;
            ret = (target == (cpu.mpidr_el1 & 0xff00ffffffull)) ? kPsciAlreadyOn : kPsciInvalidParameters;
            break;
        }
        case kPsciAffinityInfo32:
        case kPsciAffinityInfo64: {
            uint64_t target = cpu.x[1] & 0xff00ffffffull;
            ret = (target == (cpu.mpidr_el1 & 0xff00ffffffull)) ? 0 /* ON */ : kPsciInvalidParameters;
            break;
        }
        case kPsciMigrateInfoType: ret = 2; break;  // no trusted OS needing migration
        case kPsciSystemOff:
            rc_.request_shutdown(0);
            cpu.common.exit_request.store(1);
            ret = kPsciSuccess;
            break;
        case kPsciSystemReset:
            rc_.request_reset();
            cpu.common.exit_request.store(1);
            ret = kPsciSuccess;
            break;
        case kPsciFeatures: {
            uint32_t q = uint32_t(cpu.x[1]);
            switch (q) {
                case kPsciVersion: case kPsciCpuSuspend32: case kPsciCpuSuspend64: case kPsciCpuOff:
                case kPsciCpuOn32: case kPsciCpuOn64: case kPsciAffinityInfo32: case kPsciAffinityInfo64:
                case kPsciMigrateInfoType: case kPsciSystemOff: case kPsciSystemReset: case kPsciFeatures:
                    ret = kPsciSuccess;
                    break;
                default: ret = kPsciNotSupported;
            }
            break;
        }
        default: ret = kPsciNotSupported;
    }
    cpu.x[0] = uint64_t(ret);
    return HvcResult::kHandled;
}

void ArmFirmware::console_write(const uint8_t* data, size_t size) {
    // QEMU's semihosting console without a chardev is the process's stderr.
    while (size > 0) {
        ssize_t n = ::write(2, data, size);
        if (n <= 0) return;
        data += n;
        size -= size_t(n);
    }
}

bool ArmFirmware::semihosting(A64State& cpu) {
    if (!semihosting_) return false;
    if (start_ns_ == 0) start_ns_ = now_ns();
    uint32_t op = uint32_t(cpu.x[0]);
    uint64_t arg = cpu.x[1];
    // Reads one 64-bit field of the parameter block; false when it is not guest RAM.
    auto field = [&](unsigned i, uint64_t* out) { return memory_.read_bytes(arg + 8 * i, out, 8).ok(); };
    int64_t ret = -1;
    switch (op) {
        case kSysWritec: {
            uint8_t c;
            if (memory_.read_bytes(arg, &c, 1).ok()) console_write(&c, 1);
            ret = 0;
            break;
        }
        case kSysWrite0: {
            std::vector<uint8_t> s;
            for (size_t i = 0; i < kMaxString; ++i) {
                uint8_t c;
                if (!memory_.read_bytes(arg + i, &c, 1).ok() || c == 0) break;
                s.push_back(c);
            }
            console_write(s.data(), s.size());
            ret = 0;
            break;
        }
        case kSysWrite: {
            uint64_t handle, ptr, len;
            if (!field(0, &handle) || !field(1, &ptr) || !field(2, &len)) break;
            if (handle != 1 && handle != 2) {
                ret = int64_t(len);
                break;
            }
            std::vector<uint8_t> buf(std::min<uint64_t>(len, kMaxString));
            if (!memory_.read_bytes(ptr, buf.data(), buf.size()).ok()) {
                ret = int64_t(len);
                break;
            }
            console_write(buf.data(), buf.size());
            ret = int64_t(len - buf.size());
            break;
        }
        case kSysReadc: ret = -1; break;  // no console input for semihosting
        case kSysClock: ret = int64_t((now_ns() - start_ns_) / 10'000'000); break;  // centiseconds
        case kSysTime: ret = int64_t(time(nullptr)); break;
        case kSysErrno: ret = 0; break;
        case kSysHeapinfo: {
            // { heap_base, heap_limit, stack_base, stack_limit }: the top half of RAM for the heap,
            // stack at the top of RAM, as a -kernel boot without a device tree would expect.
            uint64_t block[4] = {ram_base_ + ram_size_ / 2, ram_base_ + ram_size_ - (1u << 16), ram_base_ + ram_size_,
                                 ram_base_ + ram_size_ - (1u << 16)};
            uint64_t where;
            if (field(0, &where) && memory_.write_bytes(where, block, sizeof block).ok()) ret = 0;
            break;
        }
        case kSysExit:
        case kSysExitExtended: {
            // AArch64 passes a block { reason, subcode }: ApplicationExit gives subcode as the status.
            uint64_t reason = 0, subcode = 0;
            int status = 1;
            if (field(0, &reason) && field(1, &subcode) && reason == kAdpStoppedApplicationExit) status = int(subcode);
            rc_.request_shutdown(status);
            cpu.common.exit_request.store(1);
            ret = 0;
            break;
        }
        default:
            log::logf(log::kUnimp, "semihosting: unsupported operation 0x{:x}", op);
            ret = -1;
    }
    cpu.x[0] = uint64_t(ret);
    return true;
}

}  // namespace corvid
