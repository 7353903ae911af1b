// column-check.ts: a mapping against a catalog, pure. Every supported type is read as documented;
// everything else is refused with one line naming the column, its type and what to do.
import { describe, expect, it } from 'vitest';
import {
  type CatalogColumn,
  checkReconcileMapping,
  describeProblem,
} from '../../src/reconcile/sources/column-check.js';
import { DEFAULT_STATUS_MAP } from '../../src/reconcile/reconcile-config.js';

const col = (name: string, type: string, base: string, extra: Partial<CatalogColumn> = {}): CatalogColumn => ({
  name,
  type,
  base,
  ...extra,
});
const opts = { where: 'reconcile.local', timezone: 'Asia/Shanghai' };
const base = [col('no', 'character varying(20)', 'varchar'), col('st', 'smallint', 'int2')];
const mapping = (
  columns: Record<string, string>,
  extra: { amountUnit?: 'fen' | 'yuan'; statusMap?: Record<string, string> } = {},
) => ({
  columns: { number: 'no', status: 'st', issuedAt: 't', total: 'amt', ...columns },
  statusMap: extra.statusMap ?? DEFAULT_STATUS_MAP,
  ...(extra.amountUnit ? { amountUnit: extra.amountUnit } : {}),
});

describe('checkReconcileMapping', () => {
  it.each([
    ['timestamp with time zone', 'timestamptz', 'timestamptz'],
    ['timestamp without time zone', 'timestamp', 'timestamp'],
    ['date', 'date', 'date'],
    ['text', 'text', 'text'],
  ] as const)('issue time %s is read as %s', (type, b, kind) => {
    const r = checkReconcileMapping(
      mapping({}),
      [...base, col('t', type, b), col('amt', 'numeric(14,2)', 'numeric', { scale: 2 })],
      opts,
    );
    expect(r.plan).toMatchObject({
      timeKind: kind,
      amounts: { total: 'yuan' },
      totalScale2: true,
      statusInteger: true,
    });
    expect(r.checks.every((c) => c.ok)).toBe(true);
  });

  it.each([
    ['numeric', 'numeric', undefined, 'yuan', false],
    ['bigint', 'int8', 'fen', 'fen', false],
    ['integer', 'int4', 'yuan', 'yuan-int', true],
    ['money', 'money', undefined, 'money', true],
  ] as const)('amount %s with amountUnit %s is read as %s', (type, b, unit, kind, scale2) => {
    const r = checkReconcileMapping(
      mapping({}, unit ? { amountUnit: unit } : {}),
      [...base, col('t', 'date', 'date'), col('amt', type, b)],
      opts,
    );
    expect(r.plan?.amounts.total).toBe(kind);
    expect(r.plan?.totalScale2).toBe(scale2);
  });

  it('reads a 税率 column that is numeric or an integer, and refuses text and floating point with what to do', () => {
    const cat = (type: string, b: string): CatalogColumn[] => [
      ...base,
      col('t', 'date', 'date'),
      col('amt', 'numeric', 'numeric'),
      col('r', type, b),
    ];
    const check = (type: string, b: string) =>
      checkReconcileMapping(mapping({ rate: 'r' }), cat(type, b), opts).checks.find((c) => c.field === 'rate')!;
    expect(check('numeric(5,4)', 'numeric')).toMatchObject({
      ok: true,
      readAs: 'tax rate: a value under 0.2 is a fraction (0.13), from 0.2 on a percentage (13)',
    });
    expect(check('smallint', 'int2').ok).toBe(true);
    expect(describeProblem(check('text', 'text'), 'reconcile.local', 'table public.fp')).toBe(
      "reconcile.local.columns.rate: column 'r' of table public.fp (text) is text: map a query with replace(r, '%', '')::numeric (13% → 13)",
    );
    expect(check('double precision', 'float8').problem).toBe(
      'is floating point: change it to numeric(5,4), or map a query with round(r::numeric, 4)',
    );
    expect(checkReconcileMapping(mapping({ rate: 'r' }), cat('text', 'text'), opts).plan).toBeUndefined();
  });

  it('reads tax ID columns as text compared with upstream', () => {
    const r = checkReconcileMapping(
      mapping({ sellerTaxId: 's' }),
      [...base, col('t', 'date', 'date'), col('amt', 'numeric', 'numeric'), col('s', 'varchar(20)', 'varchar')],
      opts,
    );
    expect(r.checks.find((c) => c.field === 'sellerTaxId')).toMatchObject({
      ok: true,
      readAs: 'compared with upstream (party_mismatch), as text (spaces at either end ignored)',
    });
  });

  it('reads an enum status when every label is mapped, and names the labels that are not', () => {
    const cat = [
      ...base.slice(0, 1),
      col('t', 'date', 'date'),
      col('amt', 'numeric', 'numeric'),
      col('st', 'invoice_state', 'invoice_state', { enumLabels: ['issued', 'cancelled', 'reversed'] }),
    ];
    expect(
      checkReconcileMapping(
        mapping({}, { statusMap: { issued: 'valid', cancelled: 'voided', reversed: 'red_flushed' } }),
        cat,
        opts,
      ).plan,
    ).toBeDefined();
    const r = checkReconcileMapping(mapping({}, { statusMap: { issued: 'valid' } }), cat, opts);
    expect(r.plan).toBeUndefined();
    expect(
      describeProblem(
        r.checks.find((c) => !c.ok)!,
        'reconcile.local',
        'table public.einvoice',
      ),
    ).toBe(
      "reconcile.local.columns.status: column 'st' of table public.einvoice (invoice_state) is an enum whose labels 'cancelled', 'reversed' have no entry in reconcile.local.statusMap: add them (valid, voided, red_flushed, …)",
    );
  });

  it.each([
    [
      'amt',
      'bigint',
      'int8',
      "column 'amt' of table t (bigint) is an integer: say what it holds with reconcile.local.amountUnit: fen (or yuan)",
    ],
    [
      'amt',
      'double precision',
      'float8',
      "column 'amt' of table t (double precision) is floating point, which cannot hold every fen exactly: change it to numeric(14,2), or map a query with round(amt::numeric, 2)",
    ],
    [
      'amt',
      'text',
      'text',
      "column 'amt' of table t (text) is not numeric, an integer or money: cast it in reconcile.*.query",
    ],
    [
      't',
      'time without time zone',
      'time',
      "column 't' of table t (time without time zone) is not timestamptz, timestamp, date or ISO text: cast it in reconcile.*.query",
    ],
    [
      'no',
      'bigint',
      'int8',
      "column 'no' of table t (bigint) holds numbers, which lose leading zeros: store it as text, or map a query with lpad(no::text, N, '0')",
    ],
    [
      'st',
      'jsonb',
      'jsonb',
      "column 'st' of table t (jsonb) is not text, an integer, boolean or an enum: cast it in reconcile.*.query",
    ],
  ])('refuses %s of type %s', (name, type, b, line) => {
    const cat = [
      col('no', 'text', 'text'),
      col('st', 'text', 'text'),
      col('t', 'date', 'date'),
      col('amt', 'numeric', 'numeric'),
    ].map((c) => (c.name === name ? col(name, type, b) : c));
    const r = checkReconcileMapping(mapping({}), cat, opts);
    expect(r.plan).toBeUndefined();
    const bad = r.checks.filter((c) => !c.ok);
    expect(bad).toHaveLength(1);
    expect(describeProblem(bad[0]!, 'reconcile.local', 'table t')).toBe(
      `reconcile.local.columns.${bad[0]!.field}: ${line}`,
    );
  });

  it('money with amountUnit fen is a contradiction; a missing column lists the columns there are', () => {
    const r = checkReconcileMapping(
      mapping({ buyerTaxId: 'gfsh' }, { amountUnit: 'fen' }),
      [...base, col('t', 'date', 'date'), col('amt', 'money', 'money')],
      opts,
    );
    expect(r.checks.filter((c) => !c.ok).map((c) => describeProblem(c, 'reconcile.local', 'table t'))).toEqual([
      "reconcile.local.columns.total: column 'amt' of table t (money) is money, which holds yuan: remove reconcile.local.amountUnit: fen",
      "reconcile.local.columns.buyerTaxId: table t has no column 'gfsh' (it has no, st, t, amt)",
    ]);
  });

  it('checks only the columns the mapping names, and says how each is read', () => {
    const r = checkReconcileMapping(
      mapping({}),
      [
        ...base,
        col('t', 'timestamp without time zone', 'timestamp'),
        col('amt', 'numeric(14,2)', 'numeric', { scale: 2 }),
      ],
      opts,
    );
    expect(r.checks.map((c) => [c.field, c.ok, c.readAs])).toEqual([
      ['number', true, 'part of the invoice key, as text (spaces at either end ignored)'],
      ['status', true, 'integer code, through reconcile.local.statusMap'],
      ['issuedAt', true, 'wall-clock time in Asia/Shanghai (the configured timezone)'],
      ['total', true, 'yuan, rounded half away from zero to the fen'],
    ]);
  });
});
