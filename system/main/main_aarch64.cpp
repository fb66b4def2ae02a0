// Entry point of corvid-system-aarch64.
int main() { return 0; }
