/* SPDX-License-Identifier: Proprietary */
/*
 * The request view parser as built for a CPU without AVX-512 (AVX2 path), renamed
 * rv_parse_avx2: the reference the AVX-512 build is compared with in test_reqview.
 * Built with -mno-avx512f (meson.build).
 */
#if defined(__AVX512F__)
#error "rv_ref_avx2.c must be built without AVX-512"
#endif
#define rv_parse rv_parse_avx2
#include "reqview_fp.c"
