/* The kept lines of a block of text, found in one pass over its bytes (collectors/_linescan.py).
 *
 * kept(data, prefixes) looks at every line of ``data`` (each ended by '\n'; bytes after the last one are
 * not a line) and keeps those that start with one of ``prefixes`` (each at least 8 bytes long, none a
 * prefix of another). It returns None if ``data`` holds a byte above 0x7f or a '\r' (the caller then
 * reads the lines one by one), else a tuple:
 *
 *   (count, index, which, starts, ends, kept)
 *
 *   count   the number of lines;
 *   index   each kept line's position among the lines (0 first), int64, as bytes;
 *   which   which prefix it starts with (its position in ``prefixes``), int8, as bytes;
 *   starts  where it starts in ``kept``, int64, as bytes;
 *   ends    where its '\n' is in ``kept``, int64, as bytes;
 *   kept    the kept lines' bytes, each with its '\n', in order.
 *
 * The scan runs without the GIL. On x86-64 it reads 16 bytes at a time (SSE2: newline, high-bit and '\r'
 * masks); elsewhere (or compiled with -DLINESCAN_PORTABLE) it checks 8 bytes at a time for odd ones and
 * finds the lines with memchr. collectors/_linescan.py has the same function in numpy, which the tests
 * compare both forms against.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__) && !defined(LINESCAN_PORTABLE)
#include <emmintrin.h>
#define LINESCAN_SSE2 1
#endif

#define MAX_PREFIXES 32
#define WORD 8

typedef struct {
    const unsigned char *text;
    Py_ssize_t length;
    uint64_t first; /* the first 8 bytes */
} Prefix;

typedef struct {
    int64_t *index, *starts, *ends;
    int8_t *which;
    Py_ssize_t rows, row_cap;
    unsigned char *bytes;
    Py_ssize_t size, byte_cap;
    int failed; /* out of memory */
} Out;

static int grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t item) {
    if (need <= *cap) return 1;
    Py_ssize_t cap2 = *cap ? *cap : 1024;
    while (cap2 < need) cap2 *= 2;
    void *q = realloc(*p, (size_t)cap2 * item);
    if (!q) return 0;
    *p = q;
    *cap = cap2;
    return 1;
}

static void keep(Out *o, const unsigned char *line, Py_ssize_t length, int64_t index, int which) {
    /* line .. line + length is the line with its '\n' */
    if (o->failed) return;
    Py_ssize_t cap = o->row_cap;
    if (o->rows + 1 > cap) {
        Py_ssize_t c;
        c = cap; if (!grow((void **)&o->index, &c, o->rows + 1, sizeof(int64_t))) goto fail;
        c = cap; if (!grow((void **)&o->starts, &c, o->rows + 1, sizeof(int64_t))) goto fail;
        c = cap; if (!grow((void **)&o->ends, &c, o->rows + 1, sizeof(int64_t))) goto fail;
        c = cap; if (!grow((void **)&o->which, &c, o->rows + 1, sizeof(int8_t))) goto fail;
        o->row_cap = c;
    }
    if (!grow((void **)&o->bytes, &o->byte_cap, o->size + length, 1)) goto fail;
    o->index[o->rows] = index;
    o->which[o->rows] = (int8_t)which;
    o->starts[o->rows] = o->size;
    o->ends[o->rows] = o->size + length - 1;
    memcpy(o->bytes + o->size, line, (size_t)length);
    o->rows += 1;
    o->size += length;
    return;
fail:
    o->failed = 1;
}

static inline int match(const Prefix *prefixes, int n, const unsigned char *line, Py_ssize_t length) {
    /* the prefix ``line`` (``length`` bytes before its '\n') starts with, or -1 */
    if (length < WORD) return -1;
    uint64_t word;
    memcpy(&word, line, WORD);
    for (int k = 0; k < n; k++) {
        const Prefix *p = &prefixes[k];
        if (word == p->first && length >= p->length &&
            memcmp(line + WORD, p->text + WORD, (size_t)(p->length - WORD)) == 0)
            return k;
    }
    return -1;
}

#define LINE_END(at)                                                                  \
    do {                                                                              \
        Py_ssize_t end_ = (at);                                                       \
        int k_ = match(prefixes, n, data + start, end_ - start);                      \
        if (k_ >= 0) keep(o, data + start, end_ - start + 1, line, k_);               \
        line += 1;                                                                    \
        start = end_ + 1;                                                             \
    } while (0)

/* The scan: every line of data[0 .. size), the kept ones into ``o``; returns the line count and sets
 * *bad if a byte is above 0x7f or a '\r'. */
#ifdef LINESCAN_SSE2
static int64_t scan(const unsigned char *data, Py_ssize_t size, const Prefix *prefixes, int n, Out *o,
                    int *bad) {
    /* 16 bytes at a time: one mask of their newlines, one of their high bits and '\r's */
    int64_t line = 0;
    Py_ssize_t start = 0, i = 0;
    unsigned odd = 0;
    const __m128i newline = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; i + 16 <= size; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(data + i));
        odd |= (unsigned)_mm_movemask_epi8(v) | (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr));
        unsigned ends = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline));
        while (ends) {
            LINE_END(i + __builtin_ctz(ends));
            ends &= ends - 1;
        }
    }
    for (; i < size; i++) {
        unsigned char c = data[i];
        odd |= (c >= 0x80) | (c == '\r');
        if (c == '\n') LINE_END(i);
    }
    *bad = odd != 0;
    return line;
}
#else
static int64_t scan(const unsigned char *data, Py_ssize_t size, const Prefix *prefixes, int n, Out *o,
                    int *bad) {
    /* Portable: the odd bytes 8 at a time (a high bit; a '\r' as a zero byte of w ^ '\r'...), then the
     * lines by memchr, which the C library vectorises (NEON on Apple Silicon). */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t odd = 0;
    Py_ssize_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w, x;
        memcpy(&w, data + i, 8);
        x = w ^ (ones * '\r');
        odd |= w | ((x - ones) & ~x);
    }
    int tail = 0;
    for (; i < size; i++) tail |= (data[i] >= 0x80) | (data[i] == '\r');
    *bad = (odd & high) != 0 || tail;
    int64_t line = 0;
    Py_ssize_t start = 0;
    const unsigned char *end;
    while (start < size && (end = memchr(data + start, '\n', (size_t)(size - start))) != NULL)
        LINE_END(end - data);
    return line;
}
#endif
#undef LINE_END

static PyObject *bytes_of(const void *p, Py_ssize_t n) {
    return PyBytes_FromStringAndSize(n ? (const char *)p : "", n);
}

static PyObject *kept(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    PyObject *given;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyTuple_Type, &given)) return NULL;
    Prefix prefixes[MAX_PREFIXES];
    Py_ssize_t n = PyTuple_GET_SIZE(given);
    if (n > MAX_PREFIXES) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "at most 32 prefixes");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyTuple_GET_ITEM(given, k);
        if (!PyBytes_Check(item) || PyBytes_GET_SIZE(item) < WORD) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "each prefix is bytes of at least 8");
            return NULL;
        }
        prefixes[k].text = (const unsigned char *)PyBytes_AS_STRING(item);
        prefixes[k].length = PyBytes_GET_SIZE(item);
        memcpy(&prefixes[k].first, prefixes[k].text, WORD);
    }
    Out o;
    memset(&o, 0, sizeof o);
    int bad = 0;
    int64_t count;
    Py_BEGIN_ALLOW_THREADS
    count = scan((const unsigned char *)view.buf, view.len, prefixes, (int)n, &o, &bad);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *result = NULL;
    if (o.failed) {
        PyErr_NoMemory();
    } else if (bad) {
        result = Py_NewRef(Py_None);
    } else {
        result = Py_BuildValue("(LNNNNN)", (long long)count, bytes_of(o.index, o.rows * 8),
                               bytes_of(o.which, o.rows), bytes_of(o.starts, o.rows * 8),
                               bytes_of(o.ends, o.rows * 8), bytes_of(o.bytes, o.size));
    }
    free(o.index);
    free(o.starts);
    free(o.ends);
    free(o.which);
    free(o.bytes);
    return result;
}

static PyMethodDef methods[] = {
    {"kept", kept, METH_VARARGS, "The lines of a block that start with one of the prefixes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_linescan_c",
    .m_doc = "The kept lines of a block of text (collectors/_linescan.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__linescan_c(void) { return PyModule_Create(&module); }
