#!/usr/bin/python3
"""Tokenizer-only GGUF files for tests: GGUF v3, KV metadata, zero tensors.

Builds a small synthetic byte-level BPE vocabulary ("gpt2" model): the 256
GPT-2 byte characters, merges learned from a built-in corpus, and a few
special/added tokens. Expected outputs are computed here with an independent
reference: Python `re` for the pre-tokenizer patterns (character classes
built from unicodedata) and the textbook GPT-2 BPE loop (merge the
lowest-ranked pair everywhere, repeat) -- not the heap algorithm of the C
code.

  mktokgguf.py --out F.gguf [--pre llama3] [--chat-template-file T]
      one vocabulary file
  mktokgguf.py --suite DIR
      DIR/tok_bpe_<pre>.gguf for every supported pre-tokenizer and
      DIR/tok_cases.h with expected pre-token splits and ids for the C tests
"""
import argparse
import os
import re
import struct
import sys
import unicodedata

# ---------------------------------------------------------------- GGUF writer
T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR = 4, 5, 6, 7, 8, 9


def _str(b):
    if isinstance(b, str):
        b = b.encode('utf-8')
    return struct.pack('<Q', len(b)) + b


def _val(t, v):
    if t == T_U32:
        return struct.pack('<I', v)
    if t == T_I32:
        return struct.pack('<i', v)
    if t == T_F32:
        return struct.pack('<f', v)
    if t == T_BOOL:
        return struct.pack('<B', 1 if v else 0)
    if t == T_STR:
        return _str(v)
    raise ValueError(t)


def gguf_bytes(kvs):
    """kvs: list of (key, type, value) or (key, T_ARR, (elem_type, [values]))."""
    out = b'GGUF' + struct.pack('<IQQ', 3, 0, len(kvs))
    for key, t, v in kvs:
        out += _str(key) + struct.pack('<I', t)
        if t == T_ARR:
            et, vals = v
            out += struct.pack('<IQ', et, len(vals))
            out += b''.join(_val(et, x) for x in vals)
        else:
            out += _val(t, v)
    # no tensor infos; pad to the default alignment so the data section is valid
    out += b'\0' * ((-len(out)) % 32)
    return out


# ---------------------------------------------------- GPT-2 byte <-> unicode
def byte_chars():
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHAR = byte_chars()


def byte_encode(s_bytes):
    return ''.join(BYTE_CHAR[b] for b in s_bytes)


# ------------------------------------------------ reference pre-tokenizers
def _class(pred):
    parts = []
    lo = None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            ok = False
        else:
            ok = pred(cp)
        if ok and lo is None:
            lo = cp
        if not ok and lo is not None:
            parts.append((lo, cp - 1))
            lo = None
    if lo is not None:
        parts.append((lo, 0x10FFFF))

    def esc(cp):
        return '\\U%08x' % cp
    return ''.join(esc(a) if a == b else esc(a) + '-' + esc(b) for a, b in parts)


WS = set(list(range(0x09, 0x0E)) + [0x20, 0x85, 0xA0, 0x1680] + list(range(0x2000, 0x200B)) +
         [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
L = _class(lambda c: unicodedata.category(chr(c))[0] == 'L')
N = _class(lambda c: unicodedata.category(chr(c))[0] == 'N')
P = _class(lambda c: unicodedata.category(chr(c))[0] == 'P')
S = _class(lambda c: c in WS)

RE_GPT2 = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[%s]+| ?[%s]+| ?[^%s%s%s]+|[%s]+(?![^%s])|[%s]+"
    % (L, N, S, L, N, S, S, S))
RE_LLAMA3 = re.compile(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n%s%s]?[%s]+|[%s]{1,3}"
    r"| ?[^%s%s%s]+[\r\n]*|[%s]*[\r\n]+|[%s]+(?![^%s])|[%s]+"
    % (L, N, L, N, S, L, N, S, S, S, S))
RE_QWEN2 = re.compile(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n%s%s]?[%s]+|[%s]"
    r"| ?[^%s%s%s]+[\r\n]*|[%s]*[\r\n]+|[%s]+(?![^%s])|[%s]+"
    % (L, N, L, N, S, L, N, S, S, S, S))
RE_PUNCT_RUN = re.compile(r"[%s\$\+<=>\^~\|]+" % P)
RE_NUM_RUN = re.compile(r"[%s]+" % N)
RE_NUM_ONE = re.compile(r"[%s]" % N)
RE_DIGIT3 = re.compile(r"[0-9][0-9][0-9]")

PASSES = {
    'default': [RE_PUNCT_RUN, RE_GPT2, RE_NUM_RUN, RE_DIGIT3],
    'gpt2': [RE_GPT2],
    'llama3': [RE_LLAMA3],
    'qwen2': [RE_QWEN2],
    'smollm': [RE_NUM_ONE, RE_GPT2],
}


def split_pass(rx, pieces):
    """llama.cpp's unicode_regex_split: matches and the gaps between them."""
    out = []
    for p in pieces:
        pos = 0
        for m in rx.finditer(p):
            if m.start() > pos:
                out.append(p[pos:m.start()])
            if m.end() > m.start():
                out.append(m.group())
            pos = m.end()
        if pos < len(p):
            out.append(p[pos:])
    return out


def pretokenize(pre, text):
    pieces = [text] if text else []
    for rx in PASSES[pre]:
        pieces = split_pass(rx, pieces)
    return pieces


# ----------------------------------------------------- vocabulary + merges
CORPUS = """\
Once upon a time, there was a little girl named Lily. She loved to play outside.
The quick brown fox jumps over the lazy dog. It's 2024 and we're testing 12345 tokens!
I'm sure they'll say you've done what he'd do. DON'T SHOUT, it's not what I'D do.
def main(): return x + y * 3.14159 - 42 // 7
Привет, мир! Это тест токенизатора. Γειά σου κόσμε. 你好，世界。 こんにちは
    indented code\\n\\tand tabs    and   spaces
""" * 3


def train_merges(n_merges):
    words = {}
    for w in pretokenize('gpt2', CORPUS):
        e = byte_encode(w.encode('utf-8'))
        words[e] = words.get(e, 0) + 1
    seqs = {w: list(w) for w in words}
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w, c in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        for w in seqs:
            s = seqs[w]
            i, o = 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    o.append(s[i] + s[i + 1])
                    i += 2
                else:
                    o.append(s[i])
                    i += 1
            seqs[w] = o
    return merges


SPECIALS = [  # text, type (3 CONTROL, 4 USER_DEFINED)
    ('<|endoftext|>', 3), ('<|im_start|>', 3), ('<|im_end|>', 3),
    ('<|begin_of_text|>', 3), ('<|start_header_id|>', 3), ('<|end_header_id|>', 3),
    ('<|eot_id|>', 3), ('<tool>', 4),
]

# Qwen2.5-Instruct's tokenizer.chat_template (tools branch included, so the
# default-system detection is tested against the real text).
QWEN_TEMPLATE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""
LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")


def build_vocab():
    merges = train_merges(400)
    tokens = [BYTE_CHAR[b] for b in range(256)]
    seen = set(tokens)
    for a, b in merges:
        if a + b not in seen:
            tokens.append(a + b)
            seen.add(a + b)
    types = [1] * len(tokens)
    for text, ty in SPECIALS:
        tokens.append(text)
        types.append(ty)
    return tokens, types, merges


def vocab_kvs(pre, tokens, types, merges, template=None, add_bos=None):
    ids = {t: i for i, t in enumerate(tokens)}
    # Llama 3 style: BOS <|begin_of_text|>, EOS <|eot_id|>; others: EOS <|endoftext|>
    eos = ids['<|eot_id|>'] if pre == 'llama3' else ids['<|endoftext|>']
    kvs = [
        ('general.architecture', T_STR, 'llama'),
        ('tokenizer.ggml.model', T_STR, 'gpt2'),
        ('tokenizer.ggml.pre', T_STR, 'llama-bpe' if pre == 'llama3' else pre),
        ('tokenizer.ggml.tokens', T_ARR, (T_STR, tokens)),
        ('tokenizer.ggml.token_type', T_ARR, (T_I32, types)),
        ('tokenizer.ggml.merges', T_ARR, (T_STR, ['%s %s' % m for m in merges])),
        ('tokenizer.ggml.eos_token_id', T_U32, eos),
    ]
    if pre == 'llama3':
        kvs.append(('tokenizer.ggml.bos_token_id', T_U32, ids['<|begin_of_text|>']))
    if add_bos is not None:
        kvs.append(('tokenizer.ggml.add_bos_token', T_BOOL, add_bos))
    if template:
        kvs.append(('tokenizer.chat_template', T_STR, template))
    return kvs


# ------------------------------------------------------- reference encoder
def bpe_word(word, ranks, ids):
    syms = list(byte_encode(word.encode('utf-8') if isinstance(word, str) else word))
    while len(syms) > 1:
        best = None
        for a, b in zip(syms, syms[1:]):
            r = ranks.get((a, b))
            if r is not None and (best is None or r < best[0]):
                best = (r, a, b)
        if best is None:
            break
        _, a, b = best
        i, o = 0, []
        while i < len(syms):
            if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                o.append(a + b)
                i += 2
            else:
                o.append(syms[i])
                i += 1
        syms = o
    return [ids[s] for s in syms]


def ref_encode(pre, text, tokens, types, merges, parse_special):
    ids = {t: i for i, t in enumerate(tokens)}
    ranks = {m: i for i, m in enumerate(merges)}
    specials = [(t, ids[t]) for t, ty in SPECIALS if parse_special or ty == 4]
    out = []
    pos = 0
    frag = 0
    while pos < len(text):
        hit = None
        for t, i in sorted(specials, key=lambda x: -len(x[0])):
            if text.startswith(t, pos):
                hit = (t, i)
                break
        if not hit:
            pos += 1
            continue
        for w in pretokenize(pre, text[frag:pos]):
            out += ref_word(pre, w, ranks, ids)
        out.append(hit[1])
        pos += len(hit[0])
        frag = pos
    for w in pretokenize(pre, text[frag:]):
        out += ref_word(pre, w, ranks, ids)
    return out


def ref_word(pre, w, ranks, ids):
    if pre == 'llama3':
        e = byte_encode(w.encode('utf-8'))
        if e in ids:
            return [ids[e]]
    return bpe_word(w, ranks, ids)


# Strings for the split and id tests: contractions, digit groups, whitespace
# runs, punctuation, newlines, non-Latin letters, specials.
CASES = [
    "Hello world",
    "It's 2024 and we're testing 12345 tokens!",
    "DON'T SHOUT, I'D say 'quoted' text",
    "  leading and trailing   ",
    "tabs\tand\nnewlines\r\n\n  indented",
    "x = a+b*(c-d) // 3.14159; $100 <= ^~|",
    "1234567 12 1 9876543210",
    "Привет, мир! Γειά σου κόσμε. 你好，世界。",
    "mixed3d1g1ts and Ⅻ roman ٣ arabic-indic",
    "emoji 😀 and symbols ©®™",
    "a\n\n\nb   \n  c",
    "<|im_start|>user\nHi there<|im_end|>\n<tool>x<|endoftext|>",
]


def c_str(s):
    b = s.encode('utf-8')
    return '"' + ''.join(
        '\\%03o' % c if c < 0x20 or c >= 0x7F or c in (0x22, 0x5C, 0x3F) else chr(c)
        for c in b) + '"'


def write_suite(d):
    tokens, types, merges = build_vocab()
    pres = ['default', 'gpt2', 'llama3', 'qwen2', 'smollm']
    for pre in pres:
        tmpl = QWEN_TEMPLATE if pre == 'qwen2' else LLAMA3_TEMPLATE if pre == 'llama3' else None
        with open(os.path.join(d, 'tok_bpe_%s.gguf' % pre), 'wb') as f:
            f.write(gguf_bytes(vocab_kvs(pre, tokens, types, merges, tmpl)))
    h = ['/* Generated by tools/scripts/mktokgguf.py --suite: expected results of',
         ' * the reference pre-tokenizers (Python re) and BPE (textbook loop). */',
         '#include <stddef.h>', '#include <stdint.h>', '',
         'static const char *const tc_pres[] = { %s };' % ', '.join('"%s"' % p for p in pres),
         '#define TC_N_PRES %d' % len(pres),
         '#define TC_N_CASES %d' % len(CASES),
         'static const char *const tc_text[TC_N_CASES] = {']
    h += ['\t%s,' % c_str(c) for c in CASES]
    h.append('};')
    # splits: per pre, per case, NUL-separated list terminated by an extra NUL
    h.append('/* Pre-token splits of tc_text[c] (no specials), words joined by "\\x1f". */')
    h.append('static const char *const tc_split[TC_N_PRES][TC_N_CASES] = {')
    for pre in pres:
        h.append('\t{')
        for c in CASES:
            words = pretokenize(pre, c)
            h.append('\t\t%s,' % c_str('\x1f'.join(words)))
        h.append('\t},')
    h.append('};')
    for ps in (0, 1):
        h.append('/* Ids of tc_text[c], %s, no BOS/EOS. */' % ('specials parsed' if ps else 'specials as text'))
        h.append('static const int32_t tc_ids_%s[TC_N_PRES][TC_N_CASES][160] = {' % ('special' if ps else 'plain'))
        for pre in pres:
            h.append('\t{')
            for c in CASES:
                ids = ref_encode(pre, c, tokens, types, merges, ps == 1)
                assert len(ids) < 159, (pre, c, len(ids))
                h.append('\t\t{ %d, %s },' % (len(ids), ', '.join(str(i) for i in ids)))
            h.append('\t},')
        h.append('};')
    h.append('#define TC_N_VOCAB %d' % len(tokens))
    with open(os.path.join(d, 'tok_cases.h'), 'w') as f:
        f.write('\n'.join(h) + '\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--suite', metavar='DIR')
    ap.add_argument('--out', metavar='FILE')
    ap.add_argument('--pre', default='gpt2', choices=sorted(PASSES))
    ap.add_argument('--chat-template-file')
    ap.add_argument('--add-bos', choices=['true', 'false'])
    a = ap.parse_args()
    if a.suite:
        os.makedirs(a.suite, exist_ok=True)
        write_suite(a.suite)
        return 0
    if not a.out:
        ap.error('--out or --suite is required')
    tokens, types, merges = build_vocab()
    tmpl = open(a.chat_template_file, encoding='utf-8').read() if a.chat_template_file else None
    add_bos = None if a.add_bos is None else a.add_bos == 'true'
    with open(a.out, 'wb') as f:
        f.write(gguf_bytes(vocab_kvs(a.pre, tokens, types, merges, tmpl, add_bos)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
