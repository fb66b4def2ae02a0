// Entry point of corvid-system-x86_64.
int main() { return 0; }
