/* Compiled twin of workers/identity/article.py (one article's mentions grouped into keys), of
 * book.derived_shorts and of the string relations of names.py they use.
 *
 * Why: on news sentences the Python step cost ~150k instructions per line (a fifth of
 * `newsflow extract`), almost all of it interpreter overhead around small string tests; here
 * the same tests run over the strings' code points. The Python modules stay the reference:
 * every rule is written there first, and tests/identity/test_compiled.py checks that both give
 * the same keys, kinds and evidence (random articles and the dev sets). Inputs this code does
 * not expect (a row that is not five fields, an empty name, negative offsets, a person's name
 * made only of dots) give None and the caller takes the Python path, so odd inputs behave
 * exactly as there (errors included).
 *
 * The tables (ORG_TAILS, GENERIC_WORDS ...) are handed over by workers/identity/compiled.py from
 * the Python constants: one source of truth. The known-name dicts are passed on every call
 * (by_key: KnownNames.by_key, "TYPE:form" -> key; single: KnownNames.single).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

#define FALLBACK (-2)

/* {"text": None, "type": None, ... "canonical": None}: a record's keys in order, copied for
 * each record (a copy is made at its size; a new dict would grow twice on the way to 7). */
static PyObject *record_template;

static PyObject *s_person, *s_org, *s_location, *s_nfkc, *s_empty, *s_colon, *s_tab, *s_name_tab,
    *s_alias_tab, *s_text, *s_type, *s_start, *s_end, *s_normalized, *s_key, *s_canonical;

typedef struct {
    PyObject_HEAD
    PyObject *normalize;   /* unicodedata.normalize */
    PyObject *tails;       /* tuple: names.ORG_TAILS, in its order */
    PyObject *tail_set;    /* frozenset of ORG_TAILS */
    PyObject *as_prefix;   /* tuple of (tail, abbreviation): names.ORG_TAIL_AS_PREFIX */
    PyObject *tail_abbrs;  /* tuple of (tail, tuple of abbreviations): ORG_TAIL_ABBREVIATIONS */
    PyObject *generic;     /* frozenset: names.GENERIC_WORDS */
    PyObject *tail_ends;   /* str: the last characters of all the tails above */
    Py_ssize_t max_short;  /* article.MAX_SHORT */
    Py_ssize_t max_run;    /* names.MAX_ABBREVIATED_RUN */
} Keys;

/* --- strings --------------------------------------------------------------------------------- */

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len;
} U;

static inline U u_of(PyObject *s) {
    U u = {PyUnicode_KIND(s), PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s)};
    return u;
}

#define AT(u, i) PyUnicode_READ((u).kind, (u).data, (i))

static inline int is_kanji(Py_UCS4 o) {
    return (o >= 0x4E00 && o <= 0x9FFF) || (o >= 0x3400 && o <= 0x4DBF) || o == 0x3005;
}

static inline int is_katakana(Py_UCS4 o) { return (o >= 0x30A1 && o <= 0x30FA) || o == 0x30FC; }

static inline int is_dot(Py_UCS4 o) {  /* names._DOTS: ・ and the marks read as it */
    return o == 0x30FB || o == '=' || o == 0xFF65 || o == 0xFF1D;
}

/* names.char_kind */
static char char_kind(Py_UCS4 o) {
    if (o >= 0x3041 && o <= 0x309F) return 'H';
    if (is_katakana(o)) return 'T';
    if (is_kanji(o)) return 'K';
    if (o < 128 && ((o >= '0' && o <= '9') || (o >= 'A' && o <= 'Z') || (o >= 'a' && o <= 'z')))
        return 'A';
    return 'O';
}

/* names.all_kanji over u[a:b] */
static int all_kanji(U u, Py_ssize_t a, Py_ssize_t b) {
    if (b <= a) return 0;
    for (Py_ssize_t i = a; i < b; i++)
        if (!is_kanji(AT(u, i))) return 0;
    return 1;
}

/* a[ia:ia+n] == b[ib:ib+n] */
static int same_chars(U a, Py_ssize_t ia, U b, Py_ssize_t ib, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++)
        if (AT(a, ia + k) != AT(b, ib + k)) return 0;
    return 1;
}

static inline int starts_with(U s, U prefix) {
    return prefix.len <= s.len && same_chars(s, 0, prefix, 0, prefix.len);
}

static inline int ends_with(U s, U suffix) {
    return suffix.len <= s.len && same_chars(s, s.len - suffix.len, suffix, 0, suffix.len);
}

static inline int equal(U a, U b) { return a.len == b.len && same_chars(a, 0, b, 0, a.len); }

/* str == str (both known to be str) */
static inline int str_eq(PyObject *a, PyObject *b) {
    return a == b || (PyUnicode_GET_LENGTH(a) == PyUnicode_GET_LENGTH(b)
                      && PyUnicode_Compare(a, b) == 0);
}

/* `needle in hay` (-1 on error) */
static int contains(PyObject *hay, PyObject *needle) {
    Py_ssize_t at = PyUnicode_Find(hay, needle, 0, PY_SSIZE_T_MAX, 1);
    return at == -2 ? -1 : at >= 0;
}

/* The concatenation of n strings (new reference). */
static PyObject *join(PyObject **parts, int n) {
    Py_ssize_t len = 0;
    Py_UCS4 maxchar = 0;
    for (int i = 0; i < n; i++) {
        len += PyUnicode_GET_LENGTH(parts[i]);
        Py_UCS4 m = PyUnicode_MAX_CHAR_VALUE(parts[i]);
        if (m > maxchar) maxchar = m;
    }
    PyObject *out = PyUnicode_New(len, maxchar);
    if (!out) return NULL;
    Py_ssize_t at = 0;
    for (int i = 0; i < n; i++) {
        Py_ssize_t k = PyUnicode_GET_LENGTH(parts[i]);
        if (k && PyUnicode_CopyCharacters(out, at, parts[i], 0, k) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        at += k;
    }
    return out;
}

/* f"{kind}:{name}" */
static PyObject *key_of(PyObject *kind, PyObject *name) {
    PyObject *parts[3] = {kind, s_colon, name};
    return join(parts, 3);
}

/* d.get(k): borrowed, or NULL (check PyErr_Occurred). */
static inline PyObject *get1(PyObject *d, PyObject *k) { return PyDict_GetItemWithError(d, k); }

/* --- names.py ------------------------------------------------------------------------------- */

/* The non-empty ・-parts of a name (names.parts): their [start, end) offsets, at most cap of
 * them; returns their number (which may exceed cap). */
static Py_ssize_t part_bounds(U u, Py_ssize_t *bounds, Py_ssize_t cap) {
    Py_ssize_t n = 0, a = 0;
    for (Py_ssize_t i = 0; i <= u.len; i++) {
        if (i == u.len || is_dot(AT(u, i))) {
            if (i > a) {
                if (n < cap) { bounds[2 * n] = a; bounds[2 * n + 1] = i; }
                n++;
            }
            a = i + 1;
        }
    }
    return n;
}

static int has_dot(U u) {
    for (Py_ssize_t i = 0; i < u.len; i++)
        if (is_dot(AT(u, i))) return 1;
    return 0;
}

/* names.is_subsequence */
static int is_subsequence(U shrt, U full) {
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < shrt.len; i++) {
        Py_UCS4 c = AT(shrt, i);
        while (j < full.len && AT(full, j) != c) j++;
        if (j == full.len) return 0;
        j++;
    }
    return 1;
}

/* names.org_prefix */
static int org_prefix(Keys *self, PyObject *shrt, U s, PyObject *full, U f) {
    if (s.len < 2 || !starts_with(f, s) || f.len <= s.len) return 0;
    Py_ssize_t r = s.len;
    while (r < f.len && AT(f, r) == 0x30FB) r++;  /* .lstrip("・") */
    PyObject *rest = PyUnicode_Substring(full, r, f.len);
    if (!rest) return -1;
    int in = PySet_Contains(self->tail_set, rest);
    Py_DECREF(rest);
    if (in) return in;
    /* len(short) in script_cuts(full) and char_kind(full[len(short)]) in "TA" */
    char a = char_kind(AT(f, s.len - 1)), b = char_kind(AT(f, s.len));
    return (b == 'T' || b == 'A') && a != b && a != 'O';
}

/* names.org_tail_prefix */
static int org_tail_prefix(Keys *self, U s, U f) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(self->as_prefix); i++) {
        PyObject *item = PyTuple_GET_ITEM(self->as_prefix, i);
        U tail = u_of(PyTuple_GET_ITEM(item, 0)), abbr = u_of(PyTuple_GET_ITEM(item, 1));
        if (!ends_with(f, tail)) continue;
        Py_ssize_t stem = f.len - tail.len;  /* short == abbr + full[:-len(tail)] */
        if (s.len == abbr.len + stem && starts_with(s, abbr) && same_chars(s, abbr.len, f, 0, stem))
            return 1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(self->tail_abbrs); i++) {
        PyObject *item = PyTuple_GET_ITEM(self->tail_abbrs, i);
        U tail = u_of(PyTuple_GET_ITEM(item, 0));
        if (!ends_with(f, tail)) continue;
        Py_ssize_t stem = f.len - tail.len;  /* short in {full[:-len(tail)] + a for a in abbrs} */
        PyObject *abbrs = PyTuple_GET_ITEM(item, 1);
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(abbrs); k++) {
            U abbr = u_of(PyTuple_GET_ITEM(abbrs, k));
            if (s.len == stem + abbr.len && same_chars(s, 0, f, 0, stem)
                    && same_chars(s, stem, abbr, 0, abbr.len))
                return 1;
        }
    }
    return 0;
}

/* names.abbreviates(short, full, kind): 1, 0, -1 (error) or FALLBACK (Python would raise). */
static int abbreviates(Keys *self, PyObject *shrt, PyObject *full, PyObject *kind) {
    U s = u_of(shrt), f = u_of(full);
    if (s.len >= f.len) return 0;
    if (s.len == 0) return FALLBACK;  /* short[0] raises */
    if (AT(s, 0) != AT(f, 0) && !(s.len >= 2 && AT(s, 0) == 'J' && AT(s, 1) == 'R')) {
        int in = contains(full, shrt);
        if (in <= 0) return in;
    }
    if (str_eq(kind, s_person)) {
        /* short in ps[1:] or short == ps[0] or full.startswith(short) */
        Py_ssize_t bounds[2 * 16];
        Py_ssize_t np = part_bounds(f, bounds, 16);
        if (np == 0) return FALLBACK;  /* ps[0] raises */
        if (np > 16) return FALLBACK;  /* not expected of a name: let Python decide */
        for (Py_ssize_t p = 0; p < np; p++) {
            Py_ssize_t a = bounds[2 * p], b = bounds[2 * p + 1];
            if (b - a == s.len && same_chars(f, a, s, 0, s.len)) return 1;
        }
        return starts_with(f, s);
    }
    if (str_eq(kind, s_location)) return 0;
    int generic = PySet_Contains(self->generic, shrt);
    if (generic) return generic < 0 ? -1 : 0;
    int r = org_prefix(self, shrt, s, full, f);
    if (r) return r;
    if (org_tail_prefix(self, s, f)) return 1;
    /* kanji_abbreviation */
    if (s.len >= 2 && f.len >= s.len + 2 && AT(s, 0) == AT(f, 0) && all_kanji(s, 0, s.len)
            && is_kanji(AT(f, 1)) && is_subsequence(s, f))
        return 1;
    /* a kanji word at the end */
    if (s.len >= 2 && ends_with(f, s) && is_kanji(AT(s, 0))) return 1;
    /* inner_word */
    if (s.len < 2 || !all_kanji(s, 0, s.len)) return 0;
    Py_ssize_t at = PyUnicode_Find(full, shrt, 0, PY_SSIZE_T_MAX, 1);
    if (at == -2) return -1;
    return at > 0 && at + s.len < f.len;
}

/* --- book.derived_shorts ------------------------------------------------------------------- */

static PyObject *joined2(PyObject *a, PyObject *b);
static int add_to_set_in(PyObject *d, PyObject *key, PyObject *value);

/* Where the short forms of a name go: into a set (derived_shorts), or those that survive
 * derived_shorts' filter (not the name itself, two characters or more, not a generic word)
 * either tested for, stopping at the first (bool(derived_shorts(key)): article._teaches' test),
 * or taught to the book as "KIND:form" (AliasBook.add of an N entry). */
typedef struct {
    Keys *self;
    PyObject *set;   /* collect mode when not NULL */
    U name;          /* the name the forms are of */
    int found;       /* test mode: one survived */
    PyObject *derived, *prefix, *full, *touched;  /* book mode when derived is not NULL */
} Sink;

/* Take a form (a new reference, or NULL on error): 0 go on, 1 stop (found), -1 error. */
static int sink_take(Sink *k, PyObject *form) {
    if (!form) return -1;
    int rc;
    if (k->set) {
        rc = PySet_Add(k->set, form);
    } else {
        U f = u_of(form);
        rc = 0;
        if (f.len >= 2 && !equal(f, k->name)) {
            rc = PySet_Contains(k->self->generic, form);
            if (rc == 1) {
                rc = 0;  /* a generic word: no short form */
            } else if (rc == 0 && !k->derived) {
                k->found = 1;
                rc = 1;
            } else if (rc == 0) {  /* derived.setdefault(KIND:form, set()).add(full) */
                PyObject *key = joined2(k->prefix, form);
                rc = key ? add_to_set_in(k->derived, key, k->full) : -1;
                if (rc == 0) rc = PyList_Append(k->touched, key);
                Py_XDECREF(key);
            }
        }
    }
    Py_DECREF(form);
    return rc;
}

static PyObject *joined2(PyObject *a, PyObject *b) {
    PyObject *parts[2] = {a, b};
    return join(parts, 2);
}

/* The short forms book.derived_shorts makes of a person's or an organisation's name (before
 * its filter), into the sink: 0, 1 (stopped), -1 or FALLBACK. */
static int shorts_of(Keys *self, int person, PyObject *name, Sink *k) {
    U u = u_of(name);
    int rc = 0;
#define TAKE(form) do { rc = sink_take(k, (form)); if (rc) return rc; } while (0)
    if (person) {
        if (all_kanji(u, 0, u.len) && u.len >= 3 && u.len <= 6) {
            for (Py_ssize_t m = 2; m <= 3; m++)
                if (u.len - m >= 1 && u.len - m <= 3) TAKE(PyUnicode_Substring(name, 0, m));
        }
        Py_ssize_t bounds[2 * 64];
        Py_ssize_t np = part_bounds(u, bounds, 64);
        if (np > 64) return FALLBACK;
        if (np > 1 && bounds[2 * np - 1] - bounds[2 * np - 2] >= 2)
            TAKE(PyUnicode_Substring(name, bounds[2 * np - 2], bounds[2 * np - 1]));
        return 0;
    }
    /* a name that ends in no tail's last character ends in no tail (most names) */
    int tailed = u.len > 0 && PyUnicode_FindChar(self->tail_ends, AT(u, u.len - 1), 0,
                                                 PyUnicode_GET_LENGTH(self->tail_ends), 1) >= 0;
    for (Py_ssize_t i = 0; tailed && i < PyTuple_GET_SIZE(self->tails); i++) {
        U tail = u_of(PyTuple_GET_ITEM(self->tails, i));
        if (!ends_with(u, tail) || u.len - tail.len < 2) continue;
        Py_ssize_t end = u.len - tail.len;
        while (end > 0 && AT(u, end - 1) == 0x30FB) end--;  /* .rstrip("・") */
        if (!all_kanji(u, 0, end)) TAKE(PyUnicode_Substring(name, 0, end));
    }
    for (Py_ssize_t i = 0; tailed && i < PyTuple_GET_SIZE(self->as_prefix); i++) {
        PyObject *item = PyTuple_GET_ITEM(self->as_prefix, i);
        U tail = u_of(PyTuple_GET_ITEM(item, 0));
        if (!ends_with(u, tail) || u.len <= tail.len) continue;
        PyObject *stem = PyUnicode_Substring(name, 0, u.len - tail.len);
        if (!stem) return -1;
        rc = sink_take(k, joined2(PyTuple_GET_ITEM(item, 1), stem));
        Py_DECREF(stem);
        if (rc) return rc;
    }
    for (Py_ssize_t i = 0; tailed && i < PyTuple_GET_SIZE(self->tail_abbrs); i++) {
        PyObject *item = PyTuple_GET_ITEM(self->tail_abbrs, i);
        U tail = u_of(PyTuple_GET_ITEM(item, 0));
        if (!ends_with(u, tail) || u.len <= tail.len) continue;
        PyObject *stem = PyUnicode_Substring(name, 0, u.len - tail.len);
        if (!stem) return -1;
        PyObject *abbrs = PyTuple_GET_ITEM(item, 1);
        for (Py_ssize_t a = 0; a < PyTuple_GET_SIZE(abbrs) && !rc; a++)
            rc = sink_take(k, joined2(stem, PyTuple_GET_ITEM(abbrs, a)));
        Py_DECREF(stem);
        if (rc) return rc;
    }
    if (PyUnicode_IS_ASCII(name)) return 0;
    /* KATAKANA_AFTER_OTHER.finditer(name, 2): the name up to katakana after another script */
    for (Py_ssize_t p = 2; p < u.len; p++) {
        Py_UCS4 before = AT(u, p - 1);
        if (is_katakana(AT(u, p)) && !(before >= 0x30A1 && before <= 0x30FC))
            TAKE(PyUnicode_Substring(name, 0, p));
    }
    /* book._kanji_abbreviations */
    Py_ssize_t run = 0;
    while (run < u.len && is_kanji(AT(u, run))) run++;
    if (run < 3 || run > self->max_run) return 0;
    Py_ssize_t starts[64], n = 0;
    for (Py_ssize_t i = 2; i < run && n < 63; i += 2) starts[n++] = i;
    if (run % 2 == 1) {
        int found = 0;
        for (Py_ssize_t j = 0; j < n; j++) found |= starts[j] == run - 1;
        if (!found) starts[n++] = run - 1;
    }
    if (n > 20) return FALLBACK;  /* 2**n subsets: not with the tables' run limit */
    Py_UCS4 buf[64];
    for (unsigned long mask = 1; mask < (1ul << n); mask++) {
        Py_ssize_t len = 0;
        buf[len++] = AT(u, 0);
        for (Py_ssize_t j = 0; j < n; j++)
            if (mask & (1ul << j)) buf[len++] = AT(u, starts[j]);
        TAKE(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, len));
    }
    return 0;
#undef TAKE
}

/* The kind of a key (the part before its first ":"): 'P' person, 'O' organisation, else 0;
 * *colon is where its name starts (after the ":"; the key's length when there is none). */
static char key_kind(PyObject *key, Py_ssize_t *name_at) {
    U u = u_of(key);
    Py_ssize_t at = 0;
    while (at < u.len && AT(u, at) != ':') at++;
    *name_at = at < u.len ? at + 1 : u.len;
    U kind = {u.kind, u.data, at};
    if (equal(kind, u_of(s_person))) return 'P';
    if (equal(kind, u_of(s_org))) return 'O';
    return 0;
}

/* book.derived_shorts(key) as a new frozenset, or NULL with an exception, or NULL with
 * *fallback set. */
static PyObject *derived(Keys *self, PyObject *key, int *fallback) {
    Py_ssize_t at;
    char kind = key_kind(key, &at);
    PyObject *out = PyFrozenSet_New(NULL);
    if (!kind || !out) return out;
    Py_ssize_t len = PyUnicode_GET_LENGTH(key);
    PyObject *prefix = PyUnicode_Substring(key, 0, at);  /* "KIND:" */
    PyObject *name = prefix ? PyUnicode_Substring(key, at, len) : NULL;
    PyObject *shorts = name ? PySet_New(NULL) : NULL;
    Sink k = {self, shorts, {0}, 0, NULL, NULL, NULL, NULL};
    int rc = shorts ? shorts_of(self, kind == 'P', name, &k) : -1;
    if (rc == FALLBACK) *fallback = 1;
    if (rc == 0 && PySet_Discard(shorts, name) < 0) rc = -1;
    PyObject *it = rc == 0 ? PyObject_GetIter(shorts) : NULL, *form;
    if (rc == 0 && !it) rc = -1;
    while (rc == 0 && (form = PyIter_Next(it))) {
        int keep = PyUnicode_GET_LENGTH(form) >= 2;
        if (keep) {
            int generic = PySet_Contains(self->generic, form);
            if (generic < 0) rc = -1;
            keep = generic == 0;
        }
        if (keep) {
            PyObject *k2 = joined2(prefix, form);
            if (!k2 || PySet_Add(out, k2) < 0) rc = -1;
            Py_XDECREF(k2);
        }
        Py_DECREF(form);
    }
    if (rc == 0 && PyErr_Occurred()) rc = -1;
    Py_XDECREF(it);
    Py_XDECREF(prefix);
    Py_XDECREF(name);
    Py_XDECREF(shorts);
    if (rc) Py_CLEAR(out);
    return out;
}

/* bool(book.derived_shorts(key)): 1, 0, -1 or FALLBACK. */
static int has_derived(Keys *self, PyObject *key) {
    Py_ssize_t at;
    char kind = key_kind(key, &at);
    if (!kind) return 0;
    PyObject *name = PyUnicode_Substring(key, at, PyUnicode_GET_LENGTH(key));
    if (!name) return -1;
    Sink k = {self, NULL, u_of(name), 0, NULL, NULL, NULL, NULL};
    int rc = shorts_of(self, kind == 'P', name, &k);
    Py_DECREF(name);
    return rc < 0 ? rc : k.found;
}

/* article.full_name */
static int full_name(PyObject *key) {
    Py_ssize_t at;
    char kind = key_kind(key, &at);
    U k = u_of(key);
    U u = {k.kind, (const char *)k.data + at * k.kind, k.len - at};
    if (kind == 'P') {
        if (has_dot(u)) {
            Py_ssize_t bounds[2];
            return part_bounds(u, bounds, 1) > 1;
        }
        return u.len >= 3 && all_kanji(u, 0, u.len);
    }
    return kind == 'O' && u.len >= 3;
}

/* --- article.py ---------------------------------------------------------------------------- */

#define MAX_TAUGHT 3  /* article._teaches gives at most three entries */

typedef struct {
    PyObject *kind, *name, *own, *known, *key;  /* owned; known may be NULL */
    PyObject *ev[MAX_TAUGHT];  /* owned: what it teaches when its group's key is its own */
    int nev;
    Py_ssize_t first;          /* index of the first mention with this (kind, name) */
} Mention;

static void mention_clear(Mention *m) {
    Py_CLEAR(m->kind);
    Py_CLEAR(m->name);
    Py_CLEAR(m->own);
    Py_CLEAR(m->known);
    Py_CLEAR(m->key);
    for (int i = 0; i < m->nev; i++) Py_CLEAR(m->ev[i]);
    m->nev = 0;
}

/* key == f"{kind}:{form}", without building the right side */
static int key_is(PyObject *key, PyObject *kind, PyObject *form) {
    U k = u_of(key), a = u_of(kind), b = u_of(form);
    return k.len == a.len + 1 + b.len && same_chars(k, 0, a, 0, a.len) && AT(k, a.len) == ':'
        && same_chars(k, a.len + 1, b, 0, b.len);
}

/* article._teaches: the entries a mention gives when its group's key is ``key``, into ev[]
 * (at most MAX_TAUGHT, new references; *nev set). 0, -1 or FALLBACK. */
static int teaches(Keys *self, PyObject *keys, PyObject *kind, PyObject *name, PyObject *own,
                   PyObject *known_key, PyObject *key, PyObject **ev, int *nev) {
    *nev = 0;
    if (!known_key && full_name(key)) {
        /* keys((kind, key.partition(":")[2])) is None and derived_shorts(key) */
        PyObject *got;
        if (key_is(key, kind, name)) {  /* then kind + ":" + the key's name is the key */
            got = get1(keys, key);
        } else {
            Py_ssize_t at;
            key_kind(key, &at);
            PyObject *npart = PyUnicode_Substring(key, at, PyUnicode_GET_LENGTH(key));
            PyObject *k2 = npart ? key_of(kind, npart) : NULL;
            Py_XDECREF(npart);
            if (!k2) return -1;
            got = get1(keys, k2);
            Py_DECREF(k2);
        }
        if (!got && PyErr_Occurred()) return -1;
        if (!got) {
            int some = has_derived(self, key);
            if (some < 0) return some;
            if (some) {
                PyObject *parts[2] = {s_name_tab, key};
                if (!(ev[(*nev)++] = join(parts, 2))) { (*nev)--; return -1; }
            }
        }
    }
    PyObject *forms[2] = {name, own};
    for (int i = 0; i < 2; i++) {
        PyObject *form = forms[i];
        if (i == 1 && str_eq(own, name)) break;
        if (PyUnicode_GET_LENGTH(form) < 2 || key_is(key, kind, form)) continue;
        PyObject *alias = key_of(kind, form);
        if (!alias) return -1;
        PyObject *got = get1(keys, alias);  /* keys((kind, form)) != key */
        if (!got && PyErr_Occurred()) { Py_DECREF(alias); return -1; }
        if (got && PyUnicode_Check(got) && str_eq(got, key)) { Py_DECREF(alias); continue; }
        PyObject *parts[4] = {s_alias_tab, alias, s_tab, key};
        ev[*nev] = join(parts, 4);
        Py_DECREF(alias);
        if (!ev[(*nev)++]) { (*nev)--; return -1; }
    }
    return 0;
}

/* keys.get(f"{kind}:{form}"): borrowed, or NULL (check PyErr_Occurred). */
static PyObject *known_form(PyObject *keys, PyObject *kind, PyObject *form) {
    PyObject *k = key_of(kind, form);
    if (!k) return NULL;
    PyObject *got = get1(keys, k);
    Py_DECREF(k);
    return got;
}

/* article._mention of one row: 0, -1 or FALLBACK. */
static int mention(Keys *self, PyObject *keys, PyObject *single, PyObject *row, Mention *m) {
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 5) return FALLBACK;
    PyObject *text = PyTuple_GET_ITEM(row, 0), *kind = PyTuple_GET_ITEM(row, 1);
    PyObject *normalized = PyTuple_GET_ITEM(row, 4);
    if (!PyUnicode_CheckExact(text) || !PyUnicode_CheckExact(kind)
            || !PyUnicode_CheckExact(normalized) || PyUnicode_GET_LENGTH(normalized) == 0)
        return FALLBACK;
    m->name = Py_NewRef(normalized);
    if (str_eq(text, normalized)) {
        m->own = Py_NewRef(normalized);
    } else {
        PyObject *args[2] = {s_nfkc, text};
        m->own = PyObject_Vectorcall(self->normalize, args, 2, NULL);
        if (!m->own) return -1;
        if (!PyUnicode_CheckExact(m->own)) return FALLBACK;
    }
    int other_form = !str_eq(m->own, normalized);
    /* keys.get((kind, form)) as by_key.get(f"{kind}:{form}"): the same unless a type holds ":" */
    if (PyUnicode_FindChar(kind, ':', 0, PyUnicode_GET_LENGTH(kind), 1) != -1) return FALLBACK;
    PyObject *own_key = key_of(kind, normalized);  /* the key it has when it is no known name */
    if (!own_key) return -1;
    PyObject *key = get1(keys, own_key);
    if (!key && !PyErr_Occurred() && other_form) key = known_form(keys, kind, m->own);
    if (!key && !PyErr_Occurred()) {
        PyObject *other = get1(single, normalized);
        if (!other && !PyErr_Occurred()) other = get1(single, m->own);
        if (other && (!PyUnicode_CheckExact(other)
                      || PyUnicode_FindChar(other, ':', 0, PyUnicode_GET_LENGTH(other), 1) != -1)) {
            Py_DECREF(own_key);
            return FALLBACK;
        }
        if (other && !str_eq(other, kind)) {
            kind = other;
            Py_SETREF(own_key, key_of(kind, normalized));
            key = own_key ? get1(keys, own_key) : NULL;
            if (!key && !PyErr_Occurred() && own_key) key = known_form(keys, kind, m->own);
        }
    }
    if (!key && (PyErr_Occurred() || !own_key)) { Py_XDECREF(own_key); return -1; }
    if (key && !PyUnicode_CheckExact(key)) { Py_DECREF(own_key); return FALLBACK; }
    m->kind = Py_NewRef(kind);
    m->known = Py_XNewRef(key);
    if (key) {
        m->key = Py_NewRef(key);
        Py_DECREF(own_key);
    } else {
        m->key = own_key;
    }
    return teaches(self, keys, m->kind, m->name, m->own, m->known, m->key, m->ev, &m->nev);
}

/* The (start, end) of a row, or FALLBACK for what Python would index otherwise. */
static int row_bounds(PyObject *row, Py_ssize_t *start, Py_ssize_t *end) {
    PyObject *a = PyTuple_GET_ITEM(row, 2), *b = PyTuple_GET_ITEM(row, 3);
    if (!PyLong_CheckExact(a) || !PyLong_CheckExact(b)) return FALLBACK;
    *start = PyLong_AsSsize_t(a);
    *end = PyLong_AsSsize_t(b);
    if ((*start == -1 || *end == -1) && PyErr_Occurred()) {
        PyErr_Clear();
        return FALLBACK;
    }
    return *start < 0 || *end < 0 ? FALLBACK : 0;
}

/* Union-find over mentions (article._Groups): two groups with different table keys never join. */
typedef struct {
    Py_ssize_t *parent;
    PyObject **known;  /* borrowed from the mentions */
} Groups;

static Py_ssize_t find(Groups *g, Py_ssize_t i) {
    while (g->parent[i] != i) {
        g->parent[i] = g->parent[g->parent[i]];
        i = g->parent[i];
    }
    return i;
}

static void join_groups(Groups *g, Py_ssize_t i, Py_ssize_t j) {
    Py_ssize_t a = find(g, i), b = find(g, j);
    if (a == b) return;
    PyObject *ka = g->known[a], *kb = g->known[b];
    if (ka && kb && !str_eq(ka, kb)) return;
    g->parent[b] = a;
    if (!ka) g->known[a] = kb;
}

typedef struct {
    Py_ssize_t shrt;   /* first index of the short name */
    Py_ssize_t nfull;  /* how many full names it fits */
    Py_ssize_t at;     /* where their first indices start in the shared buffer */
} Fit;

/* article.group over mentions already built: the (kinds, keys, evidence) triple, or NULL with
 * an exception, or NULL with *fallback set. */
static PyObject *group(Keys *self, PyObject *keys, PyObject *single, PyObject *text,
                       PyObject *rows, Mention *ms, Py_ssize_t n, int *fallback) {
    PyObject *out = NULL, *kinds = NULL, *keylist = NULL, *evidence = NULL;
    Py_ssize_t *distinct = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)n * 3);
    Py_ssize_t *links = distinct + n, *parent = distinct + 2 * n;
    Py_ssize_t *fullbuf = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)n), fullcap = n;
    PyObject **gknown = PyMem_Malloc(sizeof(PyObject *) * (size_t)n);
    PyObject **names = PyMem_Calloc((size_t)n, sizeof(PyObject *));
    Fit *fits = PyMem_Malloc(sizeof(Fit) * (size_t)n);
    Py_ssize_t nd = 0, nlinks = 0, nfits = 0, nfullbuf = 0;
    if (!distinct || !fullbuf || !gknown || !names || !fits) { PyErr_NoMemory(); goto done; }
    /* first[(kind, name)]: the distinct names in order of first mention */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t d = 0;
        for (; d < nd; d++) {
            Mention *f = ms + distinct[d];
            if (str_eq(f->name, ms[i].name) && str_eq(f->kind, ms[i].kind)) break;
        }
        if (d == nd) distinct[nd++] = i;
        ms[i].first = distinct[d];
    }
    /* _brackets: NAME（OTHER） of one type */
    U t = u_of(text);
    int has_open = PyUnicode_FindChar(text, '(', 0, t.len, 1) >= 0
        || PyUnicode_FindChar(text, 0xFF08, 0, t.len, 1) >= 0;
    for (Py_ssize_t i = 0; has_open && i + 1 < n; i++) {
        Py_ssize_t a0, a1, b0, b1;
        if (row_bounds(PyList_GET_ITEM(rows, i), &a0, &a1) || row_bounds(PyList_GET_ITEM(rows, i + 1), &b0, &b1)) {
            *fallback = 1;
            goto done;
        }
        if (a1 < t.len && (AT(t, a1) == 0xFF08 || AT(t, a1) == '(') && b0 == a1 + 1 && b1 < t.len
                && (AT(t, b1) == 0xFF09 || AT(t, b1) == ')') && str_eq(ms[i].kind, ms[i + 1].kind))
            links[nlinks++] = i;
    }
    /* _abbreviations: each short name and the full names of its type it abbreviates */
    int big = nd > 8;
    for (Py_ssize_t d = 0; nd > 1 && d < nd; d++) {
        Mention *s = ms + distinct[d];
        U su = u_of(s->name);
        if (su.len > self->max_short) continue;
        Py_UCS4 c = AT(su, 0);
        Py_ssize_t nfull = 0;
        for (Py_ssize_t e = 0; e < nd; e++) {
            Mention *f = ms + distinct[e];
            if (!str_eq(f->kind, s->kind)) continue;
            U fu = u_of(f->name);
            int candidate;
            if (big) {
                candidate = PyUnicode_FindChar(f->name, c, 0, fu.len, 1) >= 0;
            } else {
                candidate = AT(fu, 0) == c || c == 'J';
                if (!candidate) {
                    candidate = contains(f->name, s->name);
                    if (candidate < 0) goto done;
                }
            }
            if (!candidate || fu.len <= su.len) continue;
            int fit = abbreviates(self, s->name, f->name, s->kind);
            if (fit == FALLBACK) { *fallback = 1; goto done; }
            if (fit < 0) goto done;
            if (!fit) continue;
            if (nfullbuf + nfull == fullcap) {
                Py_ssize_t *grown = PyMem_Realloc(fullbuf, sizeof(Py_ssize_t) * (size_t)fullcap * 2);
                if (!grown) { PyErr_NoMemory(); goto done; }
                fullbuf = grown;
                fullcap *= 2;
            }
            fullbuf[nfullbuf + nfull++] = distinct[e];
        }
        if (!nfull) continue;
        if (!str_eq(s->kind, s_location)) {
            PyObject *only = get1(single, s->name);
            if (!only && PyErr_Occurred()) goto done;
            if (only && PyUnicode_Check(only) && str_eq(only, s_location)) continue;
        }
        fits[nfits].shrt = distinct[d];
        fits[nfits].nfull = nfull;
        fits[nfits].at = nfullbuf;
        nfits++;
        nfullbuf += nfull;
    }
    kinds = PyList_New(n);
    keylist = PyList_New(n);
    evidence = PyList_New(0);
    if (!kinds || !keylist || !evidence) goto done;
    for (Py_ssize_t i = 0; i < n; i++) PyList_SET_ITEM(kinds, i, Py_NewRef(ms[i].kind));
    if (!nlinks && !nfits && nd == n) {
        /* every name once and none joined (the common case): no grouping */
        for (Py_ssize_t i = 0; i < n; i++) {
            PyList_SET_ITEM(keylist, i, Py_NewRef(ms[i].key));
            for (int k = 0; k < ms[i].nev; k++)
                if (PyList_Append(evidence, ms[i].ev[k]) < 0) goto done;
        }
        out = PyTuple_Pack(3, kinds, keylist, evidence);
        goto done;
    }
    Groups g = {parent, gknown};
    for (Py_ssize_t i = 0; i < n; i++) { parent[i] = i; gknown[i] = ms[i].known; }
    for (Py_ssize_t i = 0; i < n; i++)
        if (ms[i].first != i) join_groups(&g, ms[i].first, i);
    for (Py_ssize_t k = 0; k < nlinks; k++) join_groups(&g, links[k], links[k] + 1);
    /* sorted(fits, key=len(fulls)), stable: by insertion */
    for (Py_ssize_t a = 1; a < nfits; a++) {
        Fit f = fits[a];
        Py_ssize_t b = a;
        while (b > 0 && fits[b - 1].nfull > f.nfull) { fits[b] = fits[b - 1]; b--; }
        fits[b] = f;
    }
    for (Py_ssize_t k = 0; k < nfits; k++) {
        const Py_ssize_t *fulls = fullbuf + fits[k].at;
        Py_ssize_t target = find(&g, fulls[0]);
        int one = 1;
        for (Py_ssize_t j = 1; j < fits[k].nfull && one; j++) one = find(&g, fulls[j]) == target;
        if (one) join_groups(&g, target, fits[k].shrt);
    }
    /* each group's longest name (the first of that length) */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t r = find(&g, i);
        if (!names[r] || PyUnicode_GET_LENGTH(ms[i].name) > PyUnicode_GET_LENGTH(names[r]))
            names[r] = ms[i].name;
    }
    /* keys, and the entries in order without repeats (dict.fromkeys) */
    PyObject *seen = n > 8 ? PySet_New(NULL) : NULL;
    int rc = n > 8 && !seen ? -1 : 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++) {
        Py_ssize_t r = find(&g, i);
        PyObject *key = g.known[r] ? Py_NewRef(g.known[r]) : key_of(ms[i].kind, names[r]);
        if (!key) { rc = -1; break; }
        PyList_SET_ITEM(keylist, i, key);
        PyObject *taught[MAX_TAUGHT], **ev = ms[i].ev;
        int nev = ms[i].nev, own = str_eq(key, ms[i].key);
        if (!own) {
            rc = teaches(self, keys, ms[i].kind, ms[i].name, ms[i].own, ms[i].known, key,
                         taught, &nev);
            ev = taught;
        }
        for (int k = 0; rc == 0 && k < nev; k++) {
            PyObject *e = ev[k];
            int had = 0;
            if (seen) {
                had = PySet_Contains(seen, e);
                if (had == 0 && PySet_Add(seen, e) < 0) had = -1;
            } else {
                for (Py_ssize_t j = 0; j < PyList_GET_SIZE(evidence) && !had; j++)
                    had = str_eq(PyList_GET_ITEM(evidence, j), e);
            }
            if (had < 0 || (!had && PyList_Append(evidence, e) < 0)) rc = -1;
        }
        if (!own)
            for (int k = 0; k < nev; k++) Py_DECREF(taught[k]);
    }
    Py_XDECREF(seen);
    if (rc == FALLBACK) *fallback = 1;
    if (rc == 0) out = PyTuple_Pack(3, kinds, keylist, evidence);
done:
    Py_XDECREF(kinds);
    Py_XDECREF(keylist);
    Py_XDECREF(evidence);
    PyMem_Free(distinct);
    PyMem_Free(fullbuf);
    PyMem_Free(gknown);
    PyMem_Free(names);
    PyMem_Free(fits);
    return out;
}

/* Keys.article(text, rows, by_key, single) -> (kinds, keys, evidence) | None */
static PyObject *Keys_article(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[2])
            || !PyDict_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "article(text, rows, by_key, single)");
        return NULL;
    }
    PyObject *text = args[0], *rows = args[1], *keys = args[2], *single = args[3];
    if (!PyList_CheckExact(rows) || !PyUnicode_CheckExact(text)) Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(rows);
    if (n == 0) Py_RETURN_NONE;
    Mention stack[8];
    Mention *ms = n <= 8 ? stack : PyMem_Malloc(sizeof(Mention) * (size_t)n);
    if (!ms) return PyErr_NoMemory();
    memset(ms, 0, sizeof(Mention) * (size_t)n);
    PyObject *out = NULL;
    int fallback = 0, rc = 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++)
        rc = mention(self, keys, single, PyList_GET_ITEM(rows, i), ms + i);
    if (rc == FALLBACK) fallback = 1;
    if (rc) goto done;
    if (n == 1) {
        PyObject *kinds = PyList_New(1), *keylist = PyList_New(1);
        if (kinds && keylist) {
            PyList_SET_ITEM(kinds, 0, Py_NewRef(ms[0].kind));
            PyList_SET_ITEM(keylist, 0, Py_NewRef(ms[0].key));
            PyObject *ev = PyList_New(ms[0].nev);
            for (int k = 0; ev && k < ms[0].nev; k++) PyList_SET_ITEM(ev, k, Py_NewRef(ms[0].ev[k]));
            if (ev) out = PyTuple_Pack(3, kinds, keylist, ev);
            Py_XDECREF(ev);
        }
        Py_XDECREF(kinds);
        Py_XDECREF(keylist);
        goto done;
    }
    out = group(self, keys, single, text, rows, ms, n, &fallback);
done:
    for (Py_ssize_t i = 0; i < n; i++) mention_clear(ms + i);
    if (ms != stack) PyMem_Free(ms);
    if (fallback && !PyErr_Occurred()) { Py_XDECREF(out); Py_RETURN_NONE; }
    return out;
}

/* --- book.AliasBook: learning and roots ---------------------------------------------------- */

/* The book's state, as AliasBook.compiled_state() gives it. */
typedef struct {
    PyObject *entries;   /* set of entries */
    PyObject *aliases;   /* alias key -> set of keys */
    PyObject *names;     /* set of keys named in full */
    PyObject *derived;   /* short key -> set of full keys */
    PyObject *roots;     /* key -> cached root */
    PyObject *through;   /* key -> set of cached keys whose root passed it */
    PyObject *known;     /* "TYPE:form" -> table key */
    PyObject *root;      /* AliasBook.root */
    PyObject *derived_py;  /* book.derived_shorts (for names the compiled one leaves) */
} Book;

static int book_of(PyObject *state, Book *b) {
    if (!PyTuple_Check(state) || PyTuple_GET_SIZE(state) != 9) goto bad;
    PyObject **f = &PyTuple_GET_ITEM(state, 0);
    b->entries = f[0]; b->aliases = f[1]; b->names = f[2]; b->derived = f[3]; b->roots = f[4];
    b->through = f[5]; b->known = f[6]; b->root = f[7]; b->derived_py = f[8];
    if (PySet_Check(b->entries) && PyDict_Check(b->aliases) && PySet_Check(b->names)
            && PyDict_Check(b->derived) && PyDict_Check(b->roots) && PyDict_Check(b->through)
            && PyDict_Check(b->known))
        return 0;
bad:
    PyErr_SetString(PyExc_TypeError, "book state: (entries, aliases, names, derived, roots, "
                    "through, known keys, root, derived_shorts)");
    return -1;
}

/* d.setdefault(key, set()).add(value) */
static int add_to_set_in(PyObject *d, PyObject *key, PyObject *value) {
    PyObject *s = PyDict_GetItemWithError(d, key);
    if (!s) {
        if (PyErr_Occurred()) return -1;
        s = PySet_New(NULL);
        if (!s) return -1;
        int rc = PyDict_SetItem(d, key, s);
        Py_DECREF(s);
        if (rc < 0) return -1;
    }
    return PySet_Add(s, value);
}

/* AliasBook._invalidate: drop the cached roots of keys and, in turn, of every key whose root
 * passed through them. */
static int invalidate(Book *b, PyObject *keys) {
    PyObject *stack = PySequence_List(keys);
    if (!stack) return -1;
    int rc = 0;
    while (rc == 0 && PyList_GET_SIZE(stack)) {
        Py_ssize_t last = PyList_GET_SIZE(stack) - 1;
        PyObject *key = Py_NewRef(PyList_GET_ITEM(stack, last));
        rc = PyList_SetSlice(stack, last, last + 1, NULL);
        int has = rc ? -1 : PyDict_Contains(b->roots, key);
        if (has > 0) rc = PyDict_DelItem(b->roots, key);
        else if (has < 0) rc = -1;
        PyObject *via = rc ? NULL : PyDict_GetItemWithError(b->through, key);
        if (via) {
            Py_INCREF(via);
            rc = PyDict_DelItem(b->through, key);
            PyObject *it = rc ? NULL : PyObject_GetIter(via), *k;
            if (!rc && !it) rc = -1;
            while (it && (k = PyIter_Next(it))) {
                if (PyList_Append(stack, k) < 0) rc = -1;
                Py_DECREF(k);
                if (rc) break;
            }
            if (it && PyErr_Occurred()) rc = -1;
            Py_XDECREF(it);
            Py_DECREF(via);
        } else if (!rc && PyErr_Occurred()) {
            rc = -1;
        }
        Py_DECREF(key);
    }
    Py_DECREF(stack);
    return rc;
}

/* The derived short forms of a full name's key into the book (for short in
 * derived_shorts(key): derived.setdefault(short, set()).add(key)); *touched: a new list of
 * them. 0 or -1. */
static int teach_shorts(Keys *self, Book *b, PyObject *key, PyObject **touched) {
    Py_ssize_t at;
    char kind = key_kind(key, &at);
    *touched = PyList_New(0);
    if (!*touched) return -1;
    if (!kind) return 0;
    PyObject *prefix = PyUnicode_Substring(key, 0, at);  /* "KIND:" */
    PyObject *name = prefix ? PyUnicode_Substring(key, at, PyUnicode_GET_LENGTH(key)) : NULL;
    int rc = -1;
    if (name) {
        Sink k = {self, NULL, u_of(name), 0, b->derived, prefix, key, *touched};
        rc = shorts_of(self, kind == 'P', name, &k);
    }
    if (rc == FALLBACK) {  /* the Python derived_shorts answers (the same forms, and more) */
        PyObject *shorts = PyObject_CallOneArg(b->derived_py, key), *it, *shrt;
        rc = shorts ? 0 : -1;
        it = shorts ? PyObject_GetIter(shorts) : NULL;
        if (shorts && !it) rc = -1;
        while (it && (shrt = PyIter_Next(it))) {
            if (add_to_set_in(b->derived, shrt, key) < 0 || PyList_Append(*touched, shrt) < 0)
                rc = -1;
            Py_DECREF(shrt);
            if (rc) break;
        }
        if (it && PyErr_Occurred()) rc = -1;
        Py_XDECREF(it);
        Py_XDECREF(shorts);
    }
    Py_XDECREF(prefix);
    Py_XDECREF(name);
    if (rc) Py_CLEAR(*touched);
    return rc ? -1 : 0;
}

/* AliasBook.add for one entry: 1 (new), 0 (known or malformed), -1. */
static int book_add(Keys *self, Book *b, PyObject *entry) {
    int known = PySet_Contains(b->entries, entry);
    if (known) return known < 0 ? -1 : 0;
    U u = u_of(entry);
    Py_ssize_t tabs[3], ntabs = 0;
    for (Py_ssize_t i = 0; i < u.len; i++)
        if (AT(u, i) == '\t') {
            if (ntabs == 2) { ntabs = 3; break; }
            tabs[ntabs++] = i;
        }
    Py_UCS4 tag = ntabs && tabs[0] == 1 ? AT(u, 0) : 0;
    PyObject *touched = NULL;
    int rc = 0;
    if (ntabs == 2 && tag == 'A') {  /* A alias_key key */
        PyObject *alias = PyUnicode_Substring(entry, 2, tabs[1]);
        PyObject *key = alias ? PyUnicode_Substring(entry, tabs[1] + 1, u.len) : NULL;
        if (!key) { Py_XDECREF(alias); return -1; }
        if (!str_eq(alias, key)) {
            rc = add_to_set_in(b->aliases, alias, key);
            touched = rc ? NULL : PyTuple_Pack(1, alias);
            if (!rc && !touched) rc = -1;
        }
        Py_DECREF(alias);
        Py_DECREF(key);
    } else if (ntabs == 1 && tag == 'N') {  /* N key */
        PyObject *key = PyUnicode_Substring(entry, 2, u.len);
        if (!key) return -1;
        rc = PySet_Add(b->names, key);
        if (rc == 0) rc = teach_shorts(self, b, key, &touched);
        Py_DECREF(key);
    }
    if (rc || !touched) { Py_XDECREF(touched); return rc ? -1 : 0; }
    rc = PySet_Add(b->entries, entry);
    if (rc == 0) rc = invalidate(b, touched);
    Py_DECREF(touched);
    return rc < 0 ? -1 : 1;
}

/* The root of key: the cached one, or the key itself when nothing leads from it (no alias, no
 * full name it is short for, no table key: AliasBook.root's first test), or book.root(key).
 * New reference. */
static PyObject *root_of(Book *b, PyObject *key) {
    PyObject *got = PyDict_GetItemWithError(b->roots, key);
    if (got && PyObject_IsTrue(got) == 1) return Py_NewRef(got);
    if (PyErr_Occurred()) return NULL;
    int leads = PyDict_Contains(b->aliases, key);
    if (leads == 0) leads = PyDict_Contains(b->derived, key);
    if (leads == 0) leads = PyDict_Contains(b->known, key);
    if (leads < 0) return NULL;
    if (leads) return PyObject_CallOneArg(b->root, key);
    return Py_NewRef(key);  /* not cached: as cheap to find again (AliasBook.root) */
}

/* The entity records of Identity.entities: rows with their kinds and resolved keys. */
static PyObject *records(Book *b, PyObject *rows, PyObject *kinds, PyObject *keys) {
    Py_ssize_t n = PyList_GET_SIZE(rows);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        PyObject *resolved = root_of(b, PyList_GET_ITEM(keys, i)), *canonical = NULL, *d = NULL;
        if (resolved && PyUnicode_Check(resolved)) {
            Py_ssize_t len = PyUnicode_GET_LENGTH(resolved);
            Py_ssize_t at = PyUnicode_FindChar(resolved, ':', 0, len, 1);
            canonical = at == -2 ? NULL
                : at < 0 ? Py_NewRef(s_empty) : PyUnicode_Substring(resolved, at + 1, len);
        } else if (resolved) {
            PyErr_SetString(PyExc_TypeError, "a root is not a string");
        }
        if (canonical) d = PyDict_Copy(record_template);  /* sized for its 7 keys, in order */
        if (d && (PyDict_SetItem(d, s_text, PyTuple_GET_ITEM(row, 0)) < 0
                  || PyDict_SetItem(d, s_type, PyList_GET_ITEM(kinds, i)) < 0
                  || PyDict_SetItem(d, s_start, PyTuple_GET_ITEM(row, 2)) < 0
                  || PyDict_SetItem(d, s_end, PyTuple_GET_ITEM(row, 3)) < 0
                  || PyDict_SetItem(d, s_normalized, PyTuple_GET_ITEM(row, 4)) < 0
                  || PyDict_SetItem(d, s_key, resolved) < 0
                  || PyDict_SetItem(d, s_canonical, canonical) < 0))
            Py_CLEAR(d);
        Py_XDECREF(resolved);
        Py_XDECREF(canonical);
        if (!d) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, d);
    }
    return out;
}

/* Keys.entities(text, rows, by_key, single, learn, book state) -> (records, new entries) | None:
 * Identity.entities with the book's update and roots (the caller bumps the book's version by
 * the number of new entries). None (before any change to the book) for inputs left to Python. */
static PyObject *Keys_entities(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "entities(text, rows, by_key, single, learn, book state)");
        return NULL;
    }
    Book b;
    if (book_of(args[5], &b) < 0) return NULL;
    int learn = PyObject_IsTrue(args[4]);
    if (learn < 0) return NULL;
    PyObject *got = Keys_article(self, args, 4);
    if (!got || got == Py_None) return got;
    PyObject *kinds = PyTuple_GET_ITEM(got, 0), *keys = PyTuple_GET_ITEM(got, 1);
    PyObject *evidence = PyTuple_GET_ITEM(got, 2), *out = NULL;
    PyObject *added = PyList_New(0);
    for (Py_ssize_t i = 0; added && learn && i < PyList_GET_SIZE(evidence); i++) {
        PyObject *e = PyList_GET_ITEM(evidence, i);
        int rc = book_add(self, &b, e);
        if (rc < 0 || (rc > 0 && PyList_Append(added, e) < 0)) Py_CLEAR(added);
    }
    PyObject *recs = added ? records(&b, args[1], kinds, keys) : NULL;
    if (recs) out = PyTuple_Pack(2, recs, added);
    Py_XDECREF(recs);
    Py_XDECREF(added);
    Py_DECREF(got);
    return out;
}

/* --- Keys.bind: Identity.entities as one C call --------------------------------------------- */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Keys *keys;
    PyObject *owner;     /* the Identity: its learn, on_learn and book, read on each call */
    PyObject *by_key, *single, *state, *fallback;
} Bound;

static PyObject *s_learn, *s_on_learn, *s_book, *s_version;

/* bound(text, rows) -> (records, new entries): Keys.entities with the owner's book; the book's
 * version bumped and owner.on_learn called with the new entries, as Identity.entities does;
 * the Python path (fallback) for what Keys.entities leaves to it. */
static PyObject *Bound_vectorcall(Bound *self, PyObject *const *args, size_t nargsf,
                                  PyObject *kwnames) {
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (n != 2 || kwnames || !PyList_CheckExact(args[1]) || !PyUnicode_CheckExact(args[0]))
        return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    if (PyList_GET_SIZE(args[1]) == 0) {  /* no rows: no entities, nothing learned */
        PyObject *a = PyList_New(0), *b = a ? PyList_New(0) : NULL;
        PyObject *out = b ? PyTuple_Pack(2, a, b) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        return out;
    }
    PyObject *learn = PyObject_GetAttr(self->owner, s_learn);
    int on = learn ? PyObject_IsTrue(learn) : -1;
    Py_XDECREF(learn);
    if (on < 0) return NULL;
    PyObject *a[6] = {args[0], args[1], self->by_key, self->single, on ? Py_True : Py_False,
                      self->state};
    PyObject *got = Keys_entities(self->keys, a, 6);
    if (got == Py_None) {
        Py_DECREF(got);
        return PyObject_Vectorcall(self->fallback, args, 2, NULL);
    }
    if (!got) return NULL;
    PyObject *added = PyTuple_GET_ITEM(got, 1);
    if (PyList_GET_SIZE(added)) {  /* book.version += len(new); on_learn(new) */
        PyObject *book = PyObject_GetAttr(self->owner, s_book);
        PyObject *v = book ? PyObject_GetAttr(book, s_version) : NULL;
        PyObject *k = v ? PyLong_FromSsize_t(PyList_GET_SIZE(added)) : NULL;
        PyObject *sum = k ? PyNumber_Add(v, k) : NULL;
        int rc = sum ? PyObject_SetAttr(book, s_version, sum) : -1;
        Py_XDECREF(book); Py_XDECREF(v); Py_XDECREF(k); Py_XDECREF(sum);
        PyObject *hook = rc == 0 ? PyObject_GetAttr(self->owner, s_on_learn) : NULL;
        if (hook && hook != Py_None) {
            PyObject *r = PyObject_CallOneArg(hook, added);
            if (!r) rc = -1;
            Py_XDECREF(r);
        }
        if (!hook) rc = -1;
        Py_XDECREF(hook);
        if (rc) { Py_DECREF(got); return NULL; }
    }
    return got;
}

static void Bound_dealloc(Bound *self) {
    Py_XDECREF(self->keys);
    Py_XDECREF(self->owner);
    Py_XDECREF(self->by_key);
    Py_XDECREF(self->single);
    Py_XDECREF(self->state);
    Py_XDECREF(self->fallback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject BoundType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "workers.identity._article.Bound",
    .tp_basicsize = sizeof(Bound),
    .tp_dealloc = (destructor)Bound_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Bound, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_doc = "Identity.entities bound to one Identity (Keys.bind)",
};

/* Keys.bind(owner, by_key, single, book state, fallback) -> bound(text, rows) */
static PyObject *Keys_bind(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
            || !PyTuple_Check(args[3]) || !PyCallable_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "bind(owner, by_key, single, book state, fallback)");
        return NULL;
    }
    Book b;
    if (book_of(args[3], &b) < 0) return NULL;
    Bound *bound = PyObject_New(Bound, &BoundType);
    if (!bound) return NULL;
    bound->vectorcall = (vectorcallfunc)Bound_vectorcall;
    bound->keys = (Keys *)Py_NewRef(self);
    bound->owner = Py_NewRef(args[0]);
    bound->by_key = Py_NewRef(args[1]);
    bound->single = Py_NewRef(args[2]);
    bound->state = Py_NewRef(args[3]);
    bound->fallback = Py_NewRef(args[4]);
    return (PyObject *)bound;
}

/* Keys.update(entries, book state) -> the new ones: AliasBook.update (the caller bumps the
 * book's version by their number). */
static PyObject *Keys_update(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    Book b;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "update(entries, book state)");
        return NULL;
    }
    if (book_of(args[1], &b) < 0) return NULL;
    PyObject *it = PyObject_GetIter(args[0]), *e;
    PyObject *added = it ? PyList_New(0) : NULL;
    while (added && (e = PyIter_Next(it))) {
        int rc = PyUnicode_Check(e) ? book_add(self, &b, e) : -2;
        if (rc == -2) PyErr_SetString(PyExc_TypeError, "an entry is not a string");
        if (rc < 0 || (rc > 0 && PyList_Append(added, e) < 0)) Py_CLEAR(added);
        Py_DECREF(e);
    }
    if (added && PyErr_Occurred()) Py_CLEAR(added);
    Py_XDECREF(it);
    return added;
}

/* Keys.derived_shorts(key) -> frozenset | None (book.derived_shorts) */
static PyObject *Keys_derived_shorts(Keys *self, PyObject *key) {
    if (!PyUnicode_CheckExact(key)) Py_RETURN_NONE;
    int fallback = 0;
    PyObject *out = derived(self, key, &fallback);
    if (!out && fallback && !PyErr_Occurred()) Py_RETURN_NONE;
    return out;
}

/* Keys.abbreviates(short, full, kind) -> bool | None (names.abbreviates) */
static PyObject *Keys_abbreviates(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyUnicode_CheckExact(args[0]) || !PyUnicode_CheckExact(args[1])
            || !PyUnicode_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "abbreviates(short, full, kind): three strings");
        return NULL;
    }
    int r = abbreviates(self, args[0], args[1], args[2]);
    if (r == FALLBACK) Py_RETURN_NONE;
    if (r < 0) return NULL;
    return PyBool_FromLong(r);
}

static int nonempty_str(PyObject *s) {  /* a table's tail: name[:-len("")] would be "" */
    return PyUnicode_CheckExact(s) && PyUnicode_GET_LENGTH(s) > 0;
}

static int Keys_init(Keys *self, PyObject *args, PyObject *kwds) {
    PyObject *normalize, *tails, *as_prefix, *tail_abbrs, *generic;
    Py_ssize_t max_short, max_run;
    if (!PyArg_ParseTuple(args, "OO!O!O!O!nn", &normalize, &PyTuple_Type, &tails, &PyTuple_Type,
                          &as_prefix, &PyTuple_Type, &tail_abbrs, &PyFrozenSet_Type, &generic,
                          &max_short, &max_run))
        return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tails); i++)
        if (!nonempty_str(PyTuple_GET_ITEM(tails, i))) goto bad;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(as_prefix); i++) {
        PyObject *item = PyTuple_GET_ITEM(as_prefix, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2
                || !nonempty_str(PyTuple_GET_ITEM(item, 0))
                || !PyUnicode_CheckExact(PyTuple_GET_ITEM(item, 1)))
            goto bad;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tail_abbrs); i++) {
        PyObject *item = PyTuple_GET_ITEM(tail_abbrs, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2
                || !nonempty_str(PyTuple_GET_ITEM(item, 0))
                || !PyTuple_Check(PyTuple_GET_ITEM(item, 1)))
            goto bad;
        PyObject *abbrs = PyTuple_GET_ITEM(item, 1);
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(abbrs); k++)
            if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(abbrs, k))) goto bad;
    }
    PyObject *tail_set = PyFrozenSet_New(tails);
    if (!tail_set) return -1;
    PyObject *ends = PyList_New(0);  /* the tails' last characters */
    PyObject *groups[3] = {tails, as_prefix, tail_abbrs};
    for (int g = 0; ends && g < 3; g++)
        for (Py_ssize_t i = 0; ends && i < PyTuple_GET_SIZE(groups[g]); i++) {
            PyObject *t = PyTuple_GET_ITEM(groups[g], i);
            if (g) t = PyTuple_GET_ITEM(t, 0);
            PyObject *last = PyUnicode_Substring(t, PyUnicode_GET_LENGTH(t) - 1, PyUnicode_GET_LENGTH(t));
            if (!last || PyList_Append(ends, last) < 0) Py_CLEAR(ends);
            Py_XDECREF(last);
        }
    PyObject *tail_ends = ends ? PyUnicode_Join(s_empty, ends) : NULL;
    Py_XDECREF(ends);
    if (!tail_ends) { Py_DECREF(tail_set); return -1; }
    Py_XSETREF(self->tail_ends, tail_ends);
    Py_XSETREF(self->normalize, Py_NewRef(normalize));
    Py_XSETREF(self->tails, Py_NewRef(tails));
    Py_XSETREF(self->tail_set, tail_set);
    Py_XSETREF(self->as_prefix, Py_NewRef(as_prefix));
    Py_XSETREF(self->tail_abbrs, Py_NewRef(tail_abbrs));
    Py_XSETREF(self->generic, Py_NewRef(generic));
    self->max_short = max_short;
    self->max_run = max_run;
    return 0;
bad:
    PyErr_SetString(PyExc_TypeError,
                    "Keys(normalize, tails, ((tail, abbr), ...), ((tail, (abbr, ...)), ...), "
                    "generic, max_short, max_run)");
    return -1;
}

static int Keys_ready(Keys *self) {
    if (self->tails) return 1;
    PyErr_SetString(PyExc_RuntimeError, "Keys was not initialised");
    return 0;
}

static PyObject *Keys_article_checked(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    return Keys_ready(self) ? Keys_article(self, args, nargs) : NULL;
}

static PyObject *Keys_entities_checked(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    return Keys_ready(self) ? Keys_entities(self, args, nargs) : NULL;
}

static PyObject *Keys_bind_checked(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    return Keys_ready(self) ? Keys_bind(self, args, nargs) : NULL;
}

static PyObject *Keys_update_checked(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    return Keys_ready(self) ? Keys_update(self, args, nargs) : NULL;
}

static PyObject *Keys_derived_checked(Keys *self, PyObject *key) {
    return Keys_ready(self) ? Keys_derived_shorts(self, key) : NULL;
}

static PyObject *Keys_abbreviates_checked(Keys *self, PyObject *const *args, Py_ssize_t nargs) {
    return Keys_ready(self) ? Keys_abbreviates(self, args, nargs) : NULL;
}

static void Keys_dealloc(Keys *self) {
    Py_XDECREF(self->normalize);
    Py_XDECREF(self->tails);
    Py_XDECREF(self->tail_set);
    Py_XDECREF(self->as_prefix);
    Py_XDECREF(self->tail_abbrs);
    Py_XDECREF(self->generic);
    Py_XDECREF(self->tail_ends);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Keys_methods[] = {
    {"article", (PyCFunction)(void (*)(void))Keys_article_checked, METH_FASTCALL,
     "article(text, rows, by_key, single) -> (kinds, keys, evidence) | None: article.group"},
    {"entities", (PyCFunction)(void (*)(void))Keys_entities_checked, METH_FASTCALL,
     "entities(text, rows, by_key, single, learn, book state) -> (records, new) | None"},
    {"bind", (PyCFunction)(void (*)(void))Keys_bind_checked, METH_FASTCALL,
     "bind(owner, by_key, single, book state, fallback) -> owner.entities as one C call"},
    {"update", (PyCFunction)(void (*)(void))Keys_update_checked, METH_FASTCALL,
     "update(entries, book state) -> the new entries: AliasBook.update"},
    {"derived_shorts", (PyCFunction)Keys_derived_checked, METH_O,
     "derived_shorts(key) -> frozenset | None: book.derived_shorts"},
    {"abbreviates", (PyCFunction)(void (*)(void))Keys_abbreviates_checked, METH_FASTCALL,
     "abbreviates(short, full, kind) -> bool | None: names.abbreviates"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KeysType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "workers.identity._article.Keys",
    .tp_basicsize = sizeof(Keys),
    .tp_dealloc = (destructor)Keys_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Compiled article keys (see workers/identity/compiled.py)",
    .tp_methods = Keys_methods,
    .tp_init = (initproc)Keys_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_article", "Compiled twin of workers.identity.article", -1, NULL,
};

static int init_strings(void) {
    s_person = PyUnicode_InternFromString("PERSON");
    s_org = PyUnicode_InternFromString("ORGANIZATION");
    s_location = PyUnicode_InternFromString("LOCATION");
    s_nfkc = PyUnicode_InternFromString("NFKC");
    s_empty = PyUnicode_InternFromString("");
    s_colon = PyUnicode_InternFromString(":");
    s_tab = PyUnicode_InternFromString("\t");
    s_name_tab = PyUnicode_InternFromString("N\t");
    s_alias_tab = PyUnicode_InternFromString("A\t");
    s_text = PyUnicode_InternFromString("text");
    s_type = PyUnicode_InternFromString("type");
    s_start = PyUnicode_InternFromString("start");
    s_end = PyUnicode_InternFromString("end");
    s_normalized = PyUnicode_InternFromString("normalized");
    s_key = PyUnicode_InternFromString("key");
    s_canonical = PyUnicode_InternFromString("canonical");
    s_learn = PyUnicode_InternFromString("learn");
    s_on_learn = PyUnicode_InternFromString("on_learn");
    s_book = PyUnicode_InternFromString("book");
    s_version = PyUnicode_InternFromString("version");
    if (!s_learn || !s_on_learn || !s_book || !s_version) return -1;
    record_template = PyDict_New();
    PyObject *fields[7] = {s_text, s_type, s_start, s_end, s_normalized, s_key, s_canonical};
    for (int i = 0; record_template && i < 7; i++)
        if (!fields[i] || PyDict_SetItem(record_template, fields[i], Py_None) < 0)
            Py_CLEAR(record_template);
    return record_template && s_person && s_org && s_location && s_nfkc && s_empty && s_colon && s_tab && s_name_tab
        && s_alias_tab && s_text && s_type && s_start && s_end && s_normalized && s_key
        && s_canonical ? 0 : -1;
}

PyMODINIT_FUNC PyInit__article(void) {
    if (PyType_Ready(&KeysType) < 0 || PyType_Ready(&BoundType) < 0 || init_strings() < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&KeysType);
    if (PyModule_AddObject(m, "Keys", (PyObject *)&KeysType) < 0) {
        Py_DECREF(&KeysType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
