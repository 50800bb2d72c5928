#!/usr/bin/python3
"""Synthetic GGUF models for twospeed's model tests and benchmark.

Writes a GGUF v3 file for the `llama` or `qwen2` architecture with random
weights (matrices in F32, F16, BF16 or Q8_0, laid out exactly as ggml defines
them) and, optionally, expected logits from an independent NumPy forward pass.

The reference pass is written from the math (RMSNorm, RoPE, grouped-query
attention, SwiGLU), in float64, from the weights as stored (so the only
differences from the C engine are accumulation order and, for Q8_0, the
activation quantization, which the reference applies the same way: blocks of
32, d = max|x| / 127 in float32, q = round-half-away-from-zero(x * (1/d))).

Reference file (little-endian): b"MKREF1\\0\\0", u32 n_seqs, u32 n_vocab,
then per sequence u32 n_tokens, i32 tokens[n_tokens],
f32 logits[n_tokens][n_vocab] (logits after each token).

Usage: mkgguf.py --arch qwen2 --wtype Q8_0 --out m.gguf --ref m.ref --seqs "1,5,9;3,4"
Bench shapes (no reference, quick random Q8_0 blocks):
  mkgguf.py --arch qwen2 --wtype Q8_0 --embd 896 --layers 24 --heads 14 \
     --kv-heads 2 --ff 4864 --vocab 151936 --tied --fast --out /tmp/q.gguf
"""
import argparse
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
T_U32, T_F32, T_STR, T_ARR = 4, 6, 8, 9
TT = {"F32": 0, "F16": 1, "Q8_0": 8, "BF16": 30}
ALIGN = 32
QK = 32


# ---------------------------------------------------------------- encoding

def to_bf16_bits(a):
    """float32 -> bfloat16 bits, round to nearest even (NaN-free input)."""
    b = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return b.astype(np.uint16)


def bf16_bits_to_f32(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def quantize_q8_0(a):
    """Rows of float32 -> (bytes, dequantized float64), ggml's quantize_row_q8_0."""
    rows, cols = a.shape
    blk = a.astype(np.float32).reshape(rows, cols // QK, QK)
    amax = np.abs(blk).max(axis=2)
    d = (amax / np.float32(127.0)).astype(np.float32)
    idv = np.where(d != 0, np.float32(1.0) / np.where(d != 0, d, 1), 0).astype(np.float32)
    x = blk * idv[:, :, None]
    q = (np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))).astype(np.int8)
    return pack_q8_0(d.astype(np.float16), q)


def pack_q8_0(d16, q):
    rows, nb = d16.shape
    rec = np.zeros((rows, nb), dtype=[("d", "<f2"), ("qs", "i1", (QK,))])
    rec["d"] = d16
    rec["qs"] = q
    deq = d16.astype(np.float64)[:, :, None] * q.astype(np.float64)
    return rec.tobytes(), deq.reshape(rows, nb * QK)


def random_q8_0(rng, rows, cols, scale):
    """Random Q8_0 blocks directly (bench models: no float pass needed)."""
    nb = cols // QK
    q = rng.integers(-127, 128, size=(rows, nb, QK), dtype=np.int8)
    d = (rng.random((rows, nb), dtype=np.float32) * 0.5 + 0.75) * np.float32(scale / 73.0)
    rec = np.zeros((rows, nb), dtype=[("d", "<f2"), ("qs", "i1", (QK,))])
    rec["d"] = d.astype(np.float16)
    rec["qs"] = q
    return rec.tobytes(), None


def encode(a, wtype):
    """2-D float32 rows -> (bytes, the float64 values the file holds)."""
    if wtype == "F32":
        a = a.astype(np.float32)
        return a.tobytes(), a.astype(np.float64)
    if wtype == "F16":
        h = a.astype(np.float16)
        return h.tobytes(), h.astype(np.float64)
    if wtype == "BF16":
        h = to_bf16_bits(a)
        return h.tobytes(), bf16_bits_to_f32(h).astype(np.float64)
    if wtype == "Q8_0":
        return quantize_q8_0(a)
    raise ValueError(wtype)


# ---------------------------------------------------------------- GGUF writer

def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


class Writer:
    def __init__(self):
        self.kv = []
        self.tensors = []  # (name, shape ggml order, type id, bytes)

    def u32(self, k, v):
        self.kv.append(gstr(k) + struct.pack("<II", T_U32, v))

    def f32(self, k, v):
        self.kv.append(gstr(k) + struct.pack("<If", T_F32, v))

    def str(self, k, v):
        self.kv.append(gstr(k) + struct.pack("<I", T_STR) + gstr(v))

    def str_arr(self, k, vals):
        body = b"".join(gstr(v) for v in vals)
        self.kv.append(gstr(k) + struct.pack("<IIQ", T_ARR, T_STR, len(vals)) + body)

    def f32_arr(self, k, vals):
        self.kv.append(gstr(k) + struct.pack("<IIQ", T_ARR, T_F32, len(vals)) +
                       np.asarray(vals, dtype="<f4").tobytes())

    def tensor(self, name, ne, ttype, data):
        self.tensors.append((name, ne, TT[ttype], data))

    def write(self, path, version=3):
        # v2 and v3 share the layout (u64 counts and lengths, little-endian);
        # v3 added big-endian files, which this writer never makes.
        with open(path, "wb") as f:
            f.write(GGUF_MAGIC + struct.pack("<IQQ", version, len(self.tensors), len(self.kv)))
            for kv in self.kv:
                f.write(kv)
            off = 0
            offs = []
            for name, ne, tt, data in self.tensors:
                offs.append(off)
                f.write(gstr(name) + struct.pack("<I", len(ne)))
                f.write(struct.pack("<%dQ" % len(ne), *ne))
                f.write(struct.pack("<IQ", tt, off))
                off += (len(data) + ALIGN - 1) // ALIGN * ALIGN
            pos = f.tell()
            f.write(b"\0" * ((ALIGN - pos % ALIGN) % ALIGN))
            for (name, ne, tt, data), o in zip(self.tensors, offs):
                f.write(data)
                f.write(b"\0" * ((ALIGN - len(data) % ALIGN) % ALIGN))


# ---------------------------------------------------------------- model

def gpt2_byte_chars():
    """GPT-2's byte-to-unicode table: byte b as the character it is written as."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, n = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + n))
            n += 1
    return out


def build(args):
    rng = np.random.default_rng(args.seed)
    E, L, H, KVH, F, V = args.embd, args.layers, args.heads, args.kv_heads, args.ff, args.vocab
    hd = E // H
    arch = args.arch
    w = Writer()
    w.str("general.architecture", arch)
    w.str("general.name", "mkgguf-%s-%s" % (arch, args.wtype))
    w.u32("general.alignment", ALIGN)
    w.u32(arch + ".context_length", args.ctx)
    w.u32(arch + ".embedding_length", E)
    w.u32(arch + ".block_count", L)
    w.u32(arch + ".feed_forward_length", F)
    w.u32(arch + ".attention.head_count", H)
    w.u32(arch + ".attention.head_count_kv", KVH)
    w.f32(arch + ".attention.layer_norm_rms_epsilon", args.eps)
    w.f32(arch + ".rope.freq_base", args.rope_base)
    w.u32(arch + ".rope.dimension_count", hd)
    if args.rope_linear:
        w.str(arch + ".rope.scaling.type", "linear")
        w.f32(arch + ".rope.scaling.factor", args.rope_linear)
    w.str("tokenizer.ggml.model", "gpt2" if arch == "qwen2" else "llama")
    if args.bpe_vocab:
        # A vocabulary the engine's tokenizer accepts: GPT-2's 256 byte
        # characters first (any text encodes, one token per byte), fillers
        # after, no merges; the last id is the end-of-text token.
        if arch != "qwen2" or V < 257:
            sys.exit("mkgguf: --bpe-vocab needs --arch qwen2 and --vocab > 256")
        w.str("tokenizer.ggml.pre", "qwen2")
        w.str_arr("tokenizer.ggml.tokens", gpt2_byte_chars() + ["t%d" % i for i in range(256, V)])
        w.str_arr("tokenizer.ggml.merges", [])
        w.u32("tokenizer.ggml.eos_token_id", V - 1)
    else:
        w.str_arr("tokenizer.ggml.tokens", ["t%d" % i for i in range(V)])

    m = {"E": E, "L": L, "H": H, "KVH": KVH, "F": F, "V": V, "hd": hd, "arch": arch,
         "eps": args.eps, "base": args.rope_base, "wtype": args.wtype,
         "scale": 1.0 / args.rope_linear if args.rope_linear else 1.0, "layers": []}

    def mat(name, rows, cols, wtype=None):
        wtype = wtype or args.wtype
        scale = 1.0 / np.sqrt(cols)
        if args.fast and wtype == "Q8_0":
            data, deq = random_q8_0(rng, rows, cols, scale)
        else:
            a = (rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(scale))
            data, deq = encode(a, wtype)
        w.tensor(name, [cols, rows], wtype, data)
        return deq

    def vec(name, n, center, spread):
        a = (center + spread * rng.standard_normal(n)).astype(np.float32)
        w.tensor(name, [n], "F32", a.tobytes())
        return a.astype(np.float64)

    # the embedding gets unit-scale rows so the residual stream is O(1)
    if args.fast and args.wtype == "Q8_0":
        data, m["tok_embd"] = random_q8_0(rng, V, E, 1.0)
    else:
        data, m["tok_embd"] = encode(rng.standard_normal((V, E), dtype=np.float32), args.wtype)
    w.tensor("token_embd.weight", [E, V], args.wtype, data)
    m["output_norm"] = vec("output_norm.weight", E, 1.0, 0.1)
    m["output"] = m["tok_embd"] if args.tied else mat("output.weight", V, E)
    m["freq_factors"] = None
    if args.rope_freqs:
        # Llama 3.1-style per-dimension divisors of the RoPE frequencies (>= 1)
        ff = (1.0 + 3.0 * rng.random(hd // 2)).astype(np.float32)
        w.tensor("rope_freqs.weight", [hd // 2], "F32", ff.tobytes())
        m["freq_factors"] = ff.astype(np.float64)
    for l in range(L):
        p = "blk.%d." % l
        ly = {
            "attn_norm": vec(p + "attn_norm.weight", E, 1.0, 0.1),
            "wq": mat(p + "attn_q.weight", H * hd, E),
            "wk": mat(p + "attn_k.weight", KVH * hd, E),
            "wv": mat(p + "attn_v.weight", KVH * hd, E),
            "wo": mat(p + "attn_output.weight", E, H * hd),
            "ffn_norm": vec(p + "ffn_norm.weight", E, 1.0, 0.1),
            "gate": mat(p + "ffn_gate.weight", F, E),
            "up": mat(p + "ffn_up.weight", F, E),
            "down": mat(p + "ffn_down.weight", E, F),
        }
        if arch == "qwen2":
            ly["bq"] = vec(p + "attn_q.bias", H * hd, 0.0, 0.5)
            ly["bk"] = vec(p + "attn_k.bias", KVH * hd, 0.0, 0.5)
            ly["bv"] = vec(p + "attn_v.bias", KVH * hd, 0.0, 0.5)
        m["layers"].append(ly)
    w.write(args.out, args.gguf_version)
    return m


# ---------------------------------------------------------------- reference

def act_q8(x):
    """Quantize then dequantize an activation vector the way the engine feeds
    Q8_0 matmuls (float32 arithmetic, round half away from zero)."""
    b = x.astype(np.float32).reshape(-1, QK)
    amax = np.abs(b).max(axis=1)
    d = (amax / np.float32(127.0)).astype(np.float32)
    idv = np.where(d != 0, np.float32(1.0) / np.where(d != 0, d, 1), 0).astype(np.float32)
    v = b * idv[:, None]
    q = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return (q.astype(np.float64) * d.astype(np.float64)[:, None]).reshape(-1)


def matvec(m, W, x):
    if m["wtype"] == "Q8_0":
        x = act_q8(x)
    return W @ x


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * w


def rope(m, v, pos):
    """Rotate each head of v at position pos. llama GGUF: adjacent pairs
    (2i, 2i+1); qwen2 (NeoX): pairs (i, i + d/2)."""
    hd = m["hd"]
    half = hd // 2
    i = np.arange(half)
    inv = m["base"] ** (-2.0 * i / hd) * m["scale"]
    if m["freq_factors"] is not None:
        inv = inv / m["freq_factors"]
    th = pos * inv
    c, s = np.cos(th), np.sin(th)
    out = v.copy().reshape(-1, hd)
    if m["arch"] == "qwen2":
        a, b = out[:, :half].copy(), out[:, half:].copy()
        out[:, :half] = a * c - b * s
        out[:, half:] = a * s + b * c
    else:
        a, b = out[:, 0::2].copy(), out[:, 1::2].copy()
        out[:, 0::2] = a * c - b * s
        out[:, 1::2] = a * s + b * c
    return out.reshape(-1)


def forward_seq(m, tokens):
    """Logits after every token of one sequence, processed one at a time."""
    E, H, KVH, hd = m["E"], m["H"], m["KVH"], m["hd"]
    K = [[] for _ in range(m["L"])]
    Vc = [[] for _ in range(m["L"])]
    logits = []
    for pos, tok in enumerate(tokens):
        x = m["tok_embd"][tok].copy()
        for l, ly in enumerate(m["layers"]):
            h = rmsnorm(x, ly["attn_norm"], m["eps"])
            q = matvec(m, ly["wq"], h) + ly.get("bq", 0)
            k = matvec(m, ly["wk"], h) + ly.get("bk", 0)
            v = matvec(m, ly["wv"], h) + ly.get("bv", 0)
            q, k = rope(m, q, pos), rope(m, k, pos)
            K[l].append(k)
            Vc[l].append(v)
            Ks, Vs = np.stack(K[l]), np.stack(Vc[l])
            att = np.zeros(H * hd)
            for hh in range(H):
                kh = hh // (H // KVH)
                qh = q[hh * hd:(hh + 1) * hd]
                sc = Ks[:, kh * hd:(kh + 1) * hd] @ qh / np.sqrt(hd)
                sc = np.exp(sc - sc.max())
                sc /= sc.sum()
                att[hh * hd:(hh + 1) * hd] = sc @ Vs[:, kh * hd:(kh + 1) * hd]
            x = x + matvec(m, ly["wo"], att)
            h = rmsnorm(x, ly["ffn_norm"], m["eps"])
            g = matvec(m, ly["gate"], h)
            u = matvec(m, ly["up"], h)
            x = x + matvec(m, ly["down"], g / (1.0 + np.exp(-g)) * u)
        logits.append(matvec(m, m["output"], rmsnorm(x, m["output_norm"], m["eps"])))
    return np.stack(logits)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=["llama", "qwen2"], default="llama")
    ap.add_argument("--wtype", choices=list(TT), default="F32")
    ap.add_argument("--embd", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ff", type=int, default=96)
    ap.add_argument("--vocab", type=int, default=100)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--rope-linear", type=float, default=0.0, help="linear scaling factor")
    ap.add_argument("--rope-freqs", action="store_true", help="add a rope_freqs.weight tensor")
    ap.add_argument("--tied", action="store_true", help="no output.weight")
    ap.add_argument("--fast", action="store_true", help="Q8_0: random blocks, no float pass")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gguf-version", type=int, choices=[2, 3], default=3)
    ap.add_argument("--bpe-vocab", action="store_true",
                    help="qwen2: byte-level BPE vocabulary the tokenizer loads (for engine runs)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ref")
    ap.add_argument("--seqs", default="1,2,3", help="token ids, sequences split by ';'")
    args = ap.parse_args()
    if args.embd % args.heads or args.heads % args.kv_heads:
        sys.exit("mkgguf: heads must divide embd and kv-heads must divide heads")
    if args.wtype == "Q8_0" and (args.embd % QK or args.ff % QK):
        sys.exit("mkgguf: Q8_0 needs embd and ff multiples of 32")
    if args.ref and args.fast:
        sys.exit("mkgguf: --fast models have no float weights for a reference")
    m = build(args)
    if not args.ref:
        return
    seqs = [[int(t) for t in s.split(",")] for s in args.seqs.split(";")]
    with open(args.ref, "wb") as f:
        f.write(b"MKREF1\0\0" + struct.pack("<II", len(seqs), m["V"]))
        for s in seqs:
            lg = forward_seq(m, s)
            f.write(struct.pack("<I", len(s)) + np.asarray(s, dtype="<i4").tobytes())
            f.write(lg.astype("<f4").tobytes())


if __name__ == "__main__":
    main()
