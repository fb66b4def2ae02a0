// KVM VM and vCPU: set-up, PVH entry state, and the exit loop.
#include "accel/kvm/kvm_vm.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/log.h"
#include "hw/memory_map.h"

namespace corvid {
namespace {

constexpr int kKickSignal = SIGUSR1;

// The kernel's struct kvm_cpuid2 header is 8 bytes, but its flexible-array macro makes the
// struct 12 bytes in C++, which changes the ioctl numbers; spell them with the real size.
constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, uint64_t);
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, uint64_t);
constexpr size_t kCpuid2Header = 8;

void on_kick_signal(int) {}  // only interrupts KVM_RUN / poll

void install_kick_handler() {
    struct sigaction sa = {};
    sa.sa_handler = on_kick_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    sigaction(kKickSignal, &sa, nullptr);
}

int xioctl(int fd, unsigned long req, void* arg) {
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r;
}

void flat_segment(kvm_segment& s, uint16_t selector, uint8_t type, bool code) {
    s = {};
    s.base = 0;
    s.limit = 0xffffffff;
    s.selector = selector;
    s.type = type;
    s.present = 1;
    s.dpl = 0;
    s.db = 1;
    s.s = 1;
    s.l = 0;
    s.g = 1;
    (void)code;
}

}  // namespace

KvmVm::~KvmVm() {
    if (run_) munmap(run_, run_size_);
    if (vcpu_fd_ >= 0) close(vcpu_fd_);
    if (vm_fd_ >= 0) close(vm_fd_);
    if (kvm_fd_ >= 0) close(kvm_fd_);
}

Status KvmVm::open_vm() {
    kvm_fd_ = open(device_.c_str(), O_RDWR | O_CLOEXEC);
    if (kvm_fd_ < 0) {
        int e = errno;
        return make_error(fmt::format("Could not access KVM kernel module: {}\nfailed to initialize kvm: {}",
                                      strerror(e), strerror(e)));
    }
    int version = ioctl(kvm_fd_, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        return make_error(fmt::format("kvm version not supported (expected {}, got {})\nfailed to initialize kvm: "
                                      "Invalid argument",
                                      KVM_API_VERSION, version));
    }
    struct Cap {
        int id;
        const char* name;
    };
    for (Cap c : {Cap{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"}, Cap{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
                  Cap{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}}) {
        if (ioctl(kvm_fd_, KVM_CHECK_EXTENSION, c.id) <= 0) {
            return make_error(fmt::format("kvm does not support {}\nfailed to initialize kvm: Operation not supported",
                                          c.name));
        }
    }
    do {
        vm_fd_ = ioctl(kvm_fd_, KVM_CREATE_VM, 0);
    } while (vm_fd_ < 0 && errno == EINTR);
    if (vm_fd_ < 0) {
        int e = errno;
        return make_error(fmt::format("ioctl(KVM_CREATE_VM) failed: {} {}\nfailed to initialize kvm: {}", e,
                                      strerror(e), strerror(e)));
    }
    return {};
}

Status KvmVm::setup(Machine& machine) {
    machine_ = &machine;
    memory_ = dynamic_cast<AddressSpace*>(&machine.memory());
    io_ = machine.io();
    if (!memory_) return make_error("this board's memory cannot be given to KVM");

    // Intel hosts need a TSS area below 4 GiB that the guest never uses; harmless elsewhere.
    if (ioctl(vm_fd_, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
        log::logf(log::kUnimp, "kvm: KVM_SET_TSS_ADDR failed: {}", strerror(errno));
    }
    bool readonly_ok = ioctl(kvm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
    uint32_t slot = 0;
    for (const RegionInfo& r : memory_->regions()) {
        if (r.kind == RegionKind::kMmio) continue;
        kvm_userspace_memory_region m = {};
        m.slot = slot++;
        m.flags = (r.kind == RegionKind::kRom && readonly_ok) ? KVM_MEM_READONLY : 0;
        m.guest_phys_addr = r.base;
        m.memory_size = r.size;
        m.userspace_addr = reinterpret_cast<uint64_t>(r.host);
        if (xioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &m) < 0) {
            return make_error(fmt::format("KVM_SET_USER_MEMORY_REGION for '{}' failed: {}", r.name, strerror(errno)));
        }
    }

    vcpu_fd_ = ioctl(vm_fd_, KVM_CREATE_VCPU, 0);
    if (vcpu_fd_ < 0) return make_error(fmt::format("kvm_init_vcpu: KVM_CREATE_VCPU failed: {}", strerror(errno)));
    int size = ioctl(kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0) return make_error(fmt::format("KVM_GET_VCPU_MMAP_SIZE failed: {}", strerror(errno)));
    run_size_ = size_t(size);
    void* p = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd_, 0);
    if (p == MAP_FAILED) return make_error(fmt::format("mmap of kvm_run failed: {}", strerror(errno)));
    run_ = static_cast<kvm_run*>(p);
    if (auto st = set_cpuid(); !st) return st;
    return reset_vcpu();
}

Status KvmVm::set_cpuid() {
    // The host's supported CPUID, as one consistent model; leaf 1 reports APIC ID 0.
    for (int n = 64; n <= 4096; n *= 2) {
        std::vector<uint8_t> buf(kCpuid2Header + size_t(n) * sizeof(kvm_cpuid_entry2));
        uint32_t nent = uint32_t(n);
        std::memcpy(buf.data(), &nent, 4);
        if (ioctl(kvm_fd_, kGetSupportedCpuid, buf.data()) < 0) {
            if (errno == E2BIG) continue;
            return make_error(fmt::format("KVM_GET_SUPPORTED_CPUID failed: {}", strerror(errno)));
        }
        std::memcpy(&nent, buf.data(), 4);
        auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(buf.data() + kCpuid2Header);
        for (uint32_t i = 0; i < nent && i < uint32_t(n); ++i) {
            if (entries[i].function == 1) entries[i].ebx &= 0x00ffffff;  // initial APIC ID 0
        }
        if (xioctl(vcpu_fd_, kSetCpuid2, buf.data()) < 0) {
            return make_error(fmt::format("KVM_SET_CPUID2 failed: {}", strerror(errno)));
        }
        return {};
    }
    return make_error("KVM_GET_SUPPORTED_CPUID: too many entries");
}

Status KvmVm::reset_vcpu() {
    // The PVH entry state: 32-bit protected mode, flat 4 GiB segments, paging off,
    // EBX = hvm_start_info; the built-in firmware is entered the same way.
    X86BootState boot = machine_->x86_boot_state();
    kvm_sregs s = {};
    if (xioctl(vcpu_fd_, KVM_GET_SREGS, &s) < 0) return make_error(fmt::format("KVM_GET_SREGS: {}", strerror(errno)));
    flat_segment(s.cs, 0x10, 0xb, true);
    for (kvm_segment* d : {&s.ds, &s.es, &s.ss, &s.fs, &s.gs}) flat_segment(*d, 0x18, 0x3, false);
    s.tr = {};
    s.tr.limit = 0x67;
    s.tr.type = 0xb;  // busy 32-bit TSS: what VM entry requires
    s.tr.present = 1;
    s.ldt = {};
    s.ldt.type = 0x2;
    s.ldt.present = 1;
    s.ldt.limit = 0xffff;
    s.gdt = {};
    s.idt = {};
    s.cr0 = 0x11;  // PE | ET
    s.cr2 = 0;
    s.cr3 = 0;
    s.cr4 = 0;
    s.efer = 0;
    std::memset(s.interrupt_bitmap, 0, sizeof s.interrupt_bitmap);
    if (xioctl(vcpu_fd_, KVM_SET_SREGS, &s) < 0) return make_error(fmt::format("KVM_SET_SREGS: {}", strerror(errno)));
    kvm_regs r = {};
    r.rip = boot.entry;
    r.rbx = boot.ebx;
    r.rflags = 0x2;
    if (xioctl(vcpu_fd_, KVM_SET_REGS, &r) < 0) return make_error(fmt::format("KVM_SET_REGS: {}", strerror(errno)));
    kvm_fpu f = {};
    f.fcw = 0x37f;
    f.mxcsr = 0x1f80;
    if (xioctl(vcpu_fd_, KVM_SET_FPU, &f) < 0) log::logf(log::kUnimp, "kvm: KVM_SET_FPU failed: {}", strerror(errno));
    halted_ = false;
    return {};
}

void KvmVm::kick() {
    if (run_) __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELEASE);
    kicked_.store(true, std::memory_order_release);
    unsigned long t = vcpu_thread_.load(std::memory_order_acquire);
    if (t) pthread_kill(pthread_t(t), kKickSignal);
}

void KvmVm::inject_interrupts() {
    X86InterruptSource* pic = machine_->x86_interrupts();
    if (!pic || !pic->intr_pending()) {
        run_->request_interrupt_window = 0;
        return;
    }
    if (run_->ready_for_interrupt_injection && run_->if_flag) {
        int vector = pic->acknowledge();
        if (vector >= 0) {
            kvm_interrupt irq = {uint32_t(vector)};
            if (xioctl(vcpu_fd_, KVM_INTERRUPT, &irq) < 0) {
                log::logf(log::kGuestErrors, "kvm: KVM_INTERRUPT {} failed: {}", vector, strerror(errno));
            }
            log::logf(log::kInt, "kvm: injected vector 0x{:x}", vector);
        }
        halted_ = false;
        run_->request_interrupt_window = 0;
    } else {
        run_->request_interrupt_window = 1;
    }
}

void KvmVm::wait_for_interrupt(RunControl& rc, bool interrupts_enabled) {
    // hlt: sleep until a device interrupt can be taken (IF=1), or until a reset, the monitor or
    // a signal. With IF=0 only those can end it, so the process stays idle.
    X86InterruptSource* pic = machine_->x86_interrupts();
    while (!rc.should_stop() && !rc.reset_requested()) {
        rc.service();  // the monitor still runs commands (and `stop` parks) while halted
        if (rc.should_stop() || rc.reset_requested()) break;
        machine_->poll_devices();
        if (interrupts_enabled && pic && pic->intr_pending()) return;
        kicked_.store(false);
        int64_t ns = machine_->next_deadline_ns();
        // At most 100 ms: the main thread waits on the same wake-up fd and may consume a wake-up
        // meant for this thread; a bounded sleep keeps that from stalling the monitor.
        int64_t ms = ns < 0 ? 100 : std::min<int64_t>(100, std::max<int64_t>(1, (ns + 999'999) / 1'000'000));
        auto timeout = std::chrono::milliseconds(ms);
        if (!kicked_.load()) rc.wait(timeout);
    }
}

KvmVm::ExitAction KvmVm::handle_exit(RunControl& rc) {
    switch (run_->exit_reason) {
        case KVM_EXIT_IO: {
            auto* data = reinterpret_cast<uint8_t*>(run_) + run_->io.data_offset;
            unsigned size = run_->io.size;
            for (uint32_t i = 0; i < run_->io.count; ++i, data += size) {
                uint64_t v = 0;
                if (run_->io.direction == KVM_EXIT_IO_OUT) {
                    std::memcpy(&v, data, size);
                    if (io_) (void)io_->write(run_->io.port, size, v);
                } else {
                    v = ~0ull;
                    if (io_) (void)io_->read(run_->io.port, size, &v);
                    std::memcpy(data, &v, size);
                }
            }
            return ExitAction::kContinue;
        }
        case KVM_EXIT_MMIO: {
            uint64_t v = 0;
            unsigned len = run_->mmio.len;
            if (len != 1 && len != 2 && len != 4 && len != 8) {
                log::logf(log::kGuestErrors, "kvm: MMIO access of {} bytes at 0x{:x}", len, run_->mmio.phys_addr);
                if (!run_->mmio.is_write) std::memset(run_->mmio.data, 0xff, sizeof run_->mmio.data);
                return ExitAction::kContinue;
            }
            if (run_->mmio.is_write) {
                std::memcpy(&v, run_->mmio.data, len);
                (void)memory_->write(run_->mmio.phys_addr, len, v);
            } else {
                if (memory_->read(run_->mmio.phys_addr, len, &v) != MemResult::kOk) v = ~0ull;
                std::memcpy(run_->mmio.data, &v, len);
            }
            return ExitAction::kContinue;
        }
        case KVM_EXIT_HLT:
            halted_ = true;
            return ExitAction::kContinue;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR: return ExitAction::kContinue;
        case KVM_EXIT_SHUTDOWN:
            // Triple fault: reset, or end the run with -no-reboot (as QEMU does).
            log::logf(log::kInt, "kvm: triple fault, {}", machine_->options().no_reboot ? "stopping" : "resetting");
            rc.request_reset();
            return ExitAction::kContinue;
        case KVM_EXIT_SYSTEM_EVENT:
            if (run_->system_event.type == KVM_SYSTEM_EVENT_RESET) {
                rc.request_reset();
            } else {
                rc.request_shutdown(0);
            }
            return ExitAction::kContinue;
        case KVM_EXIT_INTERNAL_ERROR:
            fmt::print(stderr, "KVM internal error. Suberror: {}\n{}", run_->internal.suberror, dump_registers());
            return ExitAction::kStop;
        case KVM_EXIT_FAIL_ENTRY:
            fmt::print(stderr, "KVM: entry failed, hardware error 0x{:x}\n{}",
                       uint64_t(run_->fail_entry.hardware_entry_failure_reason), dump_registers());
            return ExitAction::kStop;
        default:
            fmt::print(stderr, "KVM: unhandled exit reason {}\n{}", run_->exit_reason, dump_registers());
            return ExitAction::kStop;
    }
}

int KvmVm::run_loop(RunControl& rc) {
    install_kick_handler();
    vcpu_thread_.store(static_cast<unsigned long>(pthread_self()), std::memory_order_release);
    int status = 0;
    rc.set_vcpu_service(true);
    while (true) {
        __atomic_store_n(&run_->immediate_exit, 0, __ATOMIC_RELEASE);
        kicked_.store(false);
        if (rc.should_stop()) break;
        rc.service();  // monitor commands run here, between guest runs; `stop` parks here
        if (rc.should_stop()) break;
        if (rc.reset_requested()) {
            rc.clear_reset();
            if (machine_->options().no_reboot) {
                rc.request_shutdown(0);
                break;
            }
            machine_->reset();
            if (auto st = reset_vcpu(); !st) {
                fmt::print(stderr, "kvm: reset failed: {}\n", st.error());
                status = 1;
                break;
            }
        }
        machine_->poll_devices();
        if (halted_) {
            kvm_regs r = {};
            bool if_flag = xioctl(vcpu_fd_, KVM_GET_REGS, &r) == 0 && (r.rflags & 0x200);
            wait_for_interrupt(rc, if_flag);
            if (rc.should_stop() || rc.reset_requested()) continue;
            if (!if_flag) continue;  // still halted with interrupts off: keep idling
        }
        inject_interrupts();
        int r = ioctl(vcpu_fd_, KVM_RUN, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            fmt::print(stderr, "error: kvm run failed {}\n{}", strerror(errno), dump_registers());
            status = 1;
            break;
        }
        if (handle_exit(rc) == ExitAction::kStop) {
            status = 1;
            break;
        }
    }
    rc.set_vcpu_service(false);
    vcpu_thread_.store(0, std::memory_order_release);
    if (status != 0) return status;
    return rc.exit_status();
}

std::string KvmVm::dump_registers() const {
    kvm_regs r = {};
    kvm_sregs s = {};
    if (vcpu_fd_ < 0 || ioctl(vcpu_fd_, KVM_GET_REGS, &r) < 0 || ioctl(vcpu_fd_, KVM_GET_SREGS, &s) < 0) {
        return "(registers unavailable)\n";
    }
    return fmt::format(
        "RAX={:016x} RBX={:016x} RCX={:016x} RDX={:016x}\n"
        "RSI={:016x} RDI={:016x} RBP={:016x} RSP={:016x}\n"
        "R8 ={:016x} R9 ={:016x} R10={:016x} R11={:016x}\n"
        "R12={:016x} R13={:016x} R14={:016x} R15={:016x}\n"
        "RIP={:016x} RFL={:08x} CPL={}\n"
        "CS ={:04x} {:016x} {:08x} DS ={:04x} SS ={:04x}\n"
        "CR0={:08x} CR2={:016x} CR3={:016x} CR4={:08x} EFER={:016x}\n",
        r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
        r.rip, r.rflags, s.cs.dpl, s.cs.selector, s.cs.base, s.cs.limit, s.ds.selector, s.ss.selector, s.cr0, s.cr2,
        s.cr3, s.cr4, s.efer);
}

}  // namespace corvid
