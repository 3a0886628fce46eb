/* Compiled CRF decoder for workers.extract (see decoder.py for the Python side and a pure-Python
 * twin used when this module is not built).
 *
 * Why: tagging through python-crfsuite means building feature strings for every token and
 * converting them in C++; here a token is an integer *type id* whose emission block was summed
 * once, on first sight, from the model's weights. Tagging a text is then a few adds and a
 * first-order Viterbi per sentence, all in C.
 *
 * Model layout (all little-endian host doubles / uint32 / uint16, built by decoder.py):
 *   - L labels; transitions trans[i * L + j] (from label i to label j);
 *   - components: component c owns entries comp_off[c] .. comp_off[c + 1] - 1 of
 *     (slot, weight), where slot = position * L + label and position is
 *     0 own, 1 as the previous token, 2 as the next token, 3 as the token two before,
 *     4 as the token two after (the featurizer's five "pieces");
 *   - a type is the sum of a few components: a dense block of 5 * L doubles plus flags:
 *     bit 0 NEVER (only its own block counts: particles, verbs, punctuation),
 *     bit 1 ends a sentence after itself (。), bit 2 is a line break (ends the sentence
 *     before itself and belongs to none; labelled O).
 *   - type 0 is the sentinel standing beyond both ends of a sentence (BOS/EOS features).
 *
 * The Viterbi loop mirrors crfsuite's crf1dc_viterbi (same tie-breaking: first maximum wins),
 * so labels agree with crfsuite's tagger; transitions are kept transposed for contiguous reads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <float.h>

#define NPOS 5
#define F_NEVER 1
#define F_END_AFTER 2
#define F_BREAK 4

typedef struct {
    uint64_t hash;
    long pos;
    Py_ssize_t id;
    PyObject *surface;  /* owned */
    uint64_t words;     /* its word-class bits (see set_words) */
} SurfaceEntry;

typedef struct {
    PyObject_HEAD
    int L;
    int o_label;
    double *trans;
    double *trans_to;  /* transposed: trans_to[j * L + i] = trans[i * L + j] */
    Py_ssize_t ncomp;
    uint32_t *comp_off;
    uint16_t *ent_slot;
    double *ent_w;
    Py_ssize_t ntypes, cap;
    double *blocks;  /* ntypes * NPOS * L */
    uint8_t *flags;  /* ntypes */
    /* token-type lookup (configure()): see Decoder_typed */
    PyObject *types;      /* dict: POS id -> dict: surface -> type id */
    PyObject *pos_info;   /* callable: POS id -> (never, own component ids, context component) */
    PyObject *pos_cache;  /* dict: POS id -> that tuple */
    PyObject *maps[7];    /* W, SH, LEN, S1, F1, S2, LEX: dicts value -> component id */
    PyObject *lex;        /* tuple of (class name, frozenset of words) */
    PyObject *lex_tags[3][2]; /* per lexicon class: tag str for whole word, for suffix */
    PyObject *len_keys[7];    /* "0" .. "6" */
    PyObject *s_surface, *s_pos, *s_begin, *s_end;  /* method names */
    /* scan(): the morpheme type's begin/end/part_of_speech_id as C functions (METH_NOARGS),
     * looked up once per type; NULL when they are not plain C methods (then: call by name) */
    PyTypeObject *m_type;
    PyCFunction m_begin, m_end, m_pos;
    uint8_t bio_kind[256];    /* label -> 0 O, 1 B, 2 I */
    int bio_tag[256];         /* label -> id of its tag (same for B-X and I-X) */
    PyObject *bio_names;      /* tuple: label -> tag str (None for O) */
    /* scratch for one sentence */
    Py_ssize_t scap;
    double *state, *score;
    int *back;
    int *ids;
    uint8_t *labels;
    /* scan(): (POS id, surface) -> (surface str, type id), hashed over the chunk's code points
     * so that a known token needs no new str and no dict lookups (see scan_chunk) */
    SurfaceEntry *sc_tab;  /* open addressing; an empty slot has surface NULL */
    size_t sc_cap, sc_count;  /* cap: 0 or a power of 2 */
    /* scan(): word classes ((kind, value), ...: see set_words) and the bits of the text's words */
    PyObject *word_classes;
    PyObject *word_in;    /* word -> OR of the bits of the "in" classes holding it */
    int nchar_classes;    /* the character classes: their kind ('f', 'l', 'o'), bit, and */
    char char_kind[64];   /* the BMP code points they hold, as bitmaps (others: by value) */
    uint64_t char_bit[64];
    uint8_t *char_map[64];
    PyObject *char_value[64];
    PyObject *char_rests[64];  /* 's': the set the rest of the word must be in */
    uint64_t scan_words;
} Decoder;

static void surface_cache_clear(Decoder *self);
static void clear_char_classes(Decoder *self);

static void Decoder_dealloc(Decoder *self) {
    surface_cache_clear(self);
    PyMem_Free(self->sc_tab);
    Py_XDECREF(self->types);
    Py_XDECREF(self->pos_info);
    Py_XDECREF(self->pos_cache);
    for (int k = 0; k < 7; k++) Py_XDECREF(self->maps[k]);
    Py_XDECREF(self->lex);
    for (int k = 0; k < 3; k++) { Py_XDECREF(self->lex_tags[k][0]); Py_XDECREF(self->lex_tags[k][1]); }
    for (int k = 0; k < 7; k++) Py_XDECREF(self->len_keys[k]);
    Py_XDECREF(self->s_surface);
    Py_XDECREF(self->s_pos);
    Py_XDECREF(self->s_begin);
    Py_XDECREF(self->s_end);
    Py_XDECREF(self->m_type);
    Py_XDECREF(self->bio_names);
    Py_XDECREF(self->word_classes);
    Py_XDECREF(self->word_in);
    clear_char_classes(self);
    PyMem_Free(self->trans);
    PyMem_Free(self->trans_to);
    PyMem_Free(self->comp_off);
    PyMem_Free(self->ent_slot);
    PyMem_Free(self->ent_w);
    PyMem_Free(self->blocks);
    PyMem_Free(self->flags);
    PyMem_Free(self->state);
    PyMem_Free(self->score);
    PyMem_Free(self->back);
    PyMem_Free(self->ids);
    PyMem_Free(self->labels);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int copy_buffer(PyObject *obj, void **dst, Py_ssize_t itemsize, Py_ssize_t *count) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) return -1;
    if (view.len % itemsize) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "buffer size is not a multiple of the item size");
        return -1;
    }
    *dst = PyMem_Malloc(view.len ? view.len : 1);
    if (!*dst) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*dst, view.buf, view.len);
    *count = view.len / itemsize;
    PyBuffer_Release(&view);
    return 0;
}

static int grow_types(Decoder *self, Py_ssize_t need) {
    if (need <= self->cap) return 0;
    Py_ssize_t cap = self->cap ? self->cap : 1024;
    while (cap < need) cap *= 2;
    double *b = PyMem_Realloc(self->blocks, (size_t)cap * NPOS * self->L * sizeof(double));
    if (!b) { PyErr_NoMemory(); return -1; }
    self->blocks = b;
    uint8_t *f = PyMem_Realloc(self->flags, (size_t)cap);
    if (!f) { PyErr_NoMemory(); return -1; }
    self->flags = f;
    self->cap = cap;
    return 0;
}

static int grow_scratch(Decoder *self, Py_ssize_t n) {
    if (n <= self->scap) return 0;
    Py_ssize_t cap = self->scap ? self->scap : 256;
    while (cap < n) cap *= 2;
    int L = self->L;
    double *st = PyMem_Realloc(self->state, (size_t)cap * L * sizeof(double));
    if (!st) { PyErr_NoMemory(); return -1; }
    self->state = st;
    double *sc = PyMem_Realloc(self->score, (size_t)cap * L * sizeof(double));
    if (!sc) { PyErr_NoMemory(); return -1; }
    self->score = sc;
    int *bk = PyMem_Realloc(self->back, (size_t)cap * L * sizeof(int));
    if (!bk) { PyErr_NoMemory(); return -1; }
    self->back = bk;
    int *id = PyMem_Realloc(self->ids, (size_t)cap * sizeof(int));
    if (!id) { PyErr_NoMemory(); return -1; }
    self->ids = id;
    uint8_t *lb = PyMem_Realloc(self->labels, (size_t)cap);
    if (!lb) { PyErr_NoMemory(); return -1; }
    self->labels = lb;
    self->scap = cap;
    return 0;
}

/* Decoder(L, o_label, trans, comp_off, ent_slot, ent_w) */
static int Decoder_init(Decoder *self, PyObject *args, PyObject *kwds) {
    int L, o_label;
    PyObject *trans, *comp_off, *ent_slot, *ent_w;
    Py_ssize_t n, nent, nent2;
    if (!PyArg_ParseTuple(args, "iiOOOO", &L, &o_label, &trans, &comp_off, &ent_slot, &ent_w))
        return -1;
    if (L <= 0 || L > 255 || o_label < 0 || o_label >= L) {
        PyErr_SetString(PyExc_ValueError, "bad label count");
        return -1;
    }
    if (self->trans) {
        PyErr_SetString(PyExc_RuntimeError, "Decoder is already initialised");
        return -1;
    }
    self->L = L;
    self->o_label = o_label;
    if (copy_buffer(trans, (void **)&self->trans, sizeof(double), &n) < 0) return -1;
    if (n != (Py_ssize_t)L * L) {
        PyErr_SetString(PyExc_ValueError, "transitions must hold L * L doubles");
        return -1;
    }
    self->trans_to = PyMem_Malloc((size_t)L * L * sizeof(double));
    if (!self->trans_to) { PyErr_NoMemory(); return -1; }
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++) self->trans_to[j * L + i] = self->trans[i * L + j];
    if (copy_buffer(comp_off, (void **)&self->comp_off, sizeof(uint32_t), &n) < 0) return -1;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "component offsets are empty");
        return -1;
    }
    self->ncomp = n - 1;
    if (copy_buffer(ent_slot, (void **)&self->ent_slot, sizeof(uint16_t), &nent) < 0) return -1;
    if (copy_buffer(ent_w, (void **)&self->ent_w, sizeof(double), &nent2) < 0) return -1;
    if (nent != nent2 || self->comp_off[self->ncomp] != (uint32_t)nent) {
        PyErr_SetString(PyExc_ValueError, "component entries do not match their offsets");
        return -1;
    }
    for (Py_ssize_t c = 0; c < self->ncomp; c++) {
        if (self->comp_off[c] > self->comp_off[c + 1]) {
            PyErr_SetString(PyExc_ValueError, "component offsets are not sorted");
            return -1;
        }
    }
    for (Py_ssize_t k = 0; k < nent; k++) {
        if (self->ent_slot[k] >= NPOS * L) {
            PyErr_SetString(PyExc_ValueError, "component slot out of range");
            return -1;
        }
    }
    return 0;
}

/* Append a type whose block is the sum of components comps[0..n); returns its id or -1. */
static Py_ssize_t new_block(Decoder *self, int flags, const Py_ssize_t *comps, Py_ssize_t n) {
    if (grow_types(self, self->ntypes + 1) < 0) return -1;
    int W = NPOS * self->L;
    double *blk = self->blocks + (size_t)self->ntypes * W;
    for (int k = 0; k < W; k++) blk[k] = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t c = comps[i];
        if (c < 0 || c >= self->ncomp) {
            PyErr_SetString(PyExc_IndexError, "component id out of range");
            return -1;
        }
        for (uint32_t e = self->comp_off[c]; e < self->comp_off[c + 1]; e++)
            blk[self->ent_slot[e]] += self->ent_w[e];
    }
    self->flags[self->ntypes] = (uint8_t)flags;
    return self->ntypes++;
}

/* add_type(flags, components) -> type id: sums the components into a new dense block. */
#define MAX_COMPS 32

static PyObject *Decoder_add_type(Decoder *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add_type(flags, components)");
        return NULL;
    }
    if (!self->trans) {
        PyErr_SetString(PyExc_RuntimeError, "Decoder is not initialised");
        return NULL;
    }
    long flags = PyLong_AsLong(args[0]);
    if (flags == -1 && PyErr_Occurred()) return NULL;
    PyObject *seq = PySequence_Fast(args[1], "components must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_COMPS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many components");
        return NULL;
    }
    Py_ssize_t comps[MAX_COMPS];
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        comps[i] = PyLong_AsSsize_t(items[i]);
        if (comps[i] == -1 && PyErr_Occurred()) { Py_DECREF(seq); return NULL; }
    }
    Py_DECREF(seq);
    Py_ssize_t id = new_block(self, (int)flags, comps, n);
    return id < 0 ? NULL : PyLong_FromSsize_t(id);
}

/* block(type id) -> list of 5 * L floats (for tests) */
static PyObject *Decoder_block(Decoder *self, PyObject *arg) {
    Py_ssize_t t = PyLong_AsSsize_t(arg);
    if (t == -1 && PyErr_Occurred()) return NULL;
    if (t < 0 || t >= self->ntypes) {
        PyErr_SetString(PyExc_IndexError, "type id out of range");
        return NULL;
    }
    int W = NPOS * self->L;
    PyObject *out = PyList_New(W);
    if (!out) return NULL;
    for (int k = 0; k < W; k++) {
        PyObject *f = PyFloat_FromDouble(self->blocks[(size_t)t * W + k]);
        if (!f) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, k, f);
    }
    return out;
}

/* --- token types: the C twin of decoder.TypeTagger.new_type ----------------------------- */

enum { M_W, M_SH, M_LEN, M_S1, M_F1, M_S2, M_LEX };

/* configure(types, pos_info, pos_cache, maps (7 dicts), lex ((name, frozenset), ...)) */
static PyObject *Decoder_configure(Decoder *self, PyObject *args) {
    PyObject *types, *pos_info, *pos_cache, *maps, *lex;
    if (!PyArg_ParseTuple(args, "O!OO!O!O!", &PyDict_Type, &types, &pos_info, &PyDict_Type,
                          &pos_cache, &PyTuple_Type, &maps, &PyTuple_Type, &lex))
        return NULL;
    if (PyTuple_GET_SIZE(maps) != 7 || PyTuple_GET_SIZE(lex) > 3) {
        PyErr_SetString(PyExc_ValueError, "configure: 7 maps and at most 3 lexicon classes");
        return NULL;
    }
    for (int k = 0; k < 7; k++) {
        if (!PyDict_Check(PyTuple_GET_ITEM(maps, k))) {
            PyErr_SetString(PyExc_TypeError, "configure: maps must be dicts");
            return NULL;
        }
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(lex); k++) {
        PyObject *cls = PyTuple_GET_ITEM(lex, k);
        if (!PyTuple_Check(cls) || PyTuple_GET_SIZE(cls) != 2
                || !PyUnicode_Check(PyTuple_GET_ITEM(cls, 0))
                || !PyAnySet_Check(PyTuple_GET_ITEM(cls, 1))) {
            PyErr_SetString(PyExc_TypeError, "configure: lexicon classes are (name, set)");
            return NULL;
        }
    }
    Py_INCREF(types); Py_XSETREF(self->types, types);
    Py_INCREF(pos_info); Py_XSETREF(self->pos_info, pos_info);
    Py_INCREF(pos_cache); Py_XSETREF(self->pos_cache, pos_cache);
    for (int k = 0; k < 7; k++) {
        PyObject *m = PyTuple_GET_ITEM(maps, k);
        Py_INCREF(m);
        Py_XSETREF(self->maps[k], m);
    }
    Py_INCREF(lex); Py_XSETREF(self->lex, lex);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(lex); k++) {
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(lex, k), 0);
        Py_INCREF(name);
        Py_XSETREF(self->lex_tags[k][0], name);
        Py_XSETREF(self->lex_tags[k][1], PyUnicode_FromFormat("%Ue", name));
        if (!self->lex_tags[k][1]) return NULL;
    }
    for (int k = 0; k < 7; k++) {
        Py_XSETREF(self->len_keys[k], PyUnicode_FromFormat("%d", k));
        if (!self->len_keys[k]) return NULL;
    }
    if (!self->s_surface) self->s_surface = PyUnicode_InternFromString("surface");
    if (!self->s_pos) self->s_pos = PyUnicode_InternFromString("part_of_speech_id");
    if (!self->s_begin) self->s_begin = PyUnicode_InternFromString("begin");
    if (!self->s_end) self->s_end = PyUnicode_InternFromString("end");
    if (!self->s_surface || !self->s_pos || !self->s_begin || !self->s_end) return NULL;
    Py_RETURN_NONE;
}

/* features.char_kind */
static char char_kind(Py_UCS4 o) {
    if (o >= 0x3041 && o <= 0x309F) return 'H';
    if ((o >= 0x30A1 && o <= 0x30FA) || o == 0x30FC || o == 0xFF70 || (o >= 0xFF71 && o <= 0xFF9D))
        return 'T';
    if ((o >= 0x4E00 && o <= 0x9FFF) || (o >= 0x3400 && o <= 0x4DBF) || o == 0x3005
            || o == 0x30F6 || o == 0x30F5)
        return 'K';
    if (Py_UNICODE_ISDIGIT(o)) return 'D';
    if (Py_UNICODE_ISALPHA(o)) return 'A';
    if (Py_UNICODE_ISSPACE(o)) return 'S';
    return 'O';
}

/* Look value up in dict d; append its component id to comps (0 / absent adds nothing).
 * Steals the reference to key. Returns -1 on error. */
static int lookup(PyObject *d, PyObject *key, Py_ssize_t *comps, Py_ssize_t *n) {
    if (!key) return -1;
    PyObject *v = PyDict_GetItemWithError(d, key);
    Py_DECREF(key);
    if (!v) return PyErr_Occurred() ? -1 : 0;
    Py_ssize_t c = PyLong_AsSsize_t(v);
    if (c == -1 && PyErr_Occurred()) return -1;
    if (c && *n < MAX_COMPS) comps[(*n)++] = c;
    return 0;
}

static int in_set(PyObject *set, PyObject *key) {
    if (!key) return -1;
    int r = PySet_Contains(set, key);
    Py_DECREF(key);
    return r;
}

/* features.token_pieces, as component ids (see decoder.TypeTagger.new_type). */
static Py_ssize_t make_type(Decoder *self, PyObject *surface, PyObject *pos) {
    PyObject *info = PyDict_GetItemWithError(self->pos_cache, pos);
    if (!info) {
        if (PyErr_Occurred()) return -1;
        info = PyObject_CallOneArg(self->pos_info, pos);  /* fills pos_cache too */
        if (!info) return -1;
        Py_DECREF(info);  /* pos_cache holds it */
        info = PyDict_GetItemWithError(self->pos_cache, pos);
        if (!info) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "pos_info must fill pos_cache");
            return -1;
        }
    }
    if (!PyTuple_Check(info) || PyTuple_GET_SIZE(info) != 3) {
        PyErr_SetString(PyExc_TypeError, "pos info must be (never, own, ctx)");
        return -1;
    }
    int never = PyObject_IsTrue(PyTuple_GET_ITEM(info, 0));
    if (never < 0) return -1;
    Py_ssize_t comps[MAX_COMPS];
    Py_ssize_t n = 0;
    Py_INCREF(surface);
    if (lookup(self->maps[M_W], surface, comps, &n) < 0) return -1;
    Py_ssize_t ctx = PyLong_AsSsize_t(PyTuple_GET_ITEM(info, 2));
    if (ctx == -1 && PyErr_Occurred()) return -1;
    if (ctx) comps[n++] = ctx;
    Py_ssize_t len = PyUnicode_GET_LENGTH(surface);
    int kind = PyUnicode_KIND(surface);
    const void *data = PyUnicode_DATA(surface);
    int flags = never ? F_NEVER : 0;
    if (len == 1 && PyUnicode_READ(kind, data, 0) == 0x3002) flags |= F_END_AFTER;
    else if (PyUnicode_FindChar(surface, '\n', 0, len, 1) >= 0) flags |= F_BREAK;
    if (!never && len > 0) {
        PyObject *own = PyTuple_GET_ITEM(info, 1);
        if (!PyTuple_Check(own) || PyTuple_GET_SIZE(own) > 4) {
            PyErr_SetString(PyExc_TypeError, "own POS components must be a short tuple");
            return -1;
        }
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(own); k++) {
            Py_ssize_t c = PyLong_AsSsize_t(PyTuple_GET_ITEM(own, k));
            if (c == -1 && PyErr_Occurred()) return -1;
            if (c) comps[n++] = c;
        }
        char sh[5];
        int ns = 0;
        for (Py_ssize_t i = 0; i < len && ns <= 4; i++) {
            char k = char_kind(PyUnicode_READ(kind, data, i));
            if (!ns || sh[ns - 1] != k) {
                if (ns == 4) break;
                sh[ns++] = k;
            }
        }
        if (lookup(self->maps[M_SH], PyUnicode_FromStringAndSize(sh, ns), comps, &n) < 0)
            return -1;
        PyObject *lk = self->len_keys[len < 6 ? len : 6];
        Py_INCREF(lk);
        if (lookup(self->maps[M_LEN], lk, comps, &n) < 0) return -1;
        if (lookup(self->maps[M_S1], PyUnicode_Substring(surface, len - 1, len), comps, &n) < 0)
            return -1;
        if (lookup(self->maps[M_F1], PyUnicode_Substring(surface, 0, 1), comps, &n) < 0)
            return -1;
        if (len > 2 && lookup(self->maps[M_S2], PyUnicode_Substring(surface, len - 2, len),
                              comps, &n) < 0)
            return -1;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(self->lex); k++) {
            PyObject *words = PyTuple_GET_ITEM(PyTuple_GET_ITEM(self->lex, k), 1);
            int hit = PySet_Contains(words, surface);
            if (hit < 0) return -1;
            PyObject *tag = NULL;
            if (hit) {
                tag = self->lex_tags[k][0];
            } else if (len > 2) {
                hit = in_set(words, PyUnicode_Substring(surface, len - 2, len));
                if (!hit) hit = in_set(words, PyUnicode_Substring(surface, len - 3, len));
                if (hit < 0) return -1;
                if (hit) tag = self->lex_tags[k][1];
            }
            if (tag) {
                Py_INCREF(tag);
                if (lookup(self->maps[M_LEX], tag, comps, &n) < 0) return -1;
            }
        }
    }
    Py_ssize_t id = new_block(self, flags, comps, n);
    if (id < 0) return -1;
    PyObject *by_surface = PyDict_GetItemWithError(self->types, pos);
    if (!by_surface) {
        if (PyErr_Occurred()) return -1;
        by_surface = PyDict_New();
        if (!by_surface) return -1;
        int r = PyDict_SetItem(self->types, pos, by_surface);
        Py_DECREF(by_surface);
        if (r < 0) return -1;
    }
    PyObject *idobj = PyLong_FromSsize_t(id);
    if (!idobj) return -1;
    int r = PyDict_SetItem(by_surface, surface, idobj);
    Py_DECREF(idobj);
    return r < 0 ? -1 : id;
}

/* type_id(surface, pos id) -> type id, registering the type on first sight. */
static PyObject *Decoder_type_id(Decoder *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "type_id(surface: str, pos: int)");
        return NULL;
    }
    if (!self->types) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    PyObject *by_surface = PyDict_GetItemWithError(self->types, args[1]);
    if (by_surface) {
        PyObject *t = PyDict_GetItemWithError(by_surface, args[0]);
        if (t) return Py_NewRef(t);
    }
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t id = make_type(self, args[0], args[1]);
    return id < 0 ? NULL : PyLong_FromSsize_t(id);
}

/* typed(morphemes, surface: list, pos: list, ids: list) -> None
 * For each Sudachi morpheme: append its surface, POS id and type id (the per-token loop of
 * tokens.Tokenizer.typed, without the interpreter in between). */
static PyObject *Decoder_typed(Decoder *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[1]) || !PyList_Check(args[2]) || !PyList_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "typed(morphemes, surface, pos, ids)");
        return NULL;
    }
    if (!self->types) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    PyObject *it = PyObject_GetIter(args[0]);
    if (!it) return NULL;
    PyObject *m;
    PyObject *by_surface;  /* borrowed */
    while ((m = PyIter_Next(it))) {
        PyObject *s = PyObject_CallMethodNoArgs(m, self->s_surface);
        PyObject *p = s ? PyObject_CallMethodNoArgs(m, self->s_pos) : NULL;
        Py_DECREF(m);
        if (!p || !PyUnicode_Check(s)) {
            if (s && !PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "surface is not str");
            Py_XDECREF(s); Py_XDECREF(p); Py_DECREF(it);
            return NULL;
        }
        PyObject *t = NULL;
        if (PyList_Append(args[1], s) < 0 || PyList_Append(args[2], p) < 0) goto fail;
        by_surface = PyDict_GetItemWithError(self->types, p);
        if (by_surface) t = PyDict_GetItemWithError(by_surface, s);
        if (t) {
            Py_INCREF(t);
        } else {
            if (PyErr_Occurred()) goto fail;
            Py_ssize_t id = make_type(self, s, p);
            if (id < 0) goto fail;
            t = PyLong_FromSsize_t(id);
            if (!t) goto fail;
        }
        int r = PyList_Append(args[3], t);
        Py_DECREF(t);
        if (r < 0) goto fail;
        Py_DECREF(s);
        Py_DECREF(p);
        continue;
    fail:
        Py_DECREF(s); Py_DECREF(p); Py_DECREF(it);
        return NULL;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* The state scores of token t of a sentence ids[0..n) into st[0..L): its own block, plus what
 * its neighbours add as -1, +1, -2, +2 (the sentinel beyond the ends); a NEVER token has only
 * its own. */
static inline __attribute__((always_inline)) void
state_of(const Decoder *self, const int *ids, Py_ssize_t n, Py_ssize_t t, double *st,
         const int L) {
    const int W = NPOS * L;
    const double *blocks = self->blocks, *sent = blocks; /* type 0 */
    const int id = ids[t];
    const double *own = blocks + (size_t)id * W;
    if (self->flags[id] & F_NEVER) {
        for (int y = 0; y < L; y++) st[y] = own[y];
        return;
    }
    const double *p1 = (t >= 1 ? blocks + (size_t)ids[t - 1] * W : sent) + 1 * L;
    const double *n1 = (t + 1 < n ? blocks + (size_t)ids[t + 1] * W : sent) + 2 * L;
    const double *p2 = (t >= 2 ? blocks + (size_t)ids[t - 2] * W : sent) + 3 * L;
    const double *n2 = (t + 2 < n ? blocks + (size_t)ids[t + 2] * W : sent) + 4 * L;
    for (int y = 0; y < L; y++) st[y] = own[y] + p1[y] + n1[y] + p2[y] + n2[y];
}

/* Viterbi over ids[0..n) (all real tokens of one sentence); writes labels into out.
 * L is a parameter so that the common label count gets its own fully unrolled copy. The
 * max over previous labels i runs outermost so each step is the same operation over all
 * labels j (vectorizable); updating only on a strictly greater score keeps crfsuite's tie
 * rule (the first maximum, in order of i, wins). */
static inline __attribute__((always_inline)) void
viterbi_impl(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out, const int L) {
    if (n <= 0) return;
    double *score = self->score;
    int *back = self->back;
    double st[256];
    state_of(self, ids, n, 0, score, L);
    const double *trans_to = self->trans_to;  /* trans_to[j * L + i]: from i to j, contiguous */
    for (Py_ssize_t t = 1; t < n; t++) {
        const double *restrict prev = score + (t - 1) * L;
        double *restrict cur = score + t * L;
        int *restrict bk = back + t * L;
        state_of(self, ids, n, t, st, L);
        for (int j = 0; j < L; j++) {
            const double *restrict tr = trans_to + j * L;
            double best = prev[0] + tr[0];  /* crfsuite: first maximum wins */
            int arg = 0;
            for (int i = 1; i < L; i++) {
                double s = prev[i] + tr[i];
                if (best < s) { best = s; arg = i; }
            }
            bk[j] = arg;
            cur[j] = best;
        }
        for (int j = 0; j < L; j++) cur[j] += st[j];
    }
    double best = -DBL_MAX;
    int y = 0;
    const double *last = score + (n - 1) * L;
    for (int i = 0; i < L; i++)
        if (best < last[i]) { best = last[i]; y = i; }
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        out[t] = (uint8_t)y;
        if (t > 0) y = back[t * L + y];
    }
}

#define COMMON_L 11  /* B/I of PER ORG LOC FAC MISC, and O */

static void viterbi_common(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out) {
    viterbi_impl(self, ids, n, out, COMMON_L);
}

static void viterbi_any(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out) {
    viterbi_impl(self, ids, n, out, self->L);
}

static void viterbi(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out) {
    if (self->L == COMMON_L) viterbi_common(self, ids, n, out);
    else viterbi_any(self, ids, n, out);
}

/* Labels of ids[0..n) into out[0..n): Viterbi per sentence. Sentences are cut after a type
 * flagged END_AFTER and around a BREAK type (labelled O). */
static void label_ids(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out) {
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint8_t f = self->flags[ids[i]];
        if (f & F_BREAK) {
            if (i > start) viterbi(self, ids + start, i - start, out + start);
            out[i] = (uint8_t)self->o_label;
            start = i + 1;
        } else if (f & F_END_AFTER) {
            viterbi(self, ids + start, i + 1 - start, out + start);
            start = i + 1;
        }
    }
    if (n > start) viterbi(self, ids + start, n - start, out + start);
}

/* Copy a sequence of type ids into self->ids; returns its length or -1. */
static Py_ssize_t load_ids(Decoder *self, PyObject *arg) {
    if (!self->trans) {
        PyErr_SetString(PyExc_RuntimeError, "Decoder is not initialised");
        return -1;
    }
    PyObject *seq = PySequence_Fast(arg, "type ids must be a sequence");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (grow_scratch(self, n + 1) < 0) { Py_DECREF(seq); return -1; }
    int *ids = self->ids;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(items[i]);
        if (v == -1 && PyErr_Occurred()) { Py_DECREF(seq); return -1; }
        if (v < 0 || v >= self->ntypes) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_IndexError, "type id out of range");
            return -1;
        }
        ids[i] = (int)v;
    }
    Py_DECREF(seq);
    return n;
}

/* tag(type_ids: list[int]) -> bytes of label ids, one per token (see label_ids). */
static PyObject *Decoder_tag(Decoder *self, PyObject *arg) {
    Py_ssize_t n = load_ids(self, arg);
    if (n < 0) return NULL;
    PyObject *res = PyBytes_FromStringAndSize(NULL, n);
    if (!res) return NULL;
    label_ids(self, self->ids, n, (uint8_t *)PyBytes_AS_STRING(res));
    return res;
}

/* set_bio(tags): tags[y] is label y's entity tag ("PER" for B-PER and I-PER), None for O;
 * B- or I- is read from the label name given as kinds: bytes, 0 O, 1 B, 2 I. */
static PyObject *Decoder_set_bio(Decoder *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer kinds;
    if (nargs != 2 || !PyTuple_Check(args[1]) || PyTuple_GET_SIZE(args[1]) != self->L) {
        PyErr_SetString(PyExc_TypeError, "set_bio(kinds: bytes, tags: tuple of L)");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &kinds, PyBUF_SIMPLE) < 0) return NULL;
    if (kinds.len != self->L) {
        PyBuffer_Release(&kinds);
        PyErr_SetString(PyExc_ValueError, "kinds must have L bytes");
        return NULL;
    }
    for (int y = 0; y < self->L; y++) {
        self->bio_kind[y] = ((uint8_t *)kinds.buf)[y];
        self->bio_tag[y] = y;
        for (int k = 0; k < y; k++) {
            int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(args[1], k),
                                              PyTuple_GET_ITEM(args[1], y), Py_EQ);
            if (eq < 0) { PyBuffer_Release(&kinds); return NULL; }
            if (eq) { self->bio_tag[y] = self->bio_tag[k]; break; }
        }
    }
    PyBuffer_Release(&kinds);
    Py_INCREF(args[1]);
    Py_XSETREF(self->bio_names, args[1]);
    Py_RETURN_NONE;
}

/* Append the BIO spans of labels out[0..n) (one sentence, token offset base) to list. */
static int bio(Decoder *self, const uint8_t *out, Py_ssize_t n, Py_ssize_t base, PyObject *list) {
    Py_ssize_t start = -1;
    int tag = -1, tag_label = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        int y = i < n ? out[i] : -1;
        int kind = y < 0 ? 0 : self->bio_kind[y];
        if (y >= 0 && kind == 2 && self->bio_tag[y] == tag) continue;
        if (start >= 0) {
            PyObject *span = Py_BuildValue("(nnO)", base + start, base + i,
                                           PyTuple_GET_ITEM(self->bio_names, tag_label));
            if (!span) return -1;
            int r = PyList_Append(list, span);
            Py_DECREF(span);
            if (r < 0) return -1;
        }
        if (kind == 0) { start = -1; tag = -1; }
        else { start = i; tag = self->bio_tag[y]; tag_label = y; }
    }
    return 0;
}

/* The name spans of labels out[0..n) of tokens ids[0..n), per sentence. */
static PyObject *spans_of(Decoder *self, const int *ids, const uint8_t *out, Py_ssize_t n) {
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        int cut = i == n;
        Py_ssize_t end = i;
        if (!cut) {
            uint8_t f = self->flags[ids[i]];
            if (f & F_BREAK) cut = 1;
            else if (f & F_END_AFTER) { cut = 1; end = i + 1; }
        }
        if (!cut) continue;
        /* skip sentences that are all O quickly */
        for (Py_ssize_t k = start; k < end; k++) {
            if (out[k] != self->o_label) {
                if (bio(self, out + start, end - start, start, list) < 0) {
                    Py_DECREF(list);
                    return NULL;
                }
                break;
            }
        }
        start = i + 1;
    }
    return list;
}

/* tag_spans(type_ids) -> [(start, end, tag)]: token spans of names, as model.bio_spans would
 * give per sentence (a stray I- starts a span). */
static PyObject *Decoder_tag_spans(Decoder *self, PyObject *arg) {
    if (!self->bio_names) {
        PyErr_SetString(PyExc_RuntimeError, "set_bio() first");
        return NULL;
    }
    Py_ssize_t n = load_ids(self, arg);
    if (n < 0) return NULL;
    label_ids(self, self->ids, n, self->labels);
    return spans_of(self, self->ids, self->labels, n);
}

/* --- scan: Sudachi morphemes -> surfaces, POS ids, offsets, type ids, name spans ---------- */

static PyCFunction noargs_cfunction(PyTypeObject *tp, PyObject *name) {
    PyObject *d = _PyType_Lookup(tp, name);  /* borrowed */
    if (!d || !Py_IS_TYPE(d, &PyMethodDescr_Type)) return NULL;
    PyMethodDef *def = ((PyMethodDescrObject *)d)->d_method;
    if ((def->ml_flags & ~METH_COEXIST) != METH_NOARGS) return NULL;
    return def->ml_meth;
}

/* m.name() for a morpheme: through its C function when it has one (no lookup, no frame). */
static inline PyObject *call0(PyObject *m, PyCFunction fn, PyObject *name) {
    return fn ? fn(m, NULL) : PyObject_CallMethodNoArgs(m, name);
}

static void resolve_morpheme_type(Decoder *self, PyObject *m) {
    PyTypeObject *tp = Py_TYPE(m);
    if (tp == self->m_type) return;
    Py_INCREF(tp);
    Py_XSETREF(self->m_type, tp);
    self->m_begin = noargs_cfunction(tp, self->s_begin);
    self->m_end = noargs_cfunction(tp, self->s_end);
    self->m_pos = noargs_cfunction(tp, self->s_pos);
}

/* Append token k of the scan (surface s, POS id p, start offset st) to the lists and make room
 * for its type id in self->ids. Borrows s and p, steals st. */
static int append_token(Decoder *self, Py_ssize_t k, PyObject *s, PyObject *p, PyObject *st,
                        PyObject *surface, PyObject *pos, PyObject *starts) {
    if (!st) return -1;
    int r = PyList_Append(surface, s);
    if (r == 0) r = PyList_Append(pos, p);
    if (r == 0) r = PyList_Append(starts, st);
    Py_DECREF(st);
    return r < 0 || grow_scratch(self, k + 2) < 0 ? -1 : 0;
}

/* Append token k of the scan (surface s, POS id p, start offset st) to the lists, its type id
 * to self->ids (looked up in self->types, registered on first sight). Steals s and st; borrows
 * p. */
static int scan_token(Decoder *self, Py_ssize_t k, PyObject *s, PyObject *p, PyObject *st,
                      PyObject *surface, PyObject *pos, PyObject *starts) {
    if (!s) { Py_XDECREF(st); return -1; }
    if (append_token(self, k, s, p, st, surface, pos, starts) < 0) { Py_DECREF(s); return -1; }
    Py_ssize_t id = -1;
    PyObject *by_surface = PyDict_GetItemWithError(self->types, p);
    PyObject *t = by_surface ? PyDict_GetItemWithError(by_surface, s) : NULL;
    if (t) id = PyLong_AsSsize_t(t);
    else if (!PyErr_Occurred()) id = make_type(self, s, p);
    Py_DECREF(s);
    if (id < 0 || id >= self->ntypes) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_IndexError, "type id out of range");
        return -1;
    }
    self->ids[k] = (int)id;
    return 0;
}

/* --- word classes: which kinds of words a text has (workers/extract/words.py) -----------------
 * A class is ("in", frozenset of words), ("first", characters a word starts with), ("last",
 * characters a word ends with), ("only", the characters a word is made of), ("multi": the same,
 * two characters or more) or ("split", (characters a word starts with, frozenset its rest is
 * in)); a word's bits are computed on its first sight (kept in the surface cache) and scan()
 * returns the OR over the text's words. */

/* Whether code point c is in character class k. */
static inline int in_chars(Decoder *self, int k, Py_UCS4 c) {
    if (c < 0x10000) return (self->char_map[k][c >> 3] >> (c & 7)) & 1;
    PyObject *v = self->char_value[k];
    return PyUnicode_FindChar(v, c, 0, PyUnicode_GET_LENGTH(v), 1) >= 0;
}

/* The bits of one word (new on first sight). */
static int word_bits(Decoder *self, PyObject *s, uint64_t *out) {
    *out = 0;
    if (!self->word_in) return 0;
    PyObject *got = PyDict_GetItemWithError(self->word_in, s);
    if (got) {
        *out = PyLong_AsUnsignedLongLong(got);
        if (*out == (uint64_t)-1 && PyErr_Occurred()) return -1;
    } else if (PyErr_Occurred()) {
        return -1;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    if (len == 0) return 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (int k = 0; k < self->nchar_classes; k++) {
        int hit;
        char ck = self->char_kind[k];
        if (ck == 'f') {
            hit = in_chars(self, k, PyUnicode_READ(kind, data, 0));
        } else if (ck == 'l') {
            hit = in_chars(self, k, PyUnicode_READ(kind, data, len - 1));
        } else if (ck == 'o' || ck == 'm') {  /* only these characters ('m': two or more) */
            hit = ck == 'o' || len >= 2;
            for (Py_ssize_t i = 0; i < len && hit; i++) hit = in_chars(self, k, PyUnicode_READ(kind, data, i));
        } else {  /* 's': this first character, and the rest in the set */
            hit = len >= 2 && in_chars(self, k, PyUnicode_READ(kind, data, 0));
            if (hit) {
                PyObject *rest = PyUnicode_Substring(s, 1, len);
                hit = rest ? PySet_Contains(self->char_rests[k], rest) : -1;
                Py_XDECREF(rest);
                if (hit < 0) return -1;
            }
        }
        if (hit) *out |= self->char_bit[k];
    }
    return 0;
}

static void clear_char_classes(Decoder *self) {
    for (int k = 0; k < self->nchar_classes; k++) {
        PyMem_Free(self->char_map[k]);
        self->char_map[k] = NULL;
        self->char_value[k] = NULL;
    }
    self->nchar_classes = 0;
}

/* set_words(classes): the word classes scan() reports (at most 64, each ("in", frozenset) or
 * ("first" | "last" | "only" | "multi", str) or ("split", (str, frozenset))). */
static PyObject *Decoder_set_words(Decoder *self, PyObject *classes) {
    if (!PyTuple_Check(classes) || PyTuple_GET_SIZE(classes) > 64) goto bad;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(classes); i++) {
        PyObject *cls = PyTuple_GET_ITEM(classes, i);
        if (!PyTuple_Check(cls) || PyTuple_GET_SIZE(cls) != 2) goto bad;
        PyObject *kind = PyTuple_GET_ITEM(cls, 0), *value = PyTuple_GET_ITEM(cls, 1);
        if (!PyUnicode_Check(kind)) goto bad;
        if (PyUnicode_CompareWithASCIIString(kind, "in") == 0) {
            if (!PyAnySet_Check(value)) goto bad;
        } else if (PyUnicode_CompareWithASCIIString(kind, "first") != 0
                   && PyUnicode_CompareWithASCIIString(kind, "last") != 0
                   && PyUnicode_CompareWithASCIIString(kind, "only") != 0
                   && PyUnicode_CompareWithASCIIString(kind, "multi") != 0
                   && PyUnicode_CompareWithASCIIString(kind, "split") != 0) {
            goto bad;
        } else if (PyUnicode_CompareWithASCIIString(kind, "split") == 0) {
            if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2
                    || !PyUnicode_Check(PyTuple_GET_ITEM(value, 0))
                    || !PyAnySet_Check(PyTuple_GET_ITEM(value, 1)))
                goto bad;
        } else if (!PyUnicode_Check(value)) {
            goto bad;
        }
    }
    /* the "in" classes as one dict, the character classes as bitmaps */
    PyObject *word_in = PyDict_New();
    if (!word_in) return NULL;
    clear_char_classes(self);
    Py_CLEAR(self->word_in);  /* no bits until the new classes are in place */
    Py_INCREF(classes);
    Py_XSETREF(self->word_classes, classes);  /* holds the character classes' values */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(classes); i++) {
        PyObject *cls = PyTuple_GET_ITEM(classes, i);
        PyObject *value = PyTuple_GET_ITEM(cls, 1);
        Py_UCS4 tag = PyUnicode_READ_CHAR(PyTuple_GET_ITEM(cls, 0), 0);
        uint64_t bit = (uint64_t)1 << i;
        if (tag == 'i') {
            PyObject *it = PyObject_GetIter(value), *w;
            while (it && (w = PyIter_Next(it))) {
                PyObject *had = PyDict_GetItemWithError(word_in, w);
                uint64_t bits = had ? PyLong_AsUnsignedLongLong(had) | bit : bit;
                PyObject *b = PyErr_Occurred() ? NULL : PyLong_FromUnsignedLongLong(bits);
                if (!b || PyDict_SetItem(word_in, w, b) < 0) Py_CLEAR(it);
                Py_XDECREF(b);
                Py_DECREF(w);
            }
            if (!it || PyErr_Occurred()) {
                Py_XDECREF(it);
                Py_DECREF(word_in);
                clear_char_classes(self);
                return NULL;
            }
            Py_DECREF(it);
            continue;
        }
        int k = self->nchar_classes++;
        self->char_rests[k] = NULL;
        if (tag == 's') {  /* (first characters, rests): held by word_classes */
            self->char_rests[k] = PyTuple_GET_ITEM(value, 1);
            value = PyTuple_GET_ITEM(value, 0);
        }
        uint8_t *map = PyMem_Calloc(0x10000 / 8, 1);
        if (!map) { Py_DECREF(word_in); clear_char_classes(self); return PyErr_NoMemory(); }
        for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(value); j++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(value, j);
            if (c < 0x10000) map[c >> 3] |= (uint8_t)(1 << (c & 7));
        }
        self->char_map[k] = map;
        self->char_value[k] = value;  /* held by word_classes */
        self->char_kind[k] = (char)tag;
        self->char_bit[k] = bit;
    }
    self->word_in = word_in;
    surface_cache_clear(self);  /* its entries hold the bits of the classes before */
    Py_RETURN_NONE;
bad:
    PyErr_SetString(PyExc_TypeError,
                    "set_words(classes): a tuple of at most 64 (\"in\", frozenset) or "
                    "(\"first\" | \"last\" | \"only\" | \"multi\", str) or "
                    "(\"split\", (str, frozenset))");
    return NULL;
}

/* --- the surface cache of scan_chunk ----------------------------------------------------------
 * Why: a text's tokens are nearly all known types, yet each one cost a new str (the chunk
 * slice), its hash and two dict lookups (POS, then surface). The cache hashes the slice in
 * place and hands back the str and type id seen before. It only mirrors self->types (filled on
 * a miss, from the dict or make_type) and is emptied with it (forget()). */

static uint64_t slice_hash(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, long pos) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)pos;  /* FNV-1a over code points */
    for (Py_ssize_t i = a; i < b; i++) {
        h ^= PyUnicode_READ(kind, data, i);
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 32;  /* spread the high bits into the low ones the table mask keeps */
    h *= 0xd6e8feb86659fd93ULL;
    return h ^ (h >> 32);
}

/* Whether str s has the code points data[a..b) (of the given kind). */
static int slice_equal(PyObject *s, int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t n = b - a;
    if (PyUnicode_GET_LENGTH(s) != n) return 0;
    int sk = PyUnicode_KIND(s);
    const void *sd = PyUnicode_DATA(s);
    if (sk == kind) return memcmp(sd, (const char *)data + a * kind, (size_t)n * kind) == 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(sk, sd, i) != PyUnicode_READ(kind, data, a + i)) return 0;
    return 1;
}

/* The entry of (pos, data[a..b)) with hash h, or the empty slot where it would go (or NULL
 * when the table is not allocated yet). */
static SurfaceEntry *surface_cache_find(Decoder *self, uint64_t h, long pos, int kind,
                                        const void *data, Py_ssize_t a, Py_ssize_t b) {
    if (!self->sc_cap) return NULL;
    size_t mask = self->sc_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        SurfaceEntry *e = self->sc_tab + i;
        if (!e->surface || (e->hash == h && e->pos == pos && slice_equal(e->surface, kind, data, a, b)))
            return e;
    }
}

/* Add an entry known to be absent; keeps the table at most half full. */
static int surface_cache_add(Decoder *self, uint64_t h, long pos, PyObject *surface,
                             Py_ssize_t id, uint64_t words) {
    if ((self->sc_count + 1) * 2 > self->sc_cap) {
        size_t cap = self->sc_cap ? self->sc_cap * 2 : 4096;
        SurfaceEntry *tab = PyMem_Calloc(cap, sizeof(SurfaceEntry));
        if (!tab) { PyErr_NoMemory(); return -1; }
        for (size_t i = 0; i < self->sc_cap; i++) {
            SurfaceEntry *e = self->sc_tab + i;
            if (!e->surface) continue;
            size_t j = (size_t)e->hash & (cap - 1);
            while (tab[j].surface) j = (j + 1) & (cap - 1);
            tab[j] = *e;
        }
        PyMem_Free(self->sc_tab);
        self->sc_tab = tab;
        self->sc_cap = cap;
    }
    size_t mask = self->sc_cap - 1, i = (size_t)h & mask;
    while (self->sc_tab[i].surface) i = (i + 1) & mask;
    Py_INCREF(surface);
    self->sc_tab[i] = (SurfaceEntry){h, pos, id, surface, words};
    self->sc_count++;
    return 0;
}

static void surface_cache_clear(Decoder *self) {
    for (size_t i = 0; i < self->sc_cap; i++) Py_CLEAR(self->sc_tab[i].surface);
    self->sc_count = 0;
}

/* One chunk, the exact way: each morpheme's surface() and begin(). For morpheme lists whose
 * surfaces do not tile the chunk (never seen from Sudachi; see scan_chunk). */
static Py_ssize_t scan_chunk_exact(Decoder *self, Py_ssize_t k, PyObject *morphemes,
                                   Py_ssize_t offset, PyObject *surface, PyObject *pos,
                                   PyObject *starts) {
    PyObject *it = PyObject_GetIter(morphemes);
    if (!it) return -1;
    PyObject *m;
    while ((m = PyIter_Next(it))) {
        PyObject *s = PyObject_CallMethodNoArgs(m, self->s_surface);
        PyObject *b = s ? PyObject_CallMethodNoArgs(m, self->s_begin) : NULL;
        PyObject *p = b ? PyObject_CallMethodNoArgs(m, self->s_pos) : NULL;
        Py_DECREF(m);
        Py_ssize_t bv = p ? PyLong_AsSsize_t(b) : -1;
        Py_XDECREF(b);
        if (!p || (bv == -1 && PyErr_Occurred()) || !PyUnicode_Check(s)) {
            if (p && !PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "surface is not str");
            Py_XDECREF(s); Py_XDECREF(p); Py_DECREF(it);
            return -1;
        }
        uint64_t words;
        int r = word_bits(self, s, &words);
        self->scan_words |= words;
        if (r < 0) { Py_DECREF(s); Py_DECREF(p); Py_DECREF(it); return -1; }
        r = scan_token(self, k++, s, p, PyLong_FromSsize_t(bv + offset), surface, pos, starts);
        Py_DECREF(p);
        if (r < 0) { Py_DECREF(it); return -1; }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : k;
}

/* One chunk of text (at offset in the whole text) and its morphemes, from token index k on.
 * Sudachi's surfaces tile the chunk, so a token's surface is the chunk from the previous end
 * to its own end(): one call per morpheme instead of surface() (which costs 4x) and begin().
 * If the ends do not walk the chunk up to its length (gap, overlap or a text that is not the
 * tokenized one), the chunk is redone the exact way. Returns the next token index or -1. */
static Py_ssize_t scan_chunk(Decoder *self, Py_ssize_t k, PyObject *text, Py_ssize_t offset,
                             PyObject *morphemes, PyObject *surface, PyObject *pos,
                             PyObject *starts) {
    Py_ssize_t k0 = k, len = PyUnicode_GET_LENGTH(text), prev = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *it = PyObject_GetIter(morphemes);
    if (!it) return -1;
    iternextfunc next = Py_TYPE(it)->tp_iternext;
    PyObject *m;
    int tiles = 1;
    while ((m = next(it))) {
        resolve_morpheme_type(self, m);
        if (k == k0) {  /* the first morpheme must start the chunk */
            PyObject *b = call0(m, self->m_begin, self->s_begin);
            Py_ssize_t bv = b ? PyLong_AsSsize_t(b) : -1;
            Py_XDECREF(b);
            if (bv == -1 && PyErr_Occurred()) { Py_DECREF(m); Py_DECREF(it); return -1; }
            if (bv != 0) { tiles = 0; Py_DECREF(m); break; }
        }
        PyObject *e = call0(m, self->m_end, self->s_end);
        PyObject *p = e ? call0(m, self->m_pos, self->s_pos) : NULL;
        Py_DECREF(m);
        Py_ssize_t ev = p ? PyLong_AsSsize_t(e) : -1;
        Py_XDECREF(e);
        if (!p || (ev == -1 && PyErr_Occurred())) { Py_XDECREF(p); Py_DECREF(it); return -1; }
        if (ev <= prev || ev > len) { tiles = 0; Py_DECREF(p); break; }
        long pv = PyLong_AsLong(p);
        int r = pv == -1 && PyErr_Occurred() ? -1 : 0;
        uint64_t h = slice_hash(kind, data, prev, ev, pv);
        SurfaceEntry *hit = r < 0 ? NULL : surface_cache_find(self, h, pv, kind, data, prev, ev);
        if (r == 0 && hit && hit->surface) {  /* a known token: its str, type id and words */
            r = append_token(self, k, hit->surface, p, PyLong_FromSsize_t(prev + offset),
                             surface, pos, starts);
            if (r == 0) self->ids[k] = (int)hit->id;
            self->scan_words |= hit->words;
        } else if (r == 0) {
            uint64_t words = 0;
            r = scan_token(self, k, PyUnicode_Substring(text, prev, ev), p,
                           PyLong_FromSsize_t(prev + offset), surface, pos, starts);
            if (r == 0) r = word_bits(self, PyList_GET_ITEM(surface, k), &words);
            self->scan_words |= words;
            if (r == 0)
                r = surface_cache_add(self, h, pv, PyList_GET_ITEM(surface, k), self->ids[k],
                                      words);
        }
        k++;
        Py_DECREF(p);
        if (r < 0) { Py_DECREF(it); return -1; }
        prev = ev;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return -1;
    if (tiles && prev == len) return k;
    /* undo this chunk's tokens and redo it the exact way */
    if (PyList_SetSlice(surface, k0, PY_SSIZE_T_MAX, NULL) < 0
            || PyList_SetSlice(pos, k0, PY_SSIZE_T_MAX, NULL) < 0
            || PyList_SetSlice(starts, k0, PY_SSIZE_T_MAX, NULL) < 0)
        return -1;
    return scan_chunk_exact(self, k0, morphemes, offset, surface, pos, starts);
}

/* scan(chunks) -> (surface, pos, starts, spans, words)
 * chunks: a text's [(offset, chunk text, Sudachi morphemes of it)]. Per token: its surface,
 * POS id and start offset in the whole text (three lists), its type id (registered on first
 * sight, as typed() does); then the name spans of the whole text, as tag_spans() gives them,
 * and the bits of the word classes its words are in (set_words).
 * The per-text loop of entities.EntityExtractor, without the interpreter in between. */
static PyObject *Decoder_scan(Decoder *self, PyObject *chunks) {
    if (!self->types || !self->bio_names) {
        PyErr_SetString(PyExc_RuntimeError, "configure() and set_bio() first");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(chunks, "scan(chunks): a list of (offset, text, morphemes)");
    if (!seq) return NULL;
    PyObject *surface = PyList_New(0), *pos = PyList_New(0), *starts = PyList_New(0);
    PyObject *spans = NULL, *words = NULL;
    Py_ssize_t k = 0;
    self->scan_words = 0;
    if (!surface || !pos || !starts) goto done;
    for (Py_ssize_t c = 0; c < PySequence_Fast_GET_SIZE(seq); c++) {
        PyObject *item = PySequence_Fast_ITEMS(seq)[c];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3
                || !PyUnicode_Check(PyTuple_GET_ITEM(item, 1))) {
            PyErr_SetString(PyExc_TypeError, "scan(chunks): a list of (offset, text, morphemes)");
            goto done;
        }
        Py_ssize_t offset = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        if (offset == -1 && PyErr_Occurred()) goto done;
        k = scan_chunk(self, k, PyTuple_GET_ITEM(item, 1), offset, PyTuple_GET_ITEM(item, 2),
                       surface, pos, starts);
        if (k < 0) goto done;
    }
    if (grow_scratch(self, k + 1) < 0) goto done;
    label_ids(self, self->ids, k, self->labels);
    spans = spans_of(self, self->ids, self->labels, k);
    words = spans ? PyLong_FromUnsignedLongLong(self->scan_words) : NULL;
done:
    Py_DECREF(seq);
    PyObject *res = words ? PyTuple_Pack(5, surface, pos, starts, spans, words) : NULL;
    Py_XDECREF(surface); Py_XDECREF(pos); Py_XDECREF(starts); Py_XDECREF(spans);
    Py_XDECREF(words);
    return res;
}

/* --- rows: name spans -> entity rows (the end of entities.EntityExtractor.rows) ------------
 * Why: an article has ~60 names, and building each in Python (offsets, the tokens' Sudachi
 * normalized forms, NFKC, then the within-article alias pass) cost about a third of what the
 * tagger does. This mirrors entities.EntityExtractor.py_mentions with canonical.own_form and
 * canonical.resolve_aliases step by step. Inputs it does not expect (span indices out of
 * range, a ・-only PERSON name that makes resolve_aliases raise) give None, and the caller then
 * takes the Python path, so odd inputs behave exactly as there. */

static PyObject *s_normalized_form, *s_lower, *s_nfkc, *s_person, *s_empty, *s_newline,
    *s_dot, *s_dot_half, *s_equals;

#define ROWS_FALLBACK (-2)

typedef struct {
    Py_ssize_t start, end;
    PyObject *kind;  /* borrowed from output_type */
    PyObject *text, *normalized;  /* owned */
} Row;

/* NFKC of s (new reference). ASCII is NFKC already, and unicodedata.normalize would hand back
 * s itself after its quick check, so the call is skipped. */
static PyObject *nfkc(PyObject *normalize, PyObject *s) {
    if (PyUnicode_Check(s) && PyUnicode_IS_ASCII(s)) return Py_NewRef(s);
    PyObject *args[2] = {s_nfkc, s};
    return PyObject_Vectorcall(normalize, args, 2, NULL);
}

/* canonical.own_form for one token: its surface, or its normalized form when that is more than
 * a change of letter case (new reference). */
static PyObject *own_part(PyObject *normalize, PyObject *s, PyObject *n) {
    PyObject *surface = nfkc(normalize, s);
    if (!surface) return NULL;
    int same = PyObject_RichCompareBool(n, s, Py_EQ);
    if (same != 0) {
        if (same < 0) Py_CLEAR(surface);
        return surface;
    }
    PyObject *norm = nfkc(normalize, n);
    PyObject *a = norm ? PyObject_CallMethodNoArgs(norm, s_lower) : NULL;
    PyObject *b = a ? PyObject_CallMethodNoArgs(surface, s_lower) : NULL;
    int eq = b ? PyObject_RichCompareBool(a, b, Py_EQ) : -1;
    Py_XDECREF(a); Py_XDECREF(b);
    if (eq < 0) { Py_XDECREF(norm); Py_DECREF(surface); return NULL; }
    if (eq) { Py_DECREF(norm); return surface; }
    Py_DECREF(surface);
    return norm;
}

/* Index of the chunk holding token i (tokens.Tokens._chunk_of), or -1 if none does. */
static Py_ssize_t chunk_of(const Py_ssize_t *firsts, Py_ssize_t nchunks, Py_ssize_t i) {
    if (nchunks == 1) return 0;
    Py_ssize_t lo = 0, hi = nchunks;  /* bisect_right */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (i < firsts[mid]) hi = mid; else lo = mid + 1;
    }
    return lo - 1;
}

/* Sudachi's normalized form of token j of a chunk's morphemes (new reference). */
static PyObject *morpheme_norm(PyObject *morphemes, Py_ssize_t j) {
    PyObject *idx = PyLong_FromSsize_t(j);
    PyObject *m = idx ? PyObject_GetItem(morphemes, idx) : NULL;
    Py_XDECREF(idx);
    if (!m) return NULL;
    /* normalized_form() through its C function when it is a plain one (as scan does) */
    static PyTypeObject *m_type;
    static PyCFunction m_norm;
    if (Py_TYPE(m) != m_type) {  /* held, so the pointer cannot be reused by another type */
        Py_INCREF(Py_TYPE(m));
        Py_XSETREF(m_type, Py_TYPE(m));
        m_norm = noargs_cfunction(m_type, s_normalized_form);
    }
    PyObject *n = call0(m, m_norm, s_normalized_form);
    Py_DECREF(m);
    return n;
}

/* The own form of tokens a .. b-1 (canonical.own_form over tokens.Tokens.norms), or NULL with
 * an exception, or NULL with *fallback set. */
static PyObject *own_form_of(PyObject *normalize, PyObject *surface, PyObject *chunks,
                             const Py_ssize_t *firsts, Py_ssize_t nchunks, Py_ssize_t a,
                             Py_ssize_t b, int *fallback) {
    Py_ssize_t n = PyList_GET_SIZE(surface), k = chunk_of(firsts, nchunks, a);
    if (k < 0) { *fallback = 1; return NULL; }
    PyObject *morphemes = PyTuple_GET_ITEM(PyList_GET_ITEM(chunks, k), 2);
    Py_ssize_t last = k + 1 < nchunks ? firsts[k + 1] : n;
    int per_token = morphemes == Py_None || b > last;
    PyObject *parts = PyList_New(b - a);
    if (!parts) return NULL;
    for (Py_ssize_t i = a; i < b; i++) {
        PyObject *s = PyList_GET_ITEM(surface, i), *norm;
        if (per_token) {  /* Tokens.norm(i): the token's own chunk */
            Py_ssize_t ki = chunk_of(firsts, nchunks, i);
            if (ki < 0) { *fallback = 1; Py_DECREF(parts); return NULL; }
            PyObject *mi = PyTuple_GET_ITEM(PyList_GET_ITEM(chunks, ki), 2);
            norm = mi == Py_None ? Py_NewRef(s) : morpheme_norm(mi, i - firsts[ki]);
        } else {
            norm = morpheme_norm(morphemes, i - firsts[k]);
        }
        PyObject *part = norm ? own_part(normalize, s, norm) : NULL;
        Py_XDECREF(norm);
        if (!part) { Py_DECREF(parts); return NULL; }
        PyList_SET_ITEM(parts, i - a, part);
    }
    PyObject *out = PyUnicode_Join(s_empty, parts);
    Py_DECREF(parts);
    return out;
}

/* canonical._parts: the non-empty ・-separated parts of a name (= and ･ count as ・). */
static PyObject *name_parts(PyObject *name) {
    PyObject *a = PyUnicode_Replace(name, s_equals, s_dot, -1);
    PyObject *b = a ? PyUnicode_Replace(a, s_dot_half, s_dot, -1) : NULL;
    Py_XDECREF(a);
    PyObject *split = b ? PyUnicode_Split(b, s_dot, -1) : NULL;
    Py_XDECREF(b);
    if (!split) return NULL;
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out && i < PyList_GET_SIZE(split); i++) {
        PyObject *p = PyList_GET_ITEM(split, i);
        if (PyUnicode_GET_LENGTH(p) && PyList_Append(out, p) < 0) Py_CLEAR(out);
    }
    Py_DECREF(split);
    return out;
}

/* canonical._is_alias: 1, 0, -1 (exception) or ROWS_FALLBACK (Python would raise). */
static int is_alias(PyObject *shrt, PyObject *full, int person) {
    Py_ssize_t ns = PyUnicode_GET_LENGTH(shrt);
    if (ns >= PyUnicode_GET_LENGTH(full)) return 0;
    if (!person) {
        if (ns < 2) return 0;
        Py_ssize_t r = PyUnicode_Tailmatch(full, shrt, 0, PY_SSIZE_T_MAX, 1);
        if (r == 0) r = PyUnicode_Tailmatch(full, shrt, 0, PY_SSIZE_T_MAX, -1);
        return (int)r;
    }
    PyObject *parts = name_parts(full);
    if (!parts) return -1;
    Py_ssize_t np = PyList_GET_SIZE(parts);
    int r = 0;
    for (Py_ssize_t i = 1; i < np && r == 0; i++)
        r = PyObject_RichCompareBool(shrt, PyList_GET_ITEM(parts, i), Py_EQ);
    if (r == 0 && np == 0) r = ROWS_FALLBACK;  /* _parts(full)[0] raises IndexError */
    if (r == 0) r = PyObject_RichCompareBool(shrt, PyList_GET_ITEM(parts, 0), Py_EQ);
    if (r == 0) r = (int)PyUnicode_Tailmatch(full, shrt, 0, PY_SSIZE_T_MAX, -1);
    Py_DECREF(parts);
    return r;
}

/* canonical.resolve_aliases over rows[0..n): 0, -1 (exception) or ROWS_FALLBACK. */
static int resolve_aliases(Row *rows, Py_ssize_t n) {
    /* per type: (kind, names so far, those names joined after "\n"s); at most n types */
    PyObject **kinds = PyMem_Calloc(n, sizeof(PyObject *) * 3);
    if (!kinds) { PyErr_NoMemory(); return -1; }
    PyObject **names = kinds + n, **joined = kinds + 2 * n;
    Py_ssize_t ntypes = 0;
    int rc = 0;
    for (Py_ssize_t r = 0; r < n && rc == 0; r++) {
        Row *m = rows + r;
        Py_ssize_t t = 0;
        for (; t < ntypes; t++) {
            int eq = PyObject_RichCompareBool(kinds[t], m->kind, Py_EQ);
            if (eq < 0) { rc = -1; break; }
            if (eq) break;
        }
        if (rc) break;
        if (t == ntypes) {
            kinds[t] = m->kind;
            names[t] = PyList_New(0);
            joined[t] = Py_NewRef(s_empty);
            ntypes++;
            if (!names[t]) { rc = -1; break; }
        }
        int c = PyUnicode_Contains(joined[t], m->normalized);
        if (c < 0) { rc = -1; break; }
        if (c) {
            int person = PyObject_RichCompareBool(m->kind, s_person, Py_EQ);
            if (person < 0) { rc = -1; break; }
            PyObject *best = NULL;
            Py_ssize_t best_len = -1, n_best = 0;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names[t]); i++) {
                PyObject *f = PyList_GET_ITEM(names[t], i);
                int fit = is_alias(m->normalized, f, person);
                if (fit < 0 || fit == ROWS_FALLBACK) { rc = fit; break; }
                if (!fit) continue;
                Py_ssize_t len = PyUnicode_GET_LENGTH(f);
                if (len > best_len) { best = f; best_len = len; n_best = 1; }
                else if (len == best_len) n_best++;  /* names are distinct */
            }
            if (rc) break;
            if (n_best == 1) {
                Py_SETREF(m->normalized, Py_NewRef(best));
                continue;
            }
        }
        int known = PySequence_Contains(names[t], m->normalized);
        if (known < 0) { rc = -1; break; }
        if (!known) {
            if (PyList_Append(names[t], m->normalized) < 0) { rc = -1; break; }
            PyObject *j = PyUnicode_Concat(joined[t], s_newline);
            PyObject *j2 = j ? PyUnicode_Concat(j, m->normalized) : NULL;
            Py_XDECREF(j);
            if (!j2) { rc = -1; break; }
            Py_SETREF(joined[t], j2);
        }
    }
    for (Py_ssize_t t = 0; t < ntypes; t++) { Py_XDECREF(names[t]); Py_XDECREF(joined[t]); }
    PyMem_Free(kinds);
    return rc;
}

/* rows(text, spans, surface, starts, chunks, output_type, normalize) -> list | None
 * The entity rows (text, type, start, end, normalized) of a text's name spans (after the span
 * rules), sorted, with canonical forms and within-article aliases resolved: what
 * entities.EntityExtractor.rows returns. surface and starts are the tokens' lists, chunks
 * tokens.Tokens.chunks ([(first token, offset, Sudachi morphemes or None)]), output_type
 * model.OUTPUT_TYPE, normalize unicodedata.normalize. None: take the Python path. */
static PyObject *rows_of(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 || !PyUnicode_Check(args[0]) || !PyList_Check(args[2])
            || !PyList_Check(args[3]) || !PyList_Check(args[4]) || !PyDict_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError,
                        "rows(text, spans, surface, starts, chunks, output_type, normalize)");
        return NULL;
    }
    PyObject *text = args[0], *surface = args[2], *starts = args[3], *chunks = args[4];
    PyObject *output_type = args[5], *normalize = args[6];
    Py_ssize_t n = PyList_GET_SIZE(surface), nchunks = PyList_GET_SIZE(chunks);
    if (PyList_GET_SIZE(starts) != n || nchunks == 0) Py_RETURN_NONE;
    PyObject *spans = PySequence_List(args[1]);
    if (!spans) return NULL;
    if (PyList_Sort(spans) < 0) { Py_DECREF(spans); return NULL; }
    Py_ssize_t nspans = PyList_GET_SIZE(spans), nrows = 0;
    Py_ssize_t *firsts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)nchunks);
    Row *rows = PyMem_Calloc(nspans ? (size_t)nspans : 1, sizeof(Row));
    PyObject *out = NULL;
    int fallback = 0;
    if (!firsts || !rows) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t c = 0; c < nchunks; c++) {
        PyObject *item = PyList_GET_ITEM(chunks, c);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) { fallback = 1; goto done; }
        firsts[c] = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
        if (firsts[c] == -1 && PyErr_Occurred()) goto done;
    }
    for (Py_ssize_t i = 0; i < nspans; i++) {
        PyObject *span = PyList_GET_ITEM(spans, i);
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 3) { fallback = 1; goto done; }
        PyObject *kind = PyDict_GetItemWithError(output_type, PyTuple_GET_ITEM(span, 2));
        if (!kind) {
            if (PyErr_Occurred()) goto done;
            continue;
        }
        if (kind == Py_None) continue;  /* OUTPUT_TYPE.get(tag) is None */
        Py_ssize_t a = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t b = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        if ((a == -1 || b == -1) && PyErr_Occurred()) goto done;
        if (a < 0 || b <= a || b > n) { fallback = 1; goto done; }
        PyObject *last = PyList_GET_ITEM(surface, b - 1);
        Py_ssize_t start = PyLong_AsSsize_t(PyList_GET_ITEM(starts, a));
        Py_ssize_t end = PyLong_AsSsize_t(PyList_GET_ITEM(starts, b - 1));
        if ((start == -1 || end == -1) && PyErr_Occurred()) goto done;
        if (!PyUnicode_Check(last) || start < 0 || end < 0) { fallback = 1; goto done; }
        end += PyUnicode_GET_LENGTH(last);
        if (end < start) { fallback = 1; goto done; }
        Row *row = rows + nrows;
        row->start = start;
        row->end = end;
        row->kind = kind;
        row->text = PyUnicode_Substring(text, start, end);
        if (!row->text) goto done;
        nrows++;
        row->normalized = own_form_of(normalize, surface, chunks, firsts, nchunks, a, b,
                                      &fallback);
        if (!row->normalized) goto done;
    }
    if (nrows > 1) {
        int rc = resolve_aliases(rows, nrows);
        if (rc == ROWS_FALLBACK) fallback = 1;
        if (rc < 0 || fallback) goto done;
    }
    out = PyList_New(nrows);
    for (Py_ssize_t r = 0; out && r < nrows; r++) {
        PyObject *row = Py_BuildValue("(OOnnO)", rows[r].text, rows[r].kind, rows[r].start,
                                      rows[r].end, rows[r].normalized);
        if (!row) Py_CLEAR(out);
        else PyList_SET_ITEM(out, r, row);
    }
done:
    for (Py_ssize_t r = 0; rows && r < nrows; r++) {
        Py_XDECREF(rows[r].text);
        Py_XDECREF(rows[r].normalized);
    }
    PyMem_Free(rows);
    PyMem_Free(firsts);
    Py_DECREF(spans);
    if (fallback && !PyErr_Occurred()) { Py_XDECREF(out); Py_RETURN_NONE; }
    return out;
}

static int init_rows_strings(void) {
    s_normalized_form = PyUnicode_InternFromString("normalized_form");
    s_lower = PyUnicode_InternFromString("lower");
    s_nfkc = PyUnicode_InternFromString("NFKC");
    s_person = PyUnicode_InternFromString("PERSON");
    s_empty = PyUnicode_InternFromString("");
    s_newline = PyUnicode_InternFromString("\n");
    s_dot = PyUnicode_FromString("\xe3\x83\xbb");       /* ・ */
    s_dot_half = PyUnicode_FromString("\xef\xbd\xa5");  /* ･ */
    s_equals = PyUnicode_InternFromString("=");
    return s_normalized_form && s_lower && s_nfkc && s_person && s_empty && s_newline && s_dot
        && s_dot_half && s_equals ? 0 : -1;
}

static PyObject *Decoder_len(Decoder *self, PyObject *unused) {
    return PyLong_FromSsize_t(self->ntypes);
}

/* forget(): drop every type but the sentinel (the caller clears its type dict too). */
static PyObject *Decoder_forget(Decoder *self, PyObject *unused) {
    if (self->ntypes > 1) self->ntypes = 1;
    surface_cache_clear(self);
    Py_RETURN_NONE;
}

static PyMethodDef Decoder_methods[] = {
    {"add_type", (PyCFunction)(void (*)(void))Decoder_add_type, METH_FASTCALL,
     "add_type(flags, components) -> new type id (sum of the components' weights)"},
    {"set_bio", (PyCFunction)(void (*)(void))Decoder_set_bio, METH_FASTCALL,
     "set_bio(kinds, tags): label structure for tag_spans"},
    {"tag_spans", (PyCFunction)Decoder_tag_spans, METH_O,
     "tag_spans(type_ids) -> [(start, end, tag)]: name spans, per sentence"},
    {"tag", (PyCFunction)Decoder_tag, METH_O,
     "tag(type_ids) -> bytes: label id per token, Viterbi per sentence"},
    {"n_types", (PyCFunction)Decoder_len, METH_NOARGS, "number of types registered"},
    {"forget", (PyCFunction)Decoder_forget, METH_NOARGS, "forget(): drop all types but type 0"},
    {"block", (PyCFunction)Decoder_block, METH_O, "block(type id) -> its 5 * L scores"},
    {"configure", (PyCFunction)Decoder_configure, METH_VARARGS,
     "configure(types, pos_info, pos_cache, maps, lex): tables for type_id / typed"},
    {"type_id", (PyCFunction)(void (*)(void))Decoder_type_id, METH_FASTCALL,
     "type_id(surface, pos) -> type id (registered on first sight)"},
    {"scan", (PyCFunction)Decoder_scan, METH_O,
     "scan(chunks) -> (surface, pos, starts, spans, words): a text's tokens and name spans"},
    {"set_words", (PyCFunction)Decoder_set_words, METH_O,
     "set_words(classes): the word classes scan() reports (workers/extract/words.py)"},
    {"typed", (PyCFunction)(void (*)(void))Decoder_typed, METH_FASTCALL,
     "typed(morphemes, surface, pos, ids): append each morpheme's surface, POS id, type id"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "workers.extract._viterbi.Decoder",
    .tp_basicsize = sizeof(Decoder),
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Linear-chain CRF decoder over integer token types",
    .tp_methods = Decoder_methods,
    .tp_init = (initproc)Decoder_init,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef module_methods[] = {
    {"rows", (PyCFunction)(void (*)(void))rows_of, METH_FASTCALL,
     "rows(text, spans, surface, starts, chunks, output_type, normalize) -> entity rows or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_viterbi", "Compiled CRF decoder (see decoder.py)", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__viterbi(void) {
    if (PyType_Ready(&DecoderType) < 0 || init_rows_strings() < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&DecoderType);
    if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0) {
        Py_DECREF(&DecoderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
