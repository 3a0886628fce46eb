/* Linear-time bounds on a page's markup before lexbor parses it (see markup.py for the why).
 *
 * Lexbor follows the HTML tree-construction algorithm, several steps of which walk the stack of
 * open elements, the list of active formatting elements or an element's attributes for every
 * token: 100,000 nested <div>s take it ~23 s, 8,000 <p><b id=N>x</p> ~30 s, 30,000 attributes
 * on one tag ~2 s. Browsers bound these (Blink: 512 nested elements); lexbor does not. This
 * module tokenizes the page once (data, tags with quoted attributes, comments, raw text and
 * script escapes, CDATA in foreign content) and keeps a model of lexbor's stack of open elements
 * that never pops more than lexbor would (scope rules of the spec, checked in O(1) through
 * per-entry indices), so its depth is an upper bound of lexbor's. It returns the ranges to cut
 * so that, in the page lexbor then sees:
 *   - the stack of open elements stays below max_depth (deeper start tags are cut, and as many
 *     of the end tags of the same name that follow);
 *   - at most max_formatting formatting elements (b, i, font, ...) are open or waiting to be
 *     reconstructed after the last marker;
 *   - a <select> holds at most max_options <option>/<optgroup> tags (lexbor is quadratic there);
 *   - a tag keeps at most max_attrs attributes.
 * Text is never cut: only tags and attributes. A page within the bounds yields no ranges.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- element names ------------------------------------------------------------------------ */

enum {
    N_VOID = 1 << 0,       /* never pushed */
    N_RAWTEXT = 1 << 1,    /* script style xmp iframe noembed noframes textarea title */
    N_SPECIAL = 1 << 2,    /* the spec's "special" category (HTML namespace) */
    N_SCOPE = 1 << 3,      /* bounds "has an element in scope" */
    N_TABLESCOPE = 1 << 4, /* bounds "in table scope" */
    N_CLOSES_P = 1 << 5,   /* start tag closes a <p> in button scope */
    N_HEADING = 1 << 6,
    N_FORMATTING = 1 << 7,
    N_MARKER = 1 << 8,     /* pushes a marker on the list of active formatting elements */
    N_BLOCK_END = 1 << 9,  /* end tag pops to it when it is in scope */
    N_BREAKOUT = 1 << 10,  /* start tag leaves foreign content */
    N_IGNORED = 1 << 11,   /* html head body frameset: never pushed */
    N_ADP = 1 << 12,       /* address div p: li/dd/dt look past these specials */
    N_RECON = 1 << 13,     /* special, yet its start tag reopens formatting elements */
};

enum {
    K_OTHER, K_P, K_LI, K_DD, K_DT, K_A, K_NOBR, K_BUTTON, K_OPTION, K_OPTGROUP, K_SELECT,
    K_TABLE, K_SECTION, K_TR, K_CELL, K_CAPTION, K_COLGROUP, K_FORM, K_TEMPLATE, K_SVG,
    K_MATH, K_FONT, K_SCRIPT, K_PLAINTEXT, K_SVG_IP, K_MATH_TEXT_IP, K_ANNOTATION_XML,
    K_MGLYPH, K_OLUL, K_RUBY, K_RB_RTC, K_RP_RT,
};

typedef struct {
    const char *name;
    uint16_t flags;
    uint8_t kind;
} Known;

#define SP N_SPECIAL
#define SC (N_SPECIAL | N_SCOPE)
#define BE (N_SPECIAL | N_BLOCK_END)
#define CP N_CLOSES_P
#define FM N_FORMATTING
#define BO N_BREAKOUT
#define VD (N_VOID | N_SPECIAL)

/* Sorted by name (binary search). Foreign-only names (svg, math, their integration points)
 * carry no HTML flags; their behaviour comes from the kind. */
static const Known KNOWN[] = {
    {"a", FM, K_A},
    {"address", BE | CP | N_ADP, K_OTHER},
    {"annotation-xml", 0, K_ANNOTATION_XML},
    {"applet", SC | N_BLOCK_END | N_MARKER | N_RECON, K_OTHER},
    {"area", VD | N_RECON, K_OTHER},
    {"article", BE | CP, K_OTHER},
    {"aside", BE | CP, K_OTHER},
    {"b", FM | BO, K_OTHER},
    {"base", VD, K_OTHER},
    {"basefont", VD, K_OTHER},
    {"bgsound", VD, K_OTHER},
    {"big", FM | BO, K_OTHER},
    {"blockquote", BE | CP | BO, K_OTHER},
    {"body", SP | N_IGNORED | BO, K_OTHER},
    {"br", VD | BO | N_RECON, K_OTHER},
    {"button", BE | N_RECON, K_BUTTON},
    {"caption", SC | N_MARKER, K_CAPTION},
    {"center", BE | CP | BO, K_OTHER},
    {"code", FM | BO, K_OTHER},
    {"col", VD, K_OTHER},
    {"colgroup", SP, K_COLGROUP},
    {"dd", SP | CP | BO, K_DD},
    {"desc", 0, K_SVG_IP},
    {"details", BE | CP, K_OTHER},
    {"dialog", N_BLOCK_END | CP, K_OTHER}, /* not "special" */
    {"dir", BE | CP, K_OTHER},
    {"div", BE | CP | BO | N_ADP, K_OTHER},
    {"dl", BE | CP | BO, K_OTHER},
    {"dt", SP | CP | BO, K_DT},
    {"em", FM | BO, K_OTHER},
    {"embed", VD | BO | N_RECON, K_OTHER},
    {"fieldset", BE | CP, K_OTHER},
    {"figcaption", BE | CP, K_OTHER},
    {"figure", BE | CP, K_OTHER},
    {"font", FM, K_FONT},
    {"footer", BE | CP, K_OTHER},
    {"foreignobject", 0, K_SVG_IP},
    {"form", SP | CP, K_FORM},
    {"frame", VD, K_OTHER},
    {"frameset", SP | N_IGNORED, K_OTHER},
    {"h1", SP | CP | N_HEADING | BO, K_OTHER},
    {"h2", SP | CP | N_HEADING | BO, K_OTHER},
    {"h3", SP | CP | N_HEADING | BO, K_OTHER},
    {"h4", SP | CP | N_HEADING | BO, K_OTHER},
    {"h5", SP | CP | N_HEADING | BO, K_OTHER},
    {"h6", SP | CP | N_HEADING | BO, K_OTHER},
    {"head", SP | N_IGNORED | BO, K_OTHER},
    {"header", BE | CP, K_OTHER},
    {"hgroup", BE | CP, K_OTHER},
    {"hr", VD | CP | BO, K_OTHER},
    {"html", SC | N_TABLESCOPE | N_IGNORED, K_OTHER},
    {"i", FM | BO, K_OTHER},
    {"iframe", SP | N_RAWTEXT, K_OTHER},
    {"image", N_VOID, K_OTHER},
    {"img", VD | BO | N_RECON, K_OTHER},
    {"input", VD | N_RECON, K_OTHER},
    {"keygen", VD | N_RECON, K_OTHER},
    {"li", SP | CP | BO, K_LI},
    {"link", VD, K_OTHER},
    {"listing", BE | CP | BO, K_OTHER},
    {"main", BE | CP, K_OTHER},
    {"malignmark", 0, K_MGLYPH},
    {"marquee", SC | N_BLOCK_END | N_MARKER | N_RECON, K_OTHER},
    {"math", 0, K_MATH},
    {"menu", BE | CP | BO, K_OTHER},
    {"meta", VD | BO, K_OTHER},
    {"mglyph", 0, K_MGLYPH},
    {"mi", 0, K_MATH_TEXT_IP},
    {"mn", 0, K_MATH_TEXT_IP},
    {"mo", 0, K_MATH_TEXT_IP},
    {"ms", 0, K_MATH_TEXT_IP},
    {"mtext", 0, K_MATH_TEXT_IP},
    {"nav", BE | CP, K_OTHER},
    {"nobr", FM | BO, K_NOBR},
    {"noembed", SP | N_RAWTEXT, K_OTHER},
    {"noframes", SP | N_RAWTEXT, K_OTHER},
    {"noscript", SP, K_OTHER},
    {"object", SC | N_BLOCK_END | N_MARKER | N_RECON, K_OTHER},
    {"ol", BE | CP | BO, K_OLUL},
    {"optgroup", 0, K_OPTGROUP},
    {"option", 0, K_OPTION},
    {"p", SP | CP | BO | N_ADP, K_P},
    {"param", VD, K_OTHER},
    {"plaintext", SP | CP, K_PLAINTEXT},
    {"pre", BE | CP | BO, K_OTHER},
    {"rb", 0, K_RB_RTC},
    {"rp", 0, K_RP_RT},
    {"rt", 0, K_RP_RT},
    {"rtc", 0, K_RB_RTC},
    {"ruby", BO, K_RUBY},
    {"s", FM | BO, K_OTHER},
    {"script", SP | N_RAWTEXT, K_SCRIPT},
    {"search", BE | CP, K_OTHER},
    {"section", BE | CP, K_OTHER},
    {"select", SC | N_TABLESCOPE | N_RECON, K_SELECT}, /* lexbor keeps any content in it */
    {"small", FM | BO, K_OTHER},
    {"source", VD, K_OTHER},
    {"span", BO, K_OTHER},
    {"strike", FM | BO, K_OTHER},
    {"strong", FM | BO, K_OTHER},
    {"style", SP | N_RAWTEXT, K_OTHER},
    {"sub", BO, K_OTHER},
    {"summary", BE | CP, K_OTHER},
    {"sup", BO, K_OTHER},
    {"svg", 0, K_SVG},
    {"table", SC | N_TABLESCOPE | BO, K_TABLE},
    {"tbody", SP, K_SECTION},
    {"td", SC | N_MARKER, K_CELL},
    {"template", SC | N_TABLESCOPE | N_MARKER, K_TEMPLATE},
    {"textarea", SP | N_RAWTEXT, K_OTHER},
    {"tfoot", SP, K_SECTION},
    {"th", SC | N_MARKER, K_CELL},
    {"thead", SP, K_SECTION},
    {"title", SP | N_RAWTEXT, K_SVG_IP},
    {"tr", SP, K_TR},
    {"track", VD, K_OTHER},
    {"tt", FM | BO, K_OTHER},
    {"u", FM | BO, K_OTHER},
    {"ul", BE | CP | BO, K_OLUL},
    {"var", BO, K_OTHER},
    {"wbr", VD | N_RECON, K_OTHER},
    {"xmp", SP | N_RAWTEXT | CP | N_RECON, K_OTHER},
};
#define NKNOWN ((int)(sizeof(KNOWN) / sizeof(KNOWN[0])))

/* Names not in KNOWN get ids NKNOWN .. NKNOWN + MAX_DYNAMIC - 1 per call; past that, one id
 * that no end tag matches (such an element is then never popped: the bound only grows). */
#define MAX_DYNAMIC 1024
#define ID_UNMATCHED (NKNOWN + MAX_DYNAMIC)
#define ID_REMOVED (ID_UNMATCHED + 1) /* an entry lexbor took out of the middle of its stack */
#define NIDS (ID_REMOVED + 1)
#define TAG_NAME_MAX 64
#define NFORMAT 14 /* a b big code em font i nobr s small strike strong tt u */

/* ---- the model ---------------------------------------------------------------------------- */

typedef struct {
    int32_t id;        /* name id; foreign elements use their own ids in fid */
    int32_t fid;       /* name id of a foreign element, -1 for HTML elements */
    int32_t prev_same; /* next entry below with the same id, -1 */
    /* index of the topmost entry at or below this one that bounds each kind of scope */
    int32_t scope, button, list, table, select, special, special_nadp;
    int32_t level;     /* list level its formatting entry is in (with gen: that level's) */
    uint32_t gen;
    uint8_t ns;        /* 0 HTML, 1 SVG, 2 MathML */
    uint8_t ip;        /* 1 HTML integration point, 2 MathML text integration point */
    int8_t fmt;        /* formatting entry index when this element holds a list entry, -1 */
    uint8_t marker_el; /* its insertion put a marker on the list */
    uint8_t colmode;   /* a <template> whose contents are in "in column group" mode */
} Entry;

/* Lexbor's list of active formatting elements, as levels: a marker (pushed with td, th,
 * caption, object, applet, marquee, template) starts one, "clear to the last marker" (their
 * own end tags, closing a cell or caption) drops the last one; popped otherwise, a marker
 * stays in the list. Per level: its formatting elements per name, and how many of them are on
 * the stack (the others are reopened, "reconstructed", by the next text or inline tag). */
typedef struct {
    int32_t fmt[NFORMAT], on[NFORMAT];
    int32_t total, on_total;
    uint32_t gen;
} Level;
#define MAX_LEVELS 256

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
    /* stack */
    Entry *stack;
    int sp, cap;
    int32_t *head;     /* id -> topmost stack index, -1 */
    int32_t *dropped;  /* id -> end tags still to cut */
    Level *levels; /* levels[nlevels - 1]: after the last marker (CUR) */
    int nlevels;
    uint32_t next_gen;
    int clear_for; /* stack index of a marker element whose own end tag is being processed */
    int form_pointer; /* lexbor's form element pointer is set: a further <form> is ignored */
    int32_t options; /* <option>/<optgroup> tags inside the current <select> */
    /* dynamic names: (hash, start, len) into the page */
    struct {
        uint32_t hash;
        Py_ssize_t start;
        int32_t len;
        int32_t id;
    } * dyn;
    int ndyn;
    /* bounds */
    int max_depth, max_fmt, max_options, max_attrs;
    /* output */
    PyObject *cuts;
    Py_ssize_t cut_start, cut_end; /* pending range, merged with adjacent ones */
    Py_ssize_t elements_cut, attrs_cut;
} Model;

#define AT(m, i) PyUnicode_READ((m)->kind, (m)->data, (i))
#define CUR(m) (&(m)->levels[(m)->nlevels - 1])

static int known_id(const char *buf, int len);
static int FMT_ID[NFORMAT]; /* formatting entry index -> name id */

static int fmt_index(int id) {
    static int table[NKNOWN];
    static int ready = 0;
    if (!ready) {
        static const char *names[NFORMAT] = {"a", "b", "big", "code", "em", "font", "i",
                                             "nobr", "s", "small", "strike", "strong", "tt", "u"};
        for (int i = 0; i < NKNOWN; i++) {
            table[i] = -1;
            for (int f = 0; f < NFORMAT; f++)
                if (strcmp(KNOWN[i].name, names[f]) == 0) table[i] = f;
        }
        for (int f = 0; f < NFORMAT; f++) FMT_ID[f] = known_id(names[f], (int)strlen(names[f]));
        ready = 1;
    }
    return id < NKNOWN ? table[id] : -1;
}

static inline uint16_t flags_of(int id) { return id < NKNOWN ? KNOWN[id].flags : 0; }
static inline int kind_of(int id) { return id < NKNOWN ? KNOWN[id].kind : K_OTHER; }

/* A cut right after a '<' of text gets a space in its place: the text after the cut could
 * otherwise make a new tag with that '<' ("<<b>x" with <b> cut is "< x", not "<x"). */
static int flush_cut(Model *m) {
    if (m->cut_end <= m->cut_start) return 0;
    Py_ssize_t s = m->cut_start;
    int space = s > 0 && PyUnicode_READ(m->kind, m->data, s - 1) == '<';
    PyObject *a = PyLong_FromSsize_t(s), *b = PyLong_FromSsize_t(m->cut_end);
    PyObject *c = PyBool_FromLong(space);
    int bad = !a || !b || PyList_Append(m->cuts, a) < 0 || PyList_Append(m->cuts, b) < 0 ||
              PyList_Append(m->cuts, c) < 0;
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    m->cut_start = m->cut_end = 0;
    return bad ? -1 : 0;
}

/* Cut [start, end) from the page (ranges come in increasing order). */
static int cut(Model *m, Py_ssize_t start, Py_ssize_t end) {
    if (end <= start) return 0;
    if (m->cut_end > m->cut_start && start <= m->cut_end) {
        /* adjacent, or a whole tag over the cut of its own attributes */
        if (start < m->cut_start) m->cut_start = start;
        if (end > m->cut_end) m->cut_end = end;
        return 0;
    }
    if (flush_cut(m) < 0) return -1;
    m->cut_start = start;
    m->cut_end = end;
    return 0;
}

static inline Py_UCS4 lower(Py_UCS4 c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static inline int is_space(Py_UCS4 c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
static inline int is_alpha(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Case-insensitive match of the ASCII word at position i. */
static int match_word(Model *m, Py_ssize_t i, const char *word) {
    for (; *word; word++, i++) {
        if (i >= m->n || lower(AT(m, i)) != (Py_UCS4)*word) return 0;
    }
    return 1;
}

/* Case-sensitive match of the ASCII text at position i. */
static int match_exact(Model *m, Py_ssize_t i, const char *text) {
    for (; *text; text++, i++) {
        if (i >= m->n || AT(m, i) != (Py_UCS4)*text) return 0;
    }
    return 1;
}

static int known_id(const char *buf, int len) {
    int lo = 0, hi = NKNOWN - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strncmp(KNOWN[mid].name, buf, (size_t)len);
        if (c == 0 && KNOWN[mid].name[len] != '\0') c = 1;
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The id of the tag name at [start, start + len). */
static int name_id(Model *m, Py_ssize_t start, Py_ssize_t len) {
    if (len > TAG_NAME_MAX) return ID_UNMATCHED;
    char buf[TAG_NAME_MAX + 1];
    int ascii = 1;
    uint32_t hash = 2166136261u;
    for (Py_ssize_t k = 0; k < len; k++) {
        Py_UCS4 c = lower(AT(m, start + k));
        if (c > 127) ascii = 0;
        buf[k] = (char)c;
        hash = (hash ^ c) * 16777619u;
    }
    buf[len] = '\0';
    if (ascii) {
        int id = known_id(buf, (int)len);
        if (id >= 0) return id;
    }
    for (int d = 0; d < m->ndyn; d++) {
        if (m->dyn[d].hash != hash || m->dyn[d].len != len) continue;
        Py_ssize_t s = m->dyn[d].start;
        Py_ssize_t k = 0;
        while (k < len && lower(AT(m, s + k)) == lower(AT(m, start + k))) k++;
        if (k == len) return m->dyn[d].id;
    }
    if (m->ndyn >= MAX_DYNAMIC) return ID_UNMATCHED;
    int d = m->ndyn++;
    m->dyn[d].hash = hash;
    m->dyn[d].start = start;
    m->dyn[d].len = (int32_t)len;
    m->dyn[d].id = NKNOWN + d;
    return NKNOWN + d;
}

static Entry *top(Model *m) { return &m->stack[m->sp - 1]; }

/* Push an element (the caller checked the depth bound). An opaque entry stands for an element
 * lexbor may or may not have inserted: it bounds every scope (nothing below it is popped
 * through it) and no end tag matches it, so an uncertain guess can only overestimate. */
#define OPAQUE (-2)
static void push(Model *m, int id, int ns, int fid, int ip) {
    Entry *below = m->sp ? top(m) : NULL;
    Entry *e = &m->stack[m->sp];
    int idx = m->sp++;
    int opaque = id == OPAQUE;
    if (opaque) id = ID_UNMATCHED;
    uint16_t fl = ns ? 0 : flags_of(id);
    int boundary, special;
    if (ns) { /* foreign: integration points bound scopes and are special */
        boundary = special = ip != 0;
    } else {
        boundary = opaque || (fl & N_SCOPE) != 0;
        special = opaque || (fl & N_SPECIAL) != 0;
    }
    int k = ns ? K_OTHER : kind_of(id);
    e->id = ns ? ID_UNMATCHED : id;
    e->fid = ns ? fid : -1;
    e->ns = (uint8_t)ns;
    e->ip = (uint8_t)ip;
    e->scope = boundary ? idx : (below ? below->scope : 0);
    e->button = (boundary || k == K_BUTTON) ? idx : (below ? below->button : 0);
    e->list = (boundary || k == K_OLUL) ? idx : (below ? below->list : 0);
    e->table = (!ns && (opaque || (fl & N_TABLESCOPE))) ? idx : (below ? below->table : 0);
    e->select = (ns || (k != K_OPTION && k != K_OPTGROUP)) ? idx : (below ? below->select : 0);
    e->special = special ? idx : (below ? below->special : 0);
    e->special_nadp = (special && !(fl & N_ADP)) ? idx : (below ? below->special_nadp : 0);
    e->prev_same = m->head[e->id];
    m->head[e->id] = idx;
    e->fmt = -1;
    e->level = -1;
    e->gen = 0;
    e->marker_el = !ns && (fl & N_MARKER);
    e->colmode = 0;
    if (e->marker_el && m->nlevels < MAX_LEVELS) {
        Level *lv = &m->levels[m->nlevels++];
        memset(lv, 0, sizeof(*lv));
        lv->gen = ++m->next_gen;
    }
    if (!ns && k == K_SELECT) m->options = 0;
}

/* The level entry e's formatting element is in, if that level is still in the list. */
static Level *entry_level(Model *m, const Entry *e) {
    if (e->fmt < 0 || e->level < 0 || e->level >= m->nlevels) return NULL;
    Level *lv = &m->levels[e->level];
    return lv->gen == e->gen ? lv : NULL;
}

/* e leaves the stack: its list entry (if any) stays, to be reopened by the next text. */
static void off_stack(Model *m, Entry *e) {
    Level *lv = entry_level(m, e);
    if (lv != NULL) {
        lv->on[e->fmt]--;
        lv->on_total--;
    }
    e->fmt = -1;
}

/* e takes a new entry (name f) in the list after the last marker, and is on the stack. */
static void on_stack(Model *m, Entry *e, int f) {
    Level *lv = CUR(m);
    e->fmt = (int8_t)f;
    e->level = m->nlevels - 1;
    e->gen = lv->gen;
    lv->on[f]++;
    lv->on_total++;
}

/* Whether stack entry x holds an entry of the list after its last marker. */
static int after_last_marker(Model *m, int x) {
    const Entry *e = &m->stack[x];
    return e->level == m->nlevels - 1 && entry_level(m, e) != NULL;
}

static void pop(Model *m) {
    Entry *e = top(m);
    m->head[e->id] = e->prev_same;
    off_stack(m, e);
    if (e->marker_el && m->nlevels > 1) {
        /* one clear per operation: closing a cell or caption, or the end tag of a marker
         * element (which pops a cell inside it without a clear of its own) */
        int k = kind_of(e->id);
        int cell = (k == K_CELL || k == K_CAPTION) && m->clear_for < 0;
        if (cell || m->sp - 1 == m->clear_for) m->nlevels--;
    }
    m->sp--;
}

/* Put back foreign entries popped above the current top (still in the array): only for
 * entries without saved formatting counts, which foreign entries never have. */
static void unpop(Model *m, int old_sp) {
    while (m->sp < old_sp) {
        Entry *e = &m->stack[m->sp];
        e->prev_same = m->head[e->id];
        m->head[e->id] = m->sp;
        m->sp++;
    }
}

/* Take entry j out of the stack's name chains (lexbor removed it from the middle of its stack;
 * it stays here as depth no end tag matches, an overestimate). */
static void remove_entry(Model *m, int j) {
    Entry *e = &m->stack[j];
    int h = m->head[e->id];
    if (h == j) {
        m->head[e->id] = e->prev_same;
    } else {
        while (h >= 0 && m->stack[h].prev_same != j) h = m->stack[h].prev_same;
        if (h >= 0) m->stack[h].prev_same = e->prev_same;
    }
    off_stack(m, e);
    e->id = ID_REMOVED;
    e->prev_same = -1;
}

/* Lexbor's "reconstruct the active formatting elements": the list's elements that are not on
 * the stack are opened again, on top of it (for text and inline start tags). */
static void reconstruct(Model *m) {
    Level *lv = CUR(m);
    if (lv->total <= lv->on_total) return;
    for (int f = 0; f < NFORMAT; f++) {
        while (lv->on[f] < lv->fmt[f] && m->sp < m->cap) {
            push(m, FMT_ID[f], 0, -1, 0);
            on_stack(m, top(m), f);
        }
    }
}

/* Whether lexbor reopens formatting elements before inserting this start tag. */
static int reconstructs(int id) {
    if (id >= NKNOWN) return 1; /* any other start tag */
    uint16_t fl = KNOWN[id].flags;
    int k = KNOWN[id].kind;
    if (fl & (N_FORMATTING | N_RECON)) return 1;
    if (fl & (N_SPECIAL | N_RAWTEXT | N_IGNORED)) return 0;
    return !(k == K_RB_RTC || k == K_RP_RT || k == K_CELL || k == K_TR || k == K_SECTION ||
             k == K_CAPTION || k == K_COLGROUP || k == K_TEMPLATE);
}

/* The adoption agency's outer loop runs at most this many times (the spec's 8). */
#define ADOPTION_LOOPS 8

/* Index of the topmost special element above entry x that the adoption agency reaches (its
 * furthest blocks, one per round), or -1 when it does not get past them all. */
static int adoption_reach(Model *m, int x) {
    int hops = 0, s = -1;
    for (int j = x + 1; j < m->sp; j++) {
        if (m->stack[j].special == j) {
            if (++hops >= ADOPTION_LOOPS) return -1;
            s = j;
        }
    }
    return s;
}

/* The adoption agency with furthest blocks, on the stack: formatting element x leaves it, and
 * so does every element between x and the last furthest block s that is neither special nor
 * in the list of formatting elements (its inner loop); the clone it makes ends up above s and
 * is popped with all above it. */
static void pop_to(Model *m, int k);
static void adoption_apply(Model *m, int x, int s) {
    for (int j = x + 1; j < s; j++) {
        Entry *e = &m->stack[j];
        if (e->special != j && e->fmt < 0 && e->id != ID_REMOVED) remove_entry(m, j);
    }
    remove_entry(m, x);
    pop_to(m, s + 1);
}

/* Pop entries down to and including index k. */
static void pop_to(Model *m, int k) {
    while (m->sp > k && m->sp > 2) pop(m);
}

/* Topmost index of id, if it is at or above the boundary index bound (else -1). */
static inline int in_scope(Model *m, int id, int bound) {
    int h = m->head[id];
    return (h >= 0 && h >= bound) ? h : -1;
}

static int id_of(const char *name) { return known_id(name, (int)strlen(name)); }

static int ID_P, ID_LI, ID_DD, ID_DT, ID_BUTTON, ID_SELECT, ID_OPTION, ID_OPTGROUP, ID_TD,
    ID_TH, ID_TR, ID_TBODY, ID_THEAD, ID_TFOOT, ID_TEMPLATE, ID_HTML, ID_BODY, ID_A, ID_NOBR,
    ID_FORM, ID_COLGROUP, ID_TABLE, ID_RUBY, ID_RTC, ID_COL, ID_BR, ID_INPUT, ID_KEYGEN,
    ID_TEXTAREA, ID_H[6];

static void init_ids(void) {
    ID_P = id_of("p");
    ID_LI = id_of("li");
    ID_DD = id_of("dd");
    ID_DT = id_of("dt");
    ID_BUTTON = id_of("button");
    ID_SELECT = id_of("select");
    ID_OPTION = id_of("option");
    ID_OPTGROUP = id_of("optgroup");
    ID_TD = id_of("td");
    ID_TH = id_of("th");
    ID_TR = id_of("tr");
    ID_TBODY = id_of("tbody");
    ID_THEAD = id_of("thead");
    ID_TFOOT = id_of("tfoot");
    ID_TEMPLATE = id_of("template");
    ID_HTML = id_of("html");
    ID_BODY = id_of("body");
    ID_A = id_of("a");
    ID_NOBR = id_of("nobr");
    ID_FORM = id_of("form");
    ID_COLGROUP = id_of("colgroup");
    ID_TABLE = id_of("table");
    ID_RUBY = id_of("ruby");
    ID_RTC = id_of("rtc");
    ID_COL = id_of("col");
    ID_BR = id_of("br");
    ID_INPUT = id_of("input");
    ID_KEYGEN = id_of("keygen");
    ID_TEXTAREA = id_of("textarea");
    const char *h[6] = {"h1", "h2", "h3", "h4", "h5", "h6"};
    for (int i = 0; i < 6; i++) ID_H[i] = id_of(h[i]);
}

static inline int max2(int a, int b) { return a > b ? a : b; }

/* ---- tree construction (the parts that change the stack's depth) ------------------------- */

/* The stack index the start tag `id` (HTML rules) pops down to before it is inserted, or sp
 * when it pops nothing. Only pops lexbor is certain to make. */
static int start_pops_to(Model *m, int id) {
    int target = m->sp;
    Entry *t = top(m);
    uint16_t fl = flags_of(id);
    int k = kind_of(id);
    if (k == K_LI || k == K_DD || k == K_DT) {
        int h = k == K_LI ? in_scope(m, ID_LI, t->special_nadp)
                          : max2(in_scope(m, ID_DD, t->special_nadp),
                                 in_scope(m, ID_DT, t->special_nadp));
        if (h >= 0) target = h;
    } else if (k == K_BUTTON) {
        int h = in_scope(m, ID_BUTTON, t->scope);
        if (h >= 0) target = h;
    } else if (m->stack[t->table].id == ID_TABLE &&
               (k == K_CELL || k == K_TR || k == K_SECTION || k == K_CAPTION ||
                k == K_COLGROUP || id == ID_COL || (k == K_TABLE && t->scope == t->table))) {
        /* table structure inside a table: lexbor clears the stack back to the table, section
         * or row context first (foster-parented elements go), closing an open cell or row */
        int ctx = t->table;
        int sec = max2(in_scope(m, ID_TBODY, ctx),
                       max2(in_scope(m, ID_THEAD, ctx), in_scope(m, ID_TFOOT, ctx)));
        int row = in_scope(m, ID_TR, ctx);
        if (k == K_CELL)
            target = (row >= 0 ? row : sec >= 0 ? sec : ctx) + 1;
        else if (k == K_TR)
            target = row >= 0 ? row : (sec >= 0 ? sec : ctx) + 1;
        else if (k == K_SECTION)
            target = sec >= 0 ? sec : ctx + 1;
        else if (k == K_TABLE)
            target = ctx; /* a table directly in a table ends it */
        else
            target = ctx + 1;
        if (target < 2) target = 2;
    } else if (k == K_RB_RTC || k == K_RP_RT) {
        /* with a <ruby> in scope: implied end tags (rt/rp keep an open <rtc>) */
        if (in_scope(m, ID_RUBY, t->scope) >= 0) {
            while (target - 1 >= 2) {
                Entry *e = &m->stack[target - 1];
                int ek = kind_of(e->id);
                int implied = !e->ns && (ek == K_P || ek == K_LI || ek == K_DD || ek == K_DT ||
                                         ek == K_OPTION || ek == K_OPTGROUP || ek == K_RB_RTC ||
                                         ek == K_RP_RT);
                if (!implied || (k == K_RP_RT && e->id == ID_RTC)) break;
                target--;
            }
        }
    } else if (k == K_OPTION || k == K_OPTGROUP) {
        if (t->id == ID_OPTION) target = m->sp - 1;
        if (k == K_OPTGROUP && in_scope(m, ID_SELECT, t->select) >= 0) {
            Entry *below = &m->stack[target - 1];
            if (below->id == ID_OPTGROUP && target - 1 >= 2) target -= 1;
        }
    }
    if (id == ID_INPUT) {
        /* <input> ends an open <select> (lexbor pops to it, then inserts it after; lexbor
         * keeps <textarea> and <keygen> in the select) */
        int h = in_scope(m, ID_SELECT, t->scope);
        if (h >= 2 && h < target) target = h;
    }
    if (fl & N_CLOSES_P) {
        /* the <p> in button scope, as seen from the entry below the target */
        Entry *at = &m->stack[target - 1];
        int h = m->head[ID_P];
        while (h >= target) h = m->stack[h].prev_same;
        if (h >= 0 && h >= at->button) target = h;
    }
    if ((fl & N_HEADING) && target - 1 >= 2) {
        Entry *at = &m->stack[target - 1];
        if (!at->ns && (flags_of(at->id) & N_HEADING)) target -= 1;
    }
    return target;
}

static int select_in_table(Model *m, int id, int end);

/* Whether "generate implied end tags" pops this entry. */
static int implied_end(const Entry *e) {
    if (e->ns) return 0;
    int k = kind_of(e->id);
    return k == K_P || k == K_LI || k == K_DD || k == K_DT || k == K_OPTION || k == K_OPTGROUP ||
           k == K_RB_RTC || k == K_RP_RT;
}

/* An end tag of `id` under HTML rules: pop what lexbor certainly pops. */
static void end_tag(Model *m, int id) {
    Entry *t = top(m);
    uint16_t fl = flags_of(id);
    int k = kind_of(id);
    int h = -1;
    if (id == ID_BR) { /* </br> is a <br>, which reopens formatting elements */
        reconstruct(m);
        return;
    }
    if (id == ID_UNMATCHED || (fl & (N_VOID | N_RAWTEXT | N_IGNORED))) return;
    if (k == K_P) {
        h = in_scope(m, ID_P, t->button);
    } else if (k == K_LI) {
        h = in_scope(m, ID_LI, t->list);
    } else if (k == K_DD || k == K_DT) {
        h = in_scope(m, id, t->scope);
    } else if (fl & N_HEADING) {
        for (int i = 0; i < 6; i++) h = max2(h, in_scope(m, ID_H[i], t->scope));
    } else if (fl & N_BLOCK_END) {
        h = in_scope(m, id, t->scope);
    } else if (k == K_FORM) {
        /* outside a template: the pointed form leaves the stack wherever it is, after the
         * implied end tags; the pointer is cleared either way */
        if (m->head[ID_TEMPLATE] < 0) {
            m->form_pointer = 0;
            int x = in_scope(m, ID_FORM, t->scope);
            if (x < 2) return;
            while (m->sp - 1 > x && implied_end(top(m))) pop(m);
            if (m->sp - 1 == x)
                pop(m);
            else
                remove_entry(m, x);
            return;
        }
        if (t->id == id) h = m->sp - 1;
    } else if (k == K_COLGROUP) {
        if (t->id == id) h = m->sp - 1;
    } else if (k == K_TEMPLATE) {
        h = m->head[ID_TEMPLATE];
    } else if (k == K_TABLE || k == K_SECTION || k == K_TR || k == K_CELL || k == K_CAPTION) {
        h = in_scope(m, id, t->table);
        int s = h < 0 ? select_in_table(m, id, 1) : -1;
        if (s >= 2) { /* ends the select, then this element */
            h = m->head[id];
            while (h >= s) h = m->stack[h].prev_same;
        }
    } else if (k == K_SELECT) {
        h = in_scope(m, ID_SELECT, t->scope); /* lexbor pops through any content, a <div> too */
    } else if (fl & N_SPECIAL) {
        return; /* the remaining specials' end tags pop nothing certain */
    } else if (fmt_index(id) >= 0) {
        /* the adoption agency, for what it does to the stack and the list */
        int f = fmt_index(id);
        int x = m->head[id];
        if (x >= 2 && after_last_marker(m, x)) {
            if (x < t->scope) return; /* not in scope: ignored */
            if (x > t->special) {
                h = x; /* no furthest block: popped to it */
            } else {
                /* each round moves a clone of it past the next special element; the last
                 * round pops the clone and all above it; the element itself leaves the stack */
                int s = adoption_reach(m, x);
                if (s < 0) return;
                adoption_apply(m, x, s);
            }
            CUR(m)->fmt[f]--;
            CUR(m)->total--;
        } else if (CUR(m)->fmt[f] > CUR(m)->on[f]) {
            CUR(m)->fmt[f]--; /* in the list, not on the stack: it only leaves the list */
            CUR(m)->total--;
            return;
        } else if (x > t->special) {
            h = x; /* not in the list: any other end tag */
        }
    } else {
        /* any other end tag: pop to the element when no special element is above it */
        int x = m->head[id];
        if (x > t->special) h = x;
    }
    if (h >= 2) {
        /* the end tag of a marker element clears the list to the last marker */
        if (m->stack[h].marker_el) m->clear_for = h;
        pop_to(m, h);
        m->clear_for = -1;
    }
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

/* The scanning loops run once per kind of string (1, 2 or 4 bytes a character), not through
 * PyUnicode_READ's switch for every character: most of a page is scanned here. */
#define SCAN_UNTIL(cond)                                                                  \
    do {                                                                                  \
        Py_ssize_t n_ = m->n;                                                             \
        switch (m->kind) {                                                                \
        case PyUnicode_1BYTE_KIND: {                                                      \
            const Py_UCS1 *s_ = (const Py_UCS1 *)m->data;                                 \
            for (; i < n_; i++) {                                                         \
                Py_UCS4 c = s_[i];                                                        \
                if (cond) return i;                                                       \
            }                                                                             \
            break;                                                                        \
        }                                                                                 \
        case PyUnicode_2BYTE_KIND: {                                                      \
            const Py_UCS2 *s_ = (const Py_UCS2 *)m->data;                                 \
            for (; i < n_; i++) {                                                         \
                Py_UCS4 c = s_[i];                                                        \
                if (cond) return i;                                                       \
            }                                                                             \
            break;                                                                        \
        }                                                                                 \
        default: {                                                                        \
            const Py_UCS4 *s_ = (const Py_UCS4 *)m->data;                                 \
            for (; i < n_; i++) {                                                         \
                Py_UCS4 c = s_[i];                                                        \
                if (cond) return i;                                                       \
            }                                                                             \
        }                                                                                 \
        }                                                                                 \
        return n_;                                                                        \
    } while (0)

static Py_ssize_t find_char(Model *m, Py_ssize_t i, Py_UCS4 ch) {
    if (i >= m->n) return m->n;
    if (m->kind == PyUnicode_1BYTE_KIND) {
        const char *base = (const char *)m->data;
        const char *hit = memchr(base + i, (int)ch, (size_t)(m->n - i));
        return hit ? hit - base : m->n;
    }
    if (m->kind == PyUnicode_2BYTE_KIND && ch < 128) {
        /* memchr on the bytes (vectorized) for the low byte, then check the character */
        const Py_UCS2 *s2 = (const Py_UCS2 *)m->data;
        const unsigned char *base = (const unsigned char *)m->data;
        const unsigned char *end = base + 2 * m->n;
        const unsigned char *from = base + 2 * i;
        while (from < end) {
            const unsigned char *hit = memchr(from, (int)ch, (size_t)(end - from));
            if (!hit) return m->n;
            Py_ssize_t off = hit - base;
            if (s2[off / 2] == ch) return off / 2; /* either byte order */
            from = hit + 1;
        }
        return m->n;
    }
    SCAN_UNTIL(c == ch);
}

static Py_ssize_t find_either(Model *m, Py_ssize_t i, Py_UCS4 a, Py_UCS4 b) {
    SCAN_UNTIL(c == a || c == b);
}

static Py_ssize_t skip_spaces(Model *m, Py_ssize_t i) { SCAN_UNTIL(!is_space(c)); }

/* End of a tag name: whitespace, '/' or '>'. */
static Py_ssize_t tag_name_end(Model *m, Py_ssize_t i) {
    SCAN_UNTIL(is_space(c) || c == '/' || c == '>');
}

/* End of an attribute name: whitespace, '/', '>' or '='. */
static Py_ssize_t attr_name_end(Model *m, Py_ssize_t i) {
    SCAN_UNTIL(is_space(c) || c == '/' || c == '>' || c == '=');
}

/* End of an unquoted attribute value: whitespace or '>'. */
static Py_ssize_t unquoted_end(Model *m, Py_ssize_t i) { SCAN_UNTIL(is_space(c) || c == '>'); }

/* Position right after the '>' that ends the tag whose attributes start at i, or -1 at EOF.
 * Counts attributes; the ones past max_attrs are cut. Sets *self_closing. For <font> and
 * <annotation-xml> also reports the attributes that change foreign-content rules. */
typedef struct {
    int self_closing;
    int font_breakout;   /* <font color|face|size> */
    int html_annotation; /* encoding="text/html" or "application/xhtml+xml" */
} TagInfo;

static Py_ssize_t tag_attributes(Model *m, Py_ssize_t i, int watch, TagInfo *info) {
    int attrs = 0;
    Py_ssize_t over_start = -1, last_end = -1;
    info->self_closing = info->font_breakout = info->html_annotation = 0;
    Py_ssize_t n = m->n;
    while (i < n) {
        i = skip_spaces(m, i);
        if (i >= n) break;
        Py_UCS4 c = AT(m, i);
        if (c == '>') {
            if (over_start >= 0) {
                if (cut(m, over_start, last_end) < 0) return -2;
                m->attrs_cut += attrs - m->max_attrs;
            }
            return i + 1;
        }
        if (c == '/') {
            if (i + 1 < n && AT(m, i + 1) == '>') {
                info->self_closing = 1;
                i++;
                continue;
            }
            i++;
            continue;
        }
        /* attribute name: the first character may be anything else (even '=') */
        Py_ssize_t name_start = i;
        i = attr_name_end(m, i + 1);
        Py_ssize_t name_end = i;
        attrs++;
        if (attrs == m->max_attrs + 1) over_start = name_start;
        int is_watched = 0;
        if (watch == K_FONT) {
            Py_ssize_t len = name_end - name_start;
            if ((len == 5 && match_word(m, name_start, "color")) ||
                (len == 4 && (match_word(m, name_start, "face") ||
                              match_word(m, name_start, "size"))))
                info->font_breakout = 1;
        } else if (watch == K_ANNOTATION_XML) {
            is_watched = name_end - name_start == 8 && match_word(m, name_start, "encoding");
        }
        i = skip_spaces(m, i);
        Py_ssize_t value_start = -1, value_end = -1;
        if (i < n && AT(m, i) == '=') {
            i = skip_spaces(m, i + 1);
            if (i >= n) return -1;
            c = AT(m, i);
            if (c == '"' || c == '\'') {
                value_start = i + 1;
                i = find_char(m, i + 1, c);
                if (i >= n) return -1;
                value_end = i;
                i++;
            } else if (c != '>') {
                value_start = i;
                i = unquoted_end(m, i);
                value_end = i;
            }
        }
        last_end = i;
        if (is_watched && value_start >= 0) {
            Py_ssize_t len = value_end - value_start;
            if ((len == 9 && match_word(m, value_start, "text/html")) ||
                (len == 21 && match_word(m, value_start, "application/xhtml+xml")))
                info->html_annotation = 1;
        }
    }
    return -1;
}

/* End of raw text / RCDATA content starting at i: the position of "</name" followed by
 * whitespace, '/' or '>' (or the end of the page). */
static Py_ssize_t raw_text_end(Model *m, Py_ssize_t i, const char *name) {
    size_t len = strlen(name);
    while (i < m->n) {
        i = find_char(m, i, '<');
        if (i >= m->n) break;
        if (i + 1 < m->n && AT(m, i + 1) == '/' && match_word(m, i + 2, name)) {
            Py_ssize_t after = i + 2 + (Py_ssize_t)len;
            if (after >= m->n) return m->n;
            Py_UCS4 c = AT(m, after);
            if (is_space(c) || c == '/' || c == '>') return i;
        }
        i++;
    }
    return m->n;
}

static int script_word_at(Model *m, Py_ssize_t i) {
    if (!match_word(m, i, "script")) return 0;
    if (i + 6 >= m->n) return 1;
    Py_UCS4 c = AT(m, i + 6);
    return is_space(c) || c == '/' || c == '>';
}

/* End of script data starting at i, with the spec's escaped and double-escaped states. */
static Py_ssize_t script_end(Model *m, Py_ssize_t i) {
    enum { DATA, ESCAPED, DOUBLE } state = DATA;
    Py_ssize_t n = m->n;
    while (i < n) {
        i = state == DATA ? find_char(m, i, '<') : find_either(m, i, '<', '-');
        if (i >= n) break;
        Py_UCS4 c = AT(m, i);
        if (c == '<') {
            if (i + 1 < n && AT(m, i + 1) == '/' && script_word_at(m, i + 2)) {
                if (state == DOUBLE) {
                    state = ESCAPED;
                    i += 8;
                    continue;
                }
                return i;
            }
            if (state == DATA && i + 3 < n && AT(m, i + 1) == '!' && AT(m, i + 2) == '-' &&
                AT(m, i + 3) == '-') {
                /* "<!--" leaves the escape dash-dash state: more dashes, then '>' ends it */
                Py_ssize_t j = i + 4;
                while (j < n && AT(m, j) == '-') j++;
                if (j < n && AT(m, j) == '>') {
                    i = j + 1;
                    continue;
                }
                state = ESCAPED;
                i = j;
                continue;
            }
            if (state == ESCAPED && script_word_at(m, i + 1)) {
                state = DOUBLE;
                i += 7;
                continue;
            }
            i++;
            continue;
        }
        if (c == '-' && state != DATA) {
            Py_ssize_t j = i;
            while (j < n && AT(m, j) == '-') j++;
            if (j - i >= 2 && j < n && AT(m, j) == '>') {
                state = DATA;
                i = j + 1;
                continue;
            }
            i = j;
            continue;
        }
        i++;
    }
    return n;
}

/* After a comment opener "<!--" at i - 4: the position after the comment. */
static Py_ssize_t comment_end(Model *m, Py_ssize_t i) {
    Py_ssize_t n = m->n;
    if (i < n && AT(m, i) == '>') return i + 1;
    if (i + 1 < n && AT(m, i) == '-' && AT(m, i + 1) == '>') return i + 2;
    while (i < n) {
        i = find_char(m, i, '-');
        if (i + 1 >= n) return n;
        if (AT(m, i + 1) != '-') {
            i++;
            continue;
        }
        Py_ssize_t j = i + 2;
        while (j < n && AT(m, j) == '-') j++;
        if (j < n && AT(m, j) == '>') return j + 1;
        if (j + 1 < n && AT(m, j) == '!' && AT(m, j + 1) == '>') return j + 2;
        i = j;
    }
    return n;
}

/* A <select> inside a table ("in select in table"): table structure tags end the select
 * first. Returns the select's index when that applies to the table tag `id`, else -1. */
static int select_in_table(Model *m, int id, int end) {
    Entry *t = top(m);
    int s = t->table;
    Entry *sel = &m->stack[s];
    if (sel->ns || sel->id != ID_SELECT || s < 3) return -1;
    Entry *below = &m->stack[s - 1];
    if (m->stack[below->table].id != ID_TABLE) return -1;
    if (end) { /* an end tag only when its element is there, in table scope below the select */
        int h = m->head[id];
        while (h >= s) h = m->stack[h].prev_same;
        if (h < 0 || h < below->table) return -1;
    }
    return s;
}

/* Text in [from, to): lexbor reopens the formatting elements of its list that are off the
 * stack (in HTML content; in a table only for text that is not whitespace). */
static void text_seen(Model *m, Py_ssize_t from, Py_ssize_t to) {
    if (CUR(m)->total <= CUR(m)->on_total) return;
    Entry *t = top(m);
    if (t->ns && !t->ip) return;
    int k = t->ns ? K_OTHER : kind_of(t->id);
    if ((k == K_TABLE || k == K_SECTION || k == K_TR) && skip_spaces(m, from) >= to) return;
    reconstruct(m);
}

static int in_foreign(Model *m) {
    Entry *t = top(m);
    return t->ns != 0;
}

/* Apply a start tag of id at [lt, gt): returns 0, or -1 on error. *raw gets the raw-text
 * kind to skip after it (an index into KNOWN, or -1). */
static int start_tag(Model *m, int id, Py_ssize_t lt, Py_ssize_t gt, const TagInfo *info,
                     int *raw) {
    *raw = -1;
    int k = kind_of(id);
    Entry *t = top(m);
    /* foreign content: which rules apply to this start tag */
    if (t->ns) {
        int html_rules = 0;
        if (t->ip == 2 && k != K_MGLYPH) html_rules = 1;       /* MathML text integration point */
        if (t->ip == 1) html_rules = 1;                        /* HTML integration point */
        if (!html_rules) {
            if ((flags_of(id) & N_BREAKOUT) || (k == K_FONT && info->font_breakout)) {
                /* lexbor pops foreign elements until an HTML element or integration point;
                 * when the tag is cut it never sees it, so they are put back */
                int old_sp = m->sp;
                Py_ssize_t cut_before = m->elements_cut;
                while (m->sp > 2 && top(m)->ns && !top(m)->ip) pop(m);
                int r = start_tag(m, id, lt, gt, info, raw);
                if (r == 0 && m->elements_cut > cut_before) unpop(m, old_sp);
                return r;
            }
            if (info->self_closing) return 0;
            if (m->sp >= m->max_depth) {
                m->elements_cut++;
                m->dropped[id]++;
                return cut(m, lt, gt);
            }
            int ns = t->ns; /* <svg> is SVG only in <annotation-xml>, else a MathML element */
            if (k == K_SVG && t->ns == 2 && kind_of(t->fid) == K_ANNOTATION_XML) ns = 1;
            int ip = 0;
            if (ns == 1 && k == K_SVG_IP) ip = 1;
            if (ns == 2 && k == K_MATH_TEXT_IP) ip = 2;
            if (ns == 2 && k == K_ANNOTATION_XML && info->html_annotation) ip = 1;
            push(m, ID_UNMATCHED, ns, id, ip);
            return 0;
        }
    }
    uint16_t fl = flags_of(id);
    if (fl & N_IGNORED) return 0;
    if (!t->ns && t->id == ID_TEMPLATE && (t->colmode || id == ID_COL)) {
        /* a <col> right in a template puts its contents in "in column group" mode, where
         * every start tag but <col> and <template> is ignored (no raw text either) */
        if (k != K_TEMPLATE) {
            t->colmode = 1;
            return 0;
        }
    }
    if (k == K_SVG || k == K_MATH) {
        if (m->sp + (CUR(m)->total - CUR(m)->on_total) >= m->max_depth) {
            m->elements_cut++;
            m->dropped[id]++;
            return cut(m, lt, gt);
        }
        reconstruct(m);
        if (!info->self_closing) push(m, ID_UNMATCHED, k == K_SVG ? 1 : 2, id, 0);
        return 0;
    }
    if ((fl & N_RAWTEXT) || k == K_PLAINTEXT) {
        /* never pushed (its end tag pops it at once); <xmp> and <plaintext> close a <p>,
         * <textarea> ends an open <select> */
        int target = start_pops_to(m, id);
        if (target < m->sp) pop_to(m, target);
        if (reconstructs(id)) reconstruct(m); /* <xmp> */
        *raw = id;
        return 0;
    }
    if (k == K_CELL || k == K_TR || k == K_SECTION || k == K_CAPTION || k == K_TABLE) {
        /* in a <select> in a table these end the select first (then fit: never cut) */
        int s = select_in_table(m, id, 0);
        if (s >= 2) pop_to(m, s);
    }
    if (k == K_CELL || k == K_TR || k == K_SECTION || k == K_CAPTION || k == K_COLGROUP) {
        /* outside a table lexbor ignores these (they would change what the current node is
         * for later rules if they stood here) */
        Entry *ctx = &m->stack[top(m)->table];
        if (ctx->ns || (ctx->id != ID_TABLE && ctx->id != ID_TEMPLATE)) return 0;
    }
    if (k == K_SELECT && m->head[ID_SELECT] >= 0) {
        /* a <select> in a <select> ends it and is not inserted; when unsure, opaque */
        int h = in_scope(m, ID_SELECT, top(m)->scope);
        if (h >= 2) {
            pop_to(m, h);
            return 0;
        }
        if (m->sp >= m->max_depth) {
            m->elements_cut++;
            m->dropped[id]++;
            return cut(m, lt, gt);
        }
        push(m, OPAQUE, 0, -1, 0);
        return 0;
    }
    if (k == K_FORM && m->form_pointer && m->head[ID_TEMPLATE] < 0) return 0; /* ignored */
    int target = start_pops_to(m, id);
    int f = fmt_index(id);
    /* <a> with an <a> in the list, <nobr> with a <nobr> in scope: the adoption agency ends the
     * old one first (out of the list; off the stack: popped to it when no special element is
     * above it, else taken out of the middle), then the new one goes in. */
    int old = -1, remove_idx = -1, reach = -1, list_out = 0;
    Level *lv = CUR(m);
    if (k == K_A && lv->fmt[f] > 0) {
        list_out = 1;
        if (m->head[ID_A] >= 2 && after_last_marker(m, m->head[ID_A])) old = m->head[ID_A];
    }
    if (k == K_NOBR) {
        old = in_scope(m, ID_NOBR, top(m)->scope);
        list_out = old >= 2 && lv->fmt[f] > 0;
    }
    if (old >= 2) {
        if (old > top(m)->special) {
            target = old < target ? old : target;
        } else {
            reach = adoption_reach(m, old); /* as for an end tag (see end_tag) */
            remove_idx = old;
            if (reach >= 0 && reach + 1 < target) target = reach + 1;
        }
    }
    /* formatting elements reopened before this tag: the list's ones off the stack after the
     * pops (popped ones included) */
    int recon = 0;
    if (reconstructs(id)) {
        int on = lv->on_total;
        for (int j = target; j < m->sp; j++) on -= entry_level(m, &m->stack[j]) == lv;
        if (remove_idx >= 0 && entry_level(m, &m->stack[remove_idx]) == lv) on--;
        recon = (lv->total - list_out) - on;
        if (recon < 0) recon = 0;
    }
    int in_select = in_scope(m, ID_SELECT, top(m)->select) >= 0;
    /* <a> is never cut for the formatting bound: it ends the open <a>, so there is one */
    int over = (!(fl & N_VOID) && target + recon >= m->max_depth) ||
               (f >= 0 && k != K_A && lv->total - list_out >= m->max_fmt) ||
               ((k == K_OPTION || k == K_OPTGROUP) && in_select && m->options >= m->max_options);
    if (over && !(fl & N_VOID)) {
        m->elements_cut++;
        m->dropped[id]++;
        return cut(m, lt, gt);
    }
    if (remove_idx >= 0 && reach >= 0)
        adoption_apply(m, remove_idx, reach);
    else if (remove_idx >= 0)
        remove_entry(m, remove_idx);
    if (target < m->sp) pop_to(m, target);
    if (list_out) {
        lv->fmt[f]--;
        lv->total--;
    }
    if (recon) reconstruct(m);
    if (fl & N_VOID) return 0;
    if ((k == K_OPTION || k == K_OPTGROUP) && in_select) m->options++;
    if (k == K_FORM && m->head[ID_TEMPLATE] < 0) m->form_pointer = 1;
    push(m, id, 0, -1, 0);
    if (f >= 0) { /* a new entry in the list, after the last marker */
        CUR(m)->fmt[f]++;
        CUR(m)->total++;
        on_stack(m, top(m), f);
    }
    return 0;
}

/* An end tag: foreign rules while the current node is foreign, then HTML rules. */
static void end_tag_any(Model *m, int id) {
    if (m->dropped[id] > 0) return; /* the caller cuts it */
    if (!top(m)->ns && top(m)->colmode && id != ID_TEMPLATE) return; /* ignored there */
    if (in_foreign(m) && (id == ID_P || id == ID_BR)) {
        /* </p> and </br> leave foreign content, then the HTML rules apply */
        while (m->sp > 2 && top(m)->ns && !top(m)->ip) pop(m);
        end_tag(m, id);
        return;
    }
    if (in_foreign(m)) {
        /* walk down foreign entries (a few): a match pops to it; an HTML entry hands the
         * token to the HTML rules */
        for (int j = m->sp - 1, steps = 0; j >= 2 && steps < 8; j--, steps++) {
            Entry *e = &m->stack[j];
            if (!e->ns) {
                end_tag(m, id);
                return;
            }
            if (e->fid == id) {
                pop_to(m, j);
                return;
            }
        }
        return;
    }
    end_tag(m, id);
}

static PyObject *bound(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 5 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "bound(html: str, max_depth, max_formatting, max_options, max_attrs)");
        return NULL;
    }
    Model m;
    memset(&m, 0, sizeof(m));
    m.max_depth = (int)PyLong_AsLong(args[1]);
    m.max_fmt = (int)PyLong_AsLong(args[2]);
    m.max_options = (int)PyLong_AsLong(args[3]);
    m.max_attrs = (int)PyLong_AsLong(args[4]);
    if (PyErr_Occurred()) return NULL;
    if (m.max_depth < 3 || m.max_depth > 100000 || m.max_fmt < 0 || m.max_fmt > 10000 ||
        m.max_attrs < 0) {
        PyErr_SetString(PyExc_ValueError, "bounds out of range");
        return NULL;
    }
    PyObject *html = args[0];
    m.kind = PyUnicode_KIND(html);
    m.data = PyUnicode_DATA(html);
    m.n = PyUnicode_GET_LENGTH(html);
    m.cap = m.max_depth + m.max_fmt + 8; /* reopened formatting elements may go past max_depth */
    m.stack = PyMem_Calloc((size_t)m.cap, sizeof(Entry));
    m.head = PyMem_Malloc(sizeof(int32_t) * NIDS);
    m.dropped = PyMem_Calloc(NIDS, sizeof(int32_t));
    m.levels = PyMem_Calloc(MAX_LEVELS, sizeof(Level));
    m.nlevels = 1;
    m.clear_for = -1;
    m.dyn = PyMem_Calloc(MAX_DYNAMIC, sizeof(*m.dyn));
    m.cuts = PyList_New(0);
    PyObject *result = NULL;
    if (!m.stack || !m.head || !m.dropped || !m.levels || !m.dyn || !m.cuts) {
        PyErr_NoMemory();
        goto done;
    }
    for (int i = 0; i < NIDS; i++) m.head[i] = -1;
    push(&m, ID_HTML, 0, -1, 0);
    push(&m, ID_BODY, 0, -1, 0);

    Py_ssize_t i = 0, n = m.n;
    Py_ssize_t text_from = -1; /* where text not yet handed to the model starts */
    while (i < n) {
        Py_ssize_t lt = find_char(&m, i, '<');
        if (lt > i && text_from < 0) text_from = i;
        if (lt + 1 >= n) break;
        Py_UCS4 c = AT(&m, lt + 1);
        if (c == '!') {
            if (lt + 3 < n && AT(&m, lt + 2) == '-' && AT(&m, lt + 3) == '-') {
                i = comment_end(&m, lt + 4);
            } else if (in_foreign(&m) && match_exact(&m, lt + 2, "[CDATA[")) {
                Py_ssize_t j = lt + 9;
                for (;;) {
                    j = find_char(&m, j, ']');
                    if (j + 2 >= n) {
                        j = n;
                        break;
                    }
                    if (AT(&m, j + 1) == ']' && AT(&m, j + 2) == '>') {
                        j += 3;
                        break;
                    }
                    j++;
                }
                i = j;
            } else {
                i = find_char(&m, lt + 2, '>') + 1;
            }
            continue;
        }
        if (c == '?') {
            i = find_char(&m, lt + 2, '>') + 1;
            continue;
        }
        int end = c == '/';
        Py_ssize_t name_start = lt + 1 + end;
        if (name_start >= n) break;
        if (!is_alpha(AT(&m, name_start))) {
            if (!end) {
                if (text_from < 0) text_from = lt;
                i = lt + 1; /* a '<' in text */
            } else if (AT(&m, name_start) == '>') {
                i = name_start + 1; /* "</>" is dropped */
            } else {
                i = find_char(&m, name_start, '>') + 1; /* bogus comment */
            }
            continue;
        }
        Py_ssize_t j = tag_name_end(&m, name_start + 1);
        int id = name_id(&m, name_start, j - name_start);
        int k = kind_of(id);
        TagInfo info;
        int watch = (k == K_FONT || k == K_ANNOTATION_XML) ? k : K_OTHER;
        Py_ssize_t gt = tag_attributes(&m, j, watch, &info);
        if (gt == -2) goto done;
        if (gt < 0) break; /* EOF inside a tag: lexbor drops the tag */
        if (text_from >= 0) {
            text_seen(&m, text_from, lt);
            text_from = -1;
        }
        if (end) {
            if (m.dropped[id] > 0) {
                m.dropped[id]--;
                if (cut(&m, lt, gt) < 0) goto done;
            } else {
                end_tag_any(&m, id);
            }
            i = gt;
            continue;
        }
        int raw;
        if (start_tag(&m, id, lt, gt, &info, &raw) < 0) goto done;
        i = gt;
        if (raw >= 0) {
            if (kind_of(raw) == K_PLAINTEXT) break;
            Py_ssize_t r = kind_of(raw) == K_SCRIPT ? script_end(&m, gt)
                                                    : raw_text_end(&m, gt, KNOWN[raw].name);
            if (r >= n) break;
            /* its end tag ends the raw text element, which the model never pushed: it is
             * consumed here, not taken for the end of some other element of that name */
            TagInfo end_info;
            Py_ssize_t after = tag_attributes(&m, r + 2 + (Py_ssize_t)strlen(KNOWN[raw].name),
                                              K_OTHER, &end_info);
            if (after == -2) goto done;
            if (after < 0) break;
            i = after;
        }
    }
    if (flush_cut(&m) < 0) goto done;
    result = Py_BuildValue("(Onn)", m.cuts, m.elements_cut, m.attrs_cut);
done:
    Py_XDECREF(m.cuts);
    PyMem_Free(m.stack);
    PyMem_Free(m.head);
    PyMem_Free(m.dropped);
    PyMem_Free(m.levels);
    PyMem_Free(m.dyn);
    return result;
}

static PyMethodDef module_methods[] = {
    {"bound", (PyCFunction)(void (*)(void))bound, METH_FASTCALL,
     "bound(html, max_depth, max_formatting, max_options, max_attrs) -> (cuts, elements, "
     "attributes): flat [start, end, space, ...]: ranges to cut (a space in the place of those "
     "marked) so lexbor's work stays linear"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_markup", "Markup bounds before parsing (see markup.py)", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__markup(void) {
    for (int i = 1; i < NKNOWN; i++) {
        if (strcmp(KNOWN[i - 1].name, KNOWN[i].name) >= 0) {
            PyErr_Format(PyExc_ImportError, "_markup: KNOWN is not sorted at %s", KNOWN[i].name);
            return NULL;
        }
    }
    init_ids();
    fmt_index(0);
    return PyModule_Create(&moduledef);
}
