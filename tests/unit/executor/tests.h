/* SPDX-License-Identifier: proprietary */
#ifndef TWOSPEED_TEST_EXECUTOR_H
#define TWOSPEED_TEST_EXECUTOR_H

int test_ring_register(void);
int test_sampler_register(void);
int test_engine_register(void);
int test_conf_register(void);

#endif
