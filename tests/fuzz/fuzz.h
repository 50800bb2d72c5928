/* fuzz.h: the libFuzzer entry points every target in tests/fuzz/ defines.
 *
 * Declared here once so that each target, and the replay driver (replay.c) that
 * runs a target's seed corpus in the ordinary unit run, compile under
 * -Wmissing-prototypes with gcc as well as clang. The signatures are libFuzzer's
 * (https://llvm.org/docs/LibFuzzer.html); the fuzzer and the replay driver are the
 * only callers.
 */
#ifndef TS_FUZZ_H
#define TS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input: data[0..size) is borrowed for the call only. Returns 0, or -1 to ask
 * libFuzzer not to add the input to the corpus; any other value is an error. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional one-time set-up before the first input (targets that need EAL). The
 * driver passes its own argc/argv; targets may ignore them. Returns 0. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* TS_FUZZ_H */
