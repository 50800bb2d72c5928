#!/usr/bin/env python3
"""Fast-path discipline (STYLE.md 5): files ending in _fp.c run in the poll loop and
must not allocate from the heap, lock, make syscalls or log. Comments and string
literals are stripped first; a line may opt out with a comment "fp-ok: <reason>".
Prints one line per finding and "fastpath: N passed, N failed" (files)."""
import os
import re
import sys

BAD = re.compile(r'(?<![A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|printf|fprintf|'
                 r'vfprintf|puts|perror|syslog|pthread_mutex_lock|pthread_spin_lock|'
                 r'rte_spinlock_lock|sleep|usleep|nanosleep|time|gettimeofday|clock_gettime|'
                 r'open|fopen|read|write|send|recv|ioctl|mmap|hs_alloc_scratch|'
                 r'hs_clone_scratch|mbedtls_calloc|rte_malloc|rte_zmalloc|RTE_LOG)\s*\(')


def strip(src):
    """Blank out comments and string/char literals, keeping line structure."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('/*', i):
            j = src.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j]))
            i = j
        elif src.startswith('//', i):
            j = src.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and src[j] != c and src[j] != '\n':
                j += 2 if src[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + ' ' * (j - i - 2) + c if j - i >= 2 else src[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files = []
    for base in ('dataplane', 'control'):
        for root, _, names in os.walk(os.path.join(top, base)):
            files += [os.path.join(root, f) for f in names if f.endswith('_fp.c')]
    passed = failed = 0
    for path in sorted(files):
        with open(path, encoding='utf-8', errors='replace') as f:
            raw = f.read()
        raw_lines = raw.split('\n')
        hits = []
        for no, line in enumerate(strip(raw).split('\n'), 1):
            if BAD.search(line) and 'fp-ok:' not in raw_lines[no - 1]:
                hits.append((no, raw_lines[no - 1].strip()))
        rel = os.path.relpath(path, top)
        for no, text in hits:
            print(f'fastpath: forbidden call: {rel}:{no}: {text}')
        if hits:
            failed += 1
        else:
            passed += 1
    print(f'fastpath: {passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
