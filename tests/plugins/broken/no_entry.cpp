// Broken on purpose: a shared library named like a plugin that exports no plugin entry.
extern "C" __attribute__((visibility("default"))) int loom_test_not_a_plugin_entry() { return 42; }
