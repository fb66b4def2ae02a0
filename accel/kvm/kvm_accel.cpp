// The kvm accelerator: /dev/kvm set-up. Running x86 vCPUs is the KVM issue's work; until then
// a KVM machine boots no guest code and idles until it is terminated.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "accel/accel.h"
#include "accel/accel_types.h"

namespace corvid {
namespace {

class KvmAccel : public Accelerator {
public:
    explicit KvmAccel(std::string device) : device_(std::move(device)) {}

    ~KvmAccel() override {
        if (vm_fd_ >= 0) close(vm_fd_);
        if (kvm_fd_ >= 0) close(kvm_fd_);
    }

    Status init(Machine& machine) override {
        if (machine.arch() != Arch::kX86_64) {
            return make_error("KVM is not supported for AArch64 guests on this host (an x86-64 host runs x86 guests only)");
        }
        kvm_fd_ = open(device_.c_str(), O_RDWR | O_CLOEXEC);
        if (kvm_fd_ < 0) {
            int e = errno;
            return make_error(fmt::format("Could not access KVM kernel module: {}\nfailed to initialize kvm: {}",
                                          strerror(e), strerror(e)));
        }
        int version = ioctl(kvm_fd_, KVM_GET_API_VERSION, 0);
        if (version != KVM_API_VERSION) {
            return make_error(fmt::format("kvm version not supported (expected {}, got {})\nfailed to initialize kvm: Invalid argument",
                                          KVM_API_VERSION, version));
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

    int run(Machine&, RunControl& rc, bool) override {
        // No vCPU yet: the VM exists and the process waits, without using CPU, to be ended.
        while (!rc.should_stop()) rc.wait();
        return rc.exit_status();
    }

private:
    std::string device_;
    int kvm_fd_ = -1;
    int vm_fd_ = -1;
};

}  // namespace

std::unique_ptr<Accelerator> make_kvm_accel(const OptionList& props) {
    return std::make_unique<KvmAccel>(props.get("device").value_or("/dev/kvm"));
}

}  // namespace corvid
