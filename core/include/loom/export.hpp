#pragma once
// LOOM_API marks what libloom.so exports; everything else is built with -fvisibility=hidden.
// Error classes and other types thrown or dynamic_cast across library boundaries must be
// LOOM_API so that a plugin's exception is caught by type in the caller.
#define LOOM_API __attribute__((visibility("default")))
#define LOOM_CONCAT_IMPL(a, b) a##b
#define LOOM_CONCAT(a, b) LOOM_CONCAT_IMPL(a, b)
