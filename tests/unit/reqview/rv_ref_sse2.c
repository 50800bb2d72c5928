/* SPDX-License-Identifier: Proprietary */
/*
 * The request view parser as built for a CPU without AVX (SSE2 and scalar paths),
 * renamed rv_parse_sse2: a second reference for test_reqview.  Built with -mno-avx
 * (meson.build).
 */
#if defined(__AVX__)
#error "rv_ref_sse2.c must be built without AVX"
#endif
#define rv_parse rv_parse_sse2
#include "reqview_fp.c"
