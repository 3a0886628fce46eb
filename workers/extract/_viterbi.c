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
 * so labels agree with crfsuite's tagger.
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
    PyObject_HEAD
    int L;
    int o_label;
    double *trans;
    Py_ssize_t ncomp;
    uint32_t *comp_off;
    uint16_t *ent_slot;
    double *ent_w;
    Py_ssize_t ntypes, cap;
    double *blocks;  /* ntypes * NPOS * L */
    uint8_t *flags;  /* ntypes */
    /* scratch for one sentence */
    Py_ssize_t scap;
    double *state, *score;
    int *back;
    int *ids;
} Decoder;

static void Decoder_dealloc(Decoder *self) {
    PyMem_Free(self->trans);
    PyMem_Free(self->comp_off);
    PyMem_Free(self->ent_slot);
    PyMem_Free(self->ent_w);
    PyMem_Free(self->blocks);
    PyMem_Free(self->flags);
    PyMem_Free(self->state);
    PyMem_Free(self->score);
    PyMem_Free(self->back);
    PyMem_Free(self->ids);
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

/* add_type(flags, components) -> type id: sums the components into a new dense block. */
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
    if (grow_types(self, self->ntypes + 1) < 0) { Py_DECREF(seq); return NULL; }
    int W = NPOS * self->L;
    double *blk = self->blocks + (size_t)self->ntypes * W;
    for (int k = 0; k < W; k++) blk[k] = 0.0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t c = PyLong_AsSsize_t(items[i]);
        if (c == -1 && PyErr_Occurred()) { Py_DECREF(seq); return NULL; }
        if (c < 0 || c >= self->ncomp) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_IndexError, "component id out of range");
            return NULL;
        }
        for (uint32_t e = self->comp_off[c]; e < self->comp_off[c + 1]; e++)
            blk[self->ent_slot[e]] += self->ent_w[e];
    }
    Py_DECREF(seq);
    self->flags[self->ntypes] = (uint8_t)flags;
    return PyLong_FromSsize_t(self->ntypes++);
}

/* Viterbi over ids[0..n) (all real tokens of one sentence); writes labels into out. */
static void viterbi(Decoder *self, const int *ids, Py_ssize_t n, uint8_t *out) {
    const int L = self->L, W = NPOS * L;
    const double *blocks = self->blocks;
    const double *sent = blocks; /* type 0 */
    double *state = self->state, *score = self->score;
    int *back = self->back;
    for (Py_ssize_t t = 0; t < n; t++) {
        const int id = ids[t];
        const double *own = blocks + (size_t)id * W;
        double *st = state + t * L;
        if (self->flags[id] & F_NEVER) {
            for (int y = 0; y < L; y++) st[y] = own[y];
            continue;
        }
        const double *p1 = (t >= 1 ? blocks + (size_t)ids[t - 1] * W : sent) + 1 * L;
        const double *n1 = (t + 1 < n ? blocks + (size_t)ids[t + 1] * W : sent) + 2 * L;
        const double *p2 = (t >= 2 ? blocks + (size_t)ids[t - 2] * W : sent) + 3 * L;
        const double *n2 = (t + 2 < n ? blocks + (size_t)ids[t + 2] * W : sent) + 4 * L;
        for (int y = 0; y < L; y++) st[y] = own[y] + p1[y] + n1[y] + p2[y] + n2[y];
    }
    for (int y = 0; y < L; y++) score[y] = state[y];
    for (Py_ssize_t t = 1; t < n; t++) {
        const double *prev = score + (t - 1) * L;
        double *cur = score + t * L;
        int *bk = back + t * L;
        for (int j = 0; j < L; j++) {
            double best = -DBL_MAX;
            int arg = -1;
            for (int i = 0; i < L; i++) {
                double s = prev[i] + self->trans[i * L + j];
                if (best < s) { best = s; arg = i; }
            }
            bk[j] = arg < 0 ? 0 : arg;
            cur[j] = best + state[t * L + j];
        }
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

/* tag(type_ids: list[int]) -> bytes of label ids, one per token.
 * Sentences are cut after a type flagged END_AFTER and around a BREAK type (labelled O). */
static PyObject *Decoder_tag(Decoder *self, PyObject *arg) {
    if (!self->trans) {
        PyErr_SetString(PyExc_RuntimeError, "Decoder is not initialised");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(arg, "type ids must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (grow_scratch(self, n + 1) < 0) { Py_DECREF(seq); return NULL; }
    int *ids = self->ids;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(items[i]);
        if (v == -1 && PyErr_Occurred()) { Py_DECREF(seq); return NULL; }
        if (v < 0 || v >= self->ntypes) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_IndexError, "type id out of range");
            return NULL;
        }
        ids[i] = (int)v;
    }
    Py_DECREF(seq);
    PyObject *res = PyBytes_FromStringAndSize(NULL, n);
    if (!res) return NULL;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(res);
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
    return res;
}

static PyObject *Decoder_len(Decoder *self, PyObject *unused) {
    return PyLong_FromSsize_t(self->ntypes);
}

static PyMethodDef Decoder_methods[] = {
    {"add_type", (PyCFunction)(void (*)(void))Decoder_add_type, METH_FASTCALL,
     "add_type(flags, components) -> new type id (sum of the components' weights)"},
    {"tag", (PyCFunction)Decoder_tag, METH_O,
     "tag(type_ids) -> bytes: label id per token, Viterbi per sentence"},
    {"n_types", (PyCFunction)Decoder_len, METH_NOARGS, "number of types registered"},
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

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_viterbi", "Compiled CRF decoder (see decoder.py)", -1, NULL,
};

PyMODINIT_FUNC PyInit__viterbi(void) {
    if (PyType_Ready(&DecoderType) < 0) return NULL;
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
