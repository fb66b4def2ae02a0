// Entry point of corvid-system-x86_64.
#include "system/vl.h"

int main(int argc, char** argv) { return corvid::system_main(corvid::Arch::kX86_64, argc, argv); }
