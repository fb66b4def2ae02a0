// Entry point of corvid-system-aarch64.
#include "system/vl.h"

int main(int argc, char** argv) { return corvid::system_main(corvid::Arch::kAArch64, argc, argv); }
