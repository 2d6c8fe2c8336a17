// TEST-ONLY. A small evaluator for the subset of CEL used by `x-kubernetes-validations` rules in the upstream CRDs
// (snapshot.storage.k8s.io: `self == oldSelf`, `has(self.x)`, `size(self) > 0`, `&&`, `||`, `!`). Anything outside the
// subset throws CelUnsupported and the caller skips the rule (recorded, never a validation error).
//
// Supported: literals (int, double, string, bool, null, lists, maps), identifiers bound by the caller (self, oldSelf),
// member access with Kubernetes' property-name escaping (__namespace__, __dash__, __dot__, __slash__, __underscores__),
// indexing, `has(a.b)`, `size(x)` / `x.size()`, `x.startsWith(s)`, `x.endsWith(s)`, `x.contains(s)`, `x.matches(re)`,
// `x.all(v, p)`, `x.exists(v, p)`, `x.exists_one(v, p)`, `e in list|map`, `!`, unary `-`, `&&`, `||`, `?:`,
// `== != < <= > >=`, `+ - * / %`.

export class CelUnsupported extends Error {}
export class CelEvalError extends Error {}

type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'eof'; v: string };

const OPS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', '{', '}', '.', ',', '?', ':'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?u?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0].replace(/u$/, '') });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const n = src[j + 1];
          s += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
          j += 2;
        } else {
          s += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new CelUnsupported('unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelUnsupported(`unexpected character ${c}`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  out.push({ t: 'eof', v: '' });
  return out;
}

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'id'; name: string }
  | { k: 'member'; obj: Node; name: string }
  | { k: 'index'; obj: Node; idx: Node }
  | { k: 'call'; fn: string; target?: Node; args: Node[] }
  | { k: 'unary'; op: string; e: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'cond'; c: Node; a: Node; b: Node }
  | { k: 'list'; items: Node[] }
  | { k: 'map'; entries: [Node, Node][] };

class Parser {
  toks: Tok[];
  pos = 0;
  constructor(toks: Tok[]) {
    this.toks = toks;
  }
  peek(): Tok {
    return this.toks[this.pos]!;
  }
  next(): Tok {
    return this.toks[this.pos++]!;
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  expect(v: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== v) throw new CelUnsupported(`expected ${v}, got ${t.v || t.t}`);
  }
  parseExpr(): Node {
    const c = this.parseOr();
    if (this.isOp('?')) {
      this.next();
      const a = this.parseOr();
      this.expect(':');
      const b = this.parseExpr();
      return { k: 'cond', c, a, b };
    }
    return c;
  }
  parseOr(): Node {
    let l = this.parseAnd();
    while (this.isOp('||')) {
      this.next();
      l = { k: 'bin', op: '||', l, r: this.parseAnd() };
    }
    return l;
  }
  parseAnd(): Node {
    let l = this.parseRel();
    while (this.isOp('&&')) {
      this.next();
      l = { k: 'bin', op: '&&', l, r: this.parseRel() };
    }
    return l;
  }
  parseRel(): Node {
    let l = this.parseAdd();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
        this.next();
        l = { k: 'bin', op: t.v, l, r: this.parseAdd() };
      } else if (t.t === 'id' && t.v === 'in') {
        this.next();
        l = { k: 'bin', op: 'in', l, r: this.parseAdd() };
      } else return l;
    }
  }
  parseAdd(): Node {
    let l = this.parseMul();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().v;
      l = { k: 'bin', op, l, r: this.parseMul() };
    }
    return l;
  }
  parseMul(): Node {
    let l = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next().v;
      l = { k: 'bin', op, l, r: this.parseUnary() };
    }
    return l;
  }
  parseUnary(): Node {
    if (this.isOp('!') || this.isOp('-')) {
      const op = this.next().v;
      return { k: 'unary', op, e: this.parseUnary() };
    }
    return this.parseMember();
  }
  parseArgs(): Node[] {
    const args: Node[] = [];
    this.expect('(');
    if (!this.isOp(')')) {
      args.push(this.parseExpr());
      while (this.isOp(',')) {
        this.next();
        args.push(this.parseExpr());
      }
    }
    this.expect(')');
    return args;
  }
  parseMember(): Node {
    let e = this.parsePrimary();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const id = this.next();
        if (id.t !== 'id') throw new CelUnsupported('expected identifier after .');
        if (this.isOp('(')) e = { k: 'call', fn: id.v, target: e, args: this.parseArgs() };
        else e = { k: 'member', obj: e, name: id.v };
      } else if (this.isOp('[')) {
        this.next();
        const idx = this.parseExpr();
        this.expect(']');
        e = { k: 'index', obj: e, idx };
      } else return e;
    }
  }
  parsePrimary(): Node {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'id') {
      if (t.v === 'true') return { k: 'lit', v: true };
      if (t.v === 'false') return { k: 'lit', v: false };
      if (t.v === 'null') return { k: 'lit', v: null };
      if (this.isOp('(')) return { k: 'call', fn: t.v, args: this.parseArgs() };
      return { k: 'id', name: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      const e = this.parseExpr();
      this.expect(')');
      return e;
    }
    if (t.t === 'op' && t.v === '[') {
      const items: Node[] = [];
      if (!this.isOp(']')) {
        items.push(this.parseExpr());
        while (this.isOp(',')) {
          this.next();
          items.push(this.parseExpr());
        }
      }
      this.expect(']');
      return { k: 'list', items };
    }
    if (t.t === 'op' && t.v === '{') {
      const entries: [Node, Node][] = [];
      while (!this.isOp('}')) {
        const key = this.parseExpr();
        this.expect(':');
        entries.push([key, this.parseExpr()]);
        if (this.isOp(',')) this.next();
      }
      this.expect('}');
      return { k: 'map', entries };
    }
    throw new CelUnsupported(`unexpected token ${t.v || t.t}`);
  }
}

const compiled = new Map<string, Node | CelUnsupported>();

/** Parses a rule (cached). Throws CelUnsupported for syntax outside the subset. */
export function compileCel(rule: string): Node {
  let n = compiled.get(rule);
  if (n === undefined) {
    try {
      const p = new Parser(lex(rule));
      const e = p.parseExpr();
      if (p.peek().t !== 'eof') throw new CelUnsupported(`trailing input at ${p.peek().v}`);
      n = e;
    } catch (err) {
      n = err instanceof CelUnsupported ? err : new CelUnsupported(String(err));
    }
    compiled.set(rule, n);
  }
  if (n instanceof CelUnsupported) throw n;
  return n;
}

/** Whether the rule references oldSelf (a transition rule, evaluated on update only). */
export function referencesOldSelf(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

const RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let',
  'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

function unescapeProp(name: string): string {
  const m = /^__(.+)__$/.exec(name);
  if (m && RESERVED.has(m[1]!)) return m[1]!;
  return name.replace(/__underscores__/g, '_').replace(/__dot__/g, '.').replace(/__dash__/g, '-').replace(/__slash__/g, '/');
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function celEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => celEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && celEqual(a[k], b[k]));
  }
  return false;
}

function size(v: unknown): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isObj(v)) return Object.keys(v).length;
  throw new CelEvalError(`no such overload: size(${typeof v})`);
}

function truthy(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new CelEvalError('no such overload: expected bool');
  return v;
}

/** Evaluates a compiled expression. Throws CelEvalError on runtime errors, CelUnsupported on unknown functions. */
export function evalCel(node: Node, vars: Record<string, unknown>): unknown {
  const ev = (n: Node, env: Record<string, unknown>): unknown => {
    switch (n.k) {
      case 'lit':
        return n.v;
      case 'id':
        if (!Object.hasOwn(env, n.name)) throw new CelUnsupported(`undeclared reference to '${n.name}'`);
        return env[n.name];
      case 'member': {
        const o = ev(n.obj, env);
        const key = unescapeProp(n.name);
        if (!isObj(o) || !Object.hasOwn(o, key)) throw new CelEvalError(`no such key: ${key}`);
        return o[key];
      }
      case 'index': {
        const o = ev(n.obj, env);
        const i = ev(n.idx, env);
        if (Array.isArray(o) && typeof i === 'number') {
          if (i < 0 || i >= o.length) throw new CelEvalError(`index out of bounds: ${i}`);
          return o[i];
        }
        if (isObj(o) && typeof i === 'string' && Object.hasOwn(o, i)) return o[i];
        throw new CelEvalError(`no such key: ${String(i)}`);
      }
      case 'unary': {
        const v = ev(n.e, env);
        if (n.op === '!') return !truthy(v);
        if (typeof v !== 'number') throw new CelEvalError('no such overload: -');
        return -v;
      }
      case 'cond':
        return truthy(ev(n.c, env)) ? ev(n.a, env) : ev(n.b, env);
      case 'list':
        return n.items.map((i) => ev(i, env));
      case 'map': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of n.entries) out[String(ev(k, env))] = ev(v, env);
        return out;
      }
      case 'bin': {
        if (n.op === '&&' || n.op === '||') {
          // CEL's commutative logic: an error on one side is absorbed if the other side decides the result.
          let le: unknown;
          let lv: boolean | undefined;
          try {
            lv = truthy(ev(n.l, env));
          } catch (e) {
            if (e instanceof CelUnsupported) throw e;
            le = e;
          }
          if (lv !== undefined && (n.op === '&&' ? !lv : lv)) return lv;
          const rv = truthy(ev(n.r, env));
          if (n.op === '&&' ? !rv : rv) return rv;
          if (le !== undefined) throw le;
          return rv;
        }
        const l = ev(n.l, env);
        const r = ev(n.r, env);
        switch (n.op) {
          case '==':
            return celEqual(l, r);
          case '!=':
            return !celEqual(l, r);
          case 'in':
            if (Array.isArray(r)) return r.some((x) => celEqual(x, l));
            if (isObj(r)) return typeof l === 'string' && Object.hasOwn(r, l);
            throw new CelEvalError('no such overload: in');
          case '<':
          case '<=':
          case '>':
          case '>=': {
            if (!((typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string'))) {
              throw new CelEvalError(`no such overload: ${n.op}`);
            }
            if (n.op === '<') return l < r;
            if (n.op === '<=') return l <= r;
            if (n.op === '>') return l > r;
            return l >= r;
          }
          case '+':
            if (typeof l === 'number' && typeof r === 'number') return l + r;
            if (typeof l === 'string' && typeof r === 'string') return l + r;
            if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
            throw new CelEvalError('no such overload: +');
          default: {
            if (typeof l !== 'number' || typeof r !== 'number') throw new CelEvalError(`no such overload: ${n.op}`);
            if (n.op === '-') return l - r;
            if (n.op === '*') return l * r;
            if (r === 0) throw new CelEvalError('division by zero');
            if (n.op === '/') return Number.isInteger(l) && Number.isInteger(r) ? Math.trunc(l / r) : l / r;
            return l % r;
          }
        }
      }
      case 'call':
        return call(n, env);
    }
  };
  const call = (n: Extract<Node, { k: 'call' }>, env: Record<string, unknown>): unknown => {
    if (n.fn === 'has' && !n.target) {
      const a = n.args[0];
      if (n.args.length !== 1 || !a || a.k !== 'member') throw new CelUnsupported('has() needs a field selection');
      const o = ev(a.obj, env);
      const key = unescapeProp(a.name);
      if (isObj(o)) return Object.hasOwn(o, key);
      throw new CelEvalError('no such overload: has');
    }
    if (['all', 'exists', 'exists_one'].includes(n.fn) && n.target) {
      const v = n.args[0];
      const pred = n.args[1];
      if (n.args.length !== 2 || !v || v.k !== 'id' || !pred) throw new CelUnsupported(`${n.fn} macro shape`);
      const coll = ev(n.target, env);
      const items = Array.isArray(coll) ? coll : isObj(coll) ? Object.keys(coll) : undefined;
      if (!items) throw new CelEvalError(`no such overload: ${n.fn}`);
      const results = items.map((it) => truthy(ev(pred, { ...env, [v.name]: it })));
      if (n.fn === 'all') return results.every(Boolean);
      if (n.fn === 'exists') return results.some(Boolean);
      return results.filter(Boolean).length === 1;
    }
    const args = n.args.map((a) => ev(a, env));
    if (n.fn === 'size') {
      if (n.target) return size(ev(n.target, env));
      return size(args[0]);
    }
    if (!n.target) throw new CelUnsupported(`function ${n.fn}`);
    const t = ev(n.target, env);
    const a0 = args[0];
    if (typeof t === 'string' && typeof a0 === 'string') {
      if (n.fn === 'startsWith') return t.startsWith(a0);
      if (n.fn === 'endsWith') return t.endsWith(a0);
      if (n.fn === 'contains') return t.includes(a0);
      if (n.fn === 'matches') return new RegExp(a0).test(t);
    }
    throw new CelUnsupported(`function ${n.fn}`);
  };
  return ev(node, vars);
}
