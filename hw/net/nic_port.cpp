// NIC-side delivery: frames move from the backend's queue into the device in the vCPU thread.
#include "hw/net/nic_port.h"

namespace corvid {

NicPort::NicPort(NetBackend* backend, VirtualClock* clock, Deliver deliver)
    : backend_(backend), deliver_(std::move(deliver)), timer_(clock, [this] { flush(); }) {
    if (backend_ && !backend_->attach([this] { timer_.arm_now(); })) backend_ = nullptr;
}

NicPort::~NicPort() {
    if (backend_) backend_->detach();
}

void NicPort::send(const uint8_t* data, size_t len) {
    if (backend_) backend_->send(data, len);
}

void NicPort::flush() {
    if (!backend_) return;
    for (size_t i = 0; i < kNetMaxQueued && backend_->deliver_one(deliver_); i++) {
    }
}

}  // namespace corvid
