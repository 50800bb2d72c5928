/* libFuzzer target: the GGUF reader on arbitrary bytes, then every accessor
 * on what it accepted, then the model loader's hyperparameter and shape
 * validation (no forward pass: a fuzzed model may be huge). Seeds in corpus/:
 * tiny llama and qwen2 models from tools/scripts/mkgguf.py. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "gguf.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct gguf_file *f = gguf_open_mem(data, size, err, sizeof(err));
	volatile uint64_t sink = 0;
	if (!f)
		return 0;
	for (int64_t i = 0; i < gguf_n_kv(f); i++) {
		size_t kl;
		const char *k = gguf_key_name(f, i, &kl);
		char key[256];
		if (kl >= sizeof(key))
			continue;
		for (size_t j = 0; j < kl; j++)
			key[j] = k[j] ? k[j] : '?'; /* an embedded NUL would shorten the lookup */
		key[kl] = 0;
		uint32_t u;
		int64_t i64;
		float fl;
		bool b;
		const char *s;
		size_t sl;
		enum gguf_type et;
		uint64_t n;
		sink += gguf_get_u32(f, key, &u) + gguf_get_i64(f, key, &i64) + gguf_get_f32(f, key, &fl) +
			gguf_get_bool(f, key, &b) + gguf_get_str(f, key, &s, &sl);
		if (gguf_get_str(f, key, &s, &sl) && sl)
			sink += (uint8_t)s[sl - 1];
		if (gguf_get_arr(f, key, &et, &n)) {
			if (et == GGUF_TYPE_STRING && n) {
				gguf_arr_str(f, key, n - 1, &s, &sl);
				if (sl)
					sink += (uint8_t)s[sl - 1];
			}
			sink += gguf_arr_data(f, key) != NULL;
		}
	}
	for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
		const struct gguf_tensor *t = gguf_tensor_at(f, i);
		if (t->nbytes)
			sink += ((const uint8_t *)t->data)[t->nbytes - 1];
	}
	struct mdl_model *m = mdl_load(f, err, sizeof(err));
	if (m) {
		static float row[MDL_MAX_DIM];
		if (mdl_hparams(m)->n_embd <= MDL_MAX_DIM)
			sink += (uint64_t)mdl_embed(m, (int32_t)mdl_hparams(m)->n_vocab - 1, row);
		sink += mdl_weight_bytes(m);
	}
	(void)sink;
	mdl_free(m);
	gguf_close(f);
	return 0;
}
