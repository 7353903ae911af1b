// A tiny schema reader: walks untrusted YAML, collects every problem with its path
// (`targets[0].url: required`) instead of stopping at the first, like changesets' config parser.

export class Issues {
  readonly list: string[] = [];
  add(path: string, problem: string): void {
    this.list.push(`${path || '(root)'}: ${problem}`);
  }
}

type Obj = Record<string, unknown>;

export class Reader {
  constructor(
    readonly value: unknown,
    readonly path: string,
    readonly issues: Issues,
  ) {}

  static root(value: unknown, issues: Issues): Reader {
    return new Reader(value ?? {}, '', issues);
  }

  private child(key: string | number): Reader {
    const path = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    const obj = this.isObject() ? (this.value as Obj) : {};
    return new Reader(typeof key === 'number' ? (this.value as unknown[])[key] : obj[key], path, this.issues);
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** Object-valued key; reports a type problem and returns an empty reader otherwise. */
  object(key: string): Reader {
    const c = this.child(key);
    if (c.present() && !c.isObject()) c.issues.add(c.path, 'must be a mapping');
    return c.present() && c.isObject() ? c : new Reader({}, c.path, this.issues);
  }

  has(key: string): boolean {
    return this.isObject() && (this.value as Obj)[key] !== undefined && (this.value as Obj)[key] !== null;
  }

  /** Reports keys that this schema does not know: typos should not pass silently. */
  only(keys: readonly string[]): void {
    if (!this.isObject()) return;
    for (const key of Object.keys(this.value as Obj)) {
      if (!keys.includes(key))
        this.issues.add(this.path ? `${this.path}.${key}` : key, `unknown key (known: ${keys.join(', ')})`);
    }
  }

  string(
    key: string,
    options: { required?: boolean; fallback?: string; pattern?: RegExp; patternHint?: string } = {},
  ): string | undefined {
    const c = this.child(key);
    if (!c.present()) {
      if (options.required) c.issues.add(c.path, 'required');
      return options.fallback;
    }
    if (typeof c.value !== 'string' && typeof c.value !== 'number') {
      c.issues.add(c.path, 'must be a string');
      return options.fallback;
    }
    const text = String(c.value);
    if (options.pattern && !options.pattern.test(text)) {
      c.issues.add(c.path, options.patternHint ?? `does not match ${options.pattern}`);
    }
    return text;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const text = this.string(key);
    if (text === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(text)) {
      this.issues.add(this.child(key).path, `must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return text as T;
  }

  number(
    key: string,
    options: { fallback?: number; min?: number; max?: number; integer?: boolean } = {},
  ): number | undefined {
    const c = this.child(key);
    if (!c.present()) return options.fallback;
    const n =
      typeof c.value === 'number'
        ? c.value
        : typeof c.value === 'string' && c.value.trim() !== ''
          ? Number(c.value)
          : NaN;
    if (!Number.isFinite(n) || (options.integer && !Number.isInteger(n))) {
      c.issues.add(c.path, options.integer ? 'must be a whole number' : 'must be a number');
      return options.fallback;
    }
    if (options.min !== undefined && n < options.min) c.issues.add(c.path, `must be at least ${options.min}`);
    if (options.max !== undefined && n > options.max) c.issues.add(c.path, `must be at most ${options.max}`);
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const c = this.child(key);
    if (!c.present()) return fallback;
    if (typeof c.value === 'boolean') return c.value;
    if (c.value === 'true' || c.value === 'false') return c.value === 'true';
    c.issues.add(c.path, 'must be true or false');
    return fallback;
  }

  /** Array-valued key: one reader per element. */
  array(key: string, options: { required?: boolean; nonEmpty?: boolean } = {}): Reader[] {
    const c = this.child(key);
    if (!c.present()) {
      if (options.required) c.issues.add(c.path, 'required');
      return [];
    }
    if (!Array.isArray(c.value)) {
      c.issues.add(c.path, 'must be a list');
      return [];
    }
    if (options.nonEmpty && c.value.length === 0) c.issues.add(c.path, 'must not be empty');
    return c.value.map((_, i) => c.child(i));
  }

  strings(key: string, options: { required?: boolean; nonEmpty?: boolean } = {}): string[] {
    return this.array(key, options).flatMap((item) => {
      if (typeof item.value !== 'string' || item.value.trim() === '') {
        item.issues.add(item.path, 'must be a non-empty string');
        return [];
      }
      return [item.value.trim()];
    });
  }
}
