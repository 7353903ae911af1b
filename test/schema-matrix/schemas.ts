// The schema matrix: invoice databases designed unlike the demo's (src/demo/sample-data.ts), each
// built by the suite, so that every command is exercised on the shapes real invoice systems have
// (issue 8). Rows are deterministic functions of their row number g (no random()), spread over
// 2026-11-01 … 2026-11-27 in Asia/Shanghai, so tests can compute exact expected results.
//
// Every schema also exposes `canonicalSql`: the same invoices as plain columns (key, issued_at as
// timestamptz, total in fen, status as the canonical word; amount and tax in fen, seller and buyer
// tax IDs where the schema has them), written by hand per schema and independent of src/, to serve
// as the tests' oracle.

export interface MatrixSchema {
  /** short id, used in database names */
  id: string;
  /** what makes it unlike the demo */
  about: string;
  /** DDL and seed rows, run in order on an empty database */
  setup(rows: number): string[];
  /** verifyTables as a user would write them (as `\dt` prints them) */
  verifyTables: string[];
  /** the invoice table and a reconcile.local mapping for it, in config form */
  invoices: {
    table: string;
    columns: Record<string, string>;
    statusMap?: Record<string, string>;
    /** what integer amount columns hold (reconcile.*.amountUnit) */
    amountUnit?: 'fen' | 'yuan';
    /** the issue time is a date: no time of day to compare */
    dateOnly?: boolean;
  };
  /**
   * Inserts invoices from a table `canon (code text, number text, issued_at timestamptz, total_fen
   * bigint, status text, amount_fen bigint, tax_fen bigint, seller text, buyer text)` (status a
   * canonical word, code null for a 数电 number; a null amount or tax is split from the total at 13 %)
   * into this schema's tables, built with setup(0): the schema as a postgres upstream holding
   * another schema's invoices.
   */
  load: string;
  /** one row per invoice: key text, issued_at timestamptz, total_fen bigint, status text, amount_fen bigint, tax_fen bigint, seller text, buyer text */
  canonicalSql: string;
  /** statements a test applies after a first backup (schema evolution: a new partition, …) */
  evolve?: string[];
}

/** Valid 统一社会信用代码 (GB 32100 check character), as in src/demo/sample-data.ts. */
const SELLER_IDS = `array['91310110666007217T','91110000600037341L','91440300MA5F1234XC','91330106MA27Y0P54X']`;
const BUYER_IDS = `array['913110000000000008','91311000791902375X','913110015838047514','91311002375707127N']`;

/** Shared expressions over a generate_series column `g`. */
const G = {
  /** 20-digit 数电 invoice number (no code) */
  digital: `('2631' || lpad(g::text, 16, '0'))`,
  /** 12-digit code + 8-digit number (paper/legacy 专票) */
  code: `('0310' || lpad((g % 7)::text, 8, '0'))`,
  number: `lpad(g::text, 8, '0')`,
  /** an issue instant in Shanghai between 2026-11-01 and 2026-11-27 */
  issuedAt: `(timestamptz '2026-11-01 09:00:00+08' + ((g * 7919) % (26 * 86400)) * interval '1 second')`,
  amountFen: `(1000 + (g * 104729) % 9990000)::bigint`,
  seller: `(${SELLER_IDS})[1 + g % 4]`,
  buyer: `(${BUYER_IDS})[1 + g % 4]`,
};
/** In load SQL over `canon`: its amount and tax in fen, else the total split at 13 %; its seller and buyer. */
const C = {
  tax: `coalesce(tax_fen, round(total_fen * 13 / 113.0)::bigint)`,
  amount: `coalesce(amount_fen, (total_fen - round(total_fen * 13 / 113.0))::bigint)`,
  seller: `coalesce(seller, '91310110666007217T')`,
};

/** tax = amount × 13 %, rounded half up to the fen */
const taxFen = (amountFen: string): string => `round(${amountFen} * 0.13)::bigint`;
// the parentheses around the argument matter: yuan(`a + b`) is (a + b) / 100, not a + b / 100
const yuan = (fen: string): string => `((${fen}) / 100.0)::numeric(14,2)`;

/** 1. Pinyin column names (fpdm/fphm/kprq/je/se/jshj/zt/xfsh/gfsh), text status in Chinese, line items in their own table. */
const pinyin: MatrixSchema = {
  id: 'pinyin',
  about: 'pinyin column names, Chinese text status, items in fp_mx',
  setup: (rows) => [
    `create table public.fp_zb (
       id serial primary key, fpdm varchar(12) not null, fphm varchar(8) not null,
       kprq timestamptz not null, je numeric(14,2) not null, se numeric(14,2) not null,
       jshj numeric(14,2) not null, zt text not null, xfsh varchar(20) not null, gfsh varchar(20),
       unique (fpdm, fphm))`,
    `create table public.fp_mx (
       fp_id int not null references public.fp_zb (id), hh int not null, spmc text not null,
       je numeric(14,2) not null, primary key (fp_id, hh))`,
    `insert into public.fp_zb (fpdm, fphm, kprq, je, se, jshj, zt, xfsh, gfsh)
       select ${G.code}, ${G.number}, ${G.issuedAt}, ${yuan(G.amountFen)}, ${yuan(taxFen(G.amountFen))},
              ${yuan(`${G.amountFen} + ${taxFen(G.amountFen)}`)},
              case when g % 50 = 0 then '作废' else '正常' end, ${G.seller}, ${G.buyer}
       from generate_series(1, ${rows}) g`,
    `insert into public.fp_mx select id, 1, '*信息技术服务*软件维护费', je from public.fp_zb`,
  ],
  verifyTables: ['fp_zb', 'public.fp_mx'],
  invoices: {
    table: 'public.fp_zb',
    columns: {
      code: 'fpdm',
      number: 'fphm',
      issuedAt: 'kprq',
      amount: 'je',
      tax: 'se',
      total: 'jshj',
      status: 'zt',
      sellerTaxId: 'xfsh',
      buyerTaxId: 'gfsh',
    },
    statusMap: { 正常: 'valid', 作废: 'voided', 红冲: 'red_flushed' },
  },
  load: `insert into public.fp_zb (fpdm, fphm, kprq, je, se, jshj, zt, xfsh, gfsh)
           select code, number, issued_at, ${C.amount} / 100.0, ${C.tax} / 100.0, total_fen / 100.0,
                  case status when 'voided' then '作废' when 'red_flushed' then '红冲' else '正常' end, ${C.seller}, buyer from canon`,
  canonicalSql: `select fpdm || '-' || fphm as key, kprq as issued_at, (jshj * 100)::bigint as total_fen,
                        case zt when '作废' then 'voided' when '红冲' then 'red_flushed' else 'valid' end as status,
                        (je * 100)::bigint as amount_fen, (se * 100)::bigint as tax_fen, xfsh as seller, gfsh as buyer from public.fp_zb`,
};

/** 2. Naive `timestamp` issue times (Shanghai wall clock) and a 20-digit 数电 number, no code column. */
const naiveTimestamp: MatrixSchema = {
  id: 'naivets',
  about: 'timestamp without time zone, 20-digit numbers without a code column, integer status',
  setup: (rows) => [
    `create schema sales`,
    `create table sales.invoice (
       invoice_no char(20) primary key, issue_time timestamp not null, net numeric(12,2) not null,
       vat numeric(12,2) not null, gross numeric(12,2) not null, state integer not null,
       seller varchar(18) not null, buyer varchar(18), rate smallint not null default 13)`,
    `insert into sales.invoice
       select ${G.digital}, (${G.issuedAt}) at time zone 'Asia/Shanghai', ${yuan(G.amountFen)},
              ${yuan(taxFen(G.amountFen))}, ${yuan(`${G.amountFen} + ${taxFen(G.amountFen)}`)},
              case when g % 40 = 0 then 2 else 0 end, ${G.seller}, ${G.buyer}
       from generate_series(1, ${rows}) g`,
  ],
  verifyTables: ['sales.invoice'],
  invoices: {
    table: 'sales.invoice',
    // 税率 as an integer percentage (13)
    columns: {
      number: 'invoice_no',
      issuedAt: 'issue_time',
      amount: 'net',
      tax: 'vat',
      rate: 'rate',
      total: 'gross',
      status: 'state',
      sellerTaxId: 'seller',
      buyerTaxId: 'buyer',
    },
    statusMap: { '0': 'valid', '2': 'voided', '3': 'red_flushed' },
  },
  load: `insert into sales.invoice
           select number, issued_at at time zone 'Asia/Shanghai', ${C.amount} / 100.0, ${C.tax} / 100.0, total_fen / 100.0,
                  case status when 'voided' then 2 when 'red_flushed' then 3 else 0 end, ${C.seller}, buyer from canon`,
  canonicalSql: `select invoice_no::text as key, issue_time at time zone 'Asia/Shanghai' as issued_at,
                        (gross * 100)::bigint as total_fen, case state when 2 then 'voided' when 3 then 'red_flushed' else 'valid' end as status,
                        (net * 100)::bigint as amount_fen, (vat * 100)::bigint as tax_fen, seller::text, buyer::text
                 from sales.invoice`,
};

/** 3. A `date` issue day, amounts as integer fen (bigint), status as an enum. */
const fenEnum: MatrixSchema = {
  id: 'fenenum',
  about: 'date issue day, bigint fen amounts, enum status',
  setup: (rows) => [
    `create type invoice_state as enum ('issued', 'cancelled', 'reversed')`,
    `create table public.einvoice (
       id bigint generated always as identity primary key, code text, num text not null,
       issue_date date not null, amount_fen bigint not null, tax_fen bigint not null,
       total_fen bigint not null, state invoice_state not null, seller_tin text not null,
       unique (code, num))`,
    `insert into public.einvoice (code, num, issue_date, amount_fen, tax_fen, total_fen, state, seller_tin)
       select ${G.code}, ${G.number}, (${G.issuedAt} at time zone 'Asia/Shanghai')::date, ${G.amountFen},
              ${taxFen(G.amountFen)}, ${G.amountFen} + ${taxFen(G.amountFen)},
              (case when g % 45 = 0 then 'cancelled' else 'issued' end)::invoice_state, ${G.seller}
       from generate_series(1, ${rows}) g`,
  ],
  verifyTables: ['einvoice'],
  invoices: {
    table: 'public.einvoice',
    // amounts in fen: the mapping must say so (the key the reconcile config defines for it)
    columns: {
      code: 'code',
      number: 'num',
      issuedAt: 'issue_date',
      amount: 'amount_fen',
      tax: 'tax_fen',
      total: 'total_fen',
      status: 'state',
      sellerTaxId: 'seller_tin',
    },
    statusMap: { issued: 'valid', cancelled: 'voided', reversed: 'red_flushed' },
    amountUnit: 'fen',
    dateOnly: true,
  },
  load: `insert into public.einvoice (code, num, issue_date, amount_fen, tax_fen, total_fen, state, seller_tin)
           select code, number, (issued_at at time zone 'Asia/Shanghai')::date, ${C.amount}, ${C.tax}, total_fen,
                  (case status when 'voided' then 'cancelled' when 'red_flushed' then 'reversed' else 'issued' end)::invoice_state,
                  ${C.seller} from canon`,
  canonicalSql: `select code || '-' || num as key, issue_date::timestamp at time zone 'Asia/Shanghai' as issued_at,
                        total_fen, case state when 'cancelled' then 'voided' when 'reversed' then 'red_flushed' else 'valid' end as status,
                        amount_fen, tax_fen, seller_tin as seller, null::text as buyer
                 from public.einvoice`,
};

/** 4. Partitioned by month, with a partition added after the first backup (`evolve`). */
const partitioned: MatrixSchema = {
  id: 'partitioned',
  about: 'range-partitioned by month; a December partition arrives after the first backup',
  setup: (rows) => [
    `create schema billing`,
    `create table billing.invoices (
       invoice_code varchar(12) not null, invoice_number varchar(8) not null, issued_at timestamptz not null,
       amount numeric(14,2) not null, tax_amount numeric(14,2) not null, total_amount numeric(14,2) not null,
       status smallint not null default 0, seller_tax_id varchar(20) not null, buyer_tax_id varchar(20),
       primary key (invoice_code, invoice_number, issued_at)) partition by range (issued_at)`,
    `create table billing.invoices_2026_10 partition of billing.invoices for values from ('2026-10-01 00:00+08') to ('2026-11-01 00:00+08')`,
    `create table billing.invoices_2026_11 partition of billing.invoices for values from ('2026-11-01 00:00+08') to ('2026-12-01 00:00+08')`,
    `insert into billing.invoices
       select ${G.code}, ${G.number}, ${G.issuedAt} - case when g % 3 = 0 then interval '20 days' else interval '0' end,
              ${yuan(G.amountFen)}, ${yuan(taxFen(G.amountFen))}, ${yuan(`${G.amountFen} + ${taxFen(G.amountFen)}`)},
              case when g % 60 = 0 then 2 else 0 end, ${G.seller}, ${G.buyer}
       from generate_series(1, ${rows}) g`,
  ],
  verifyTables: ['billing.invoices'],
  invoices: {
    table: 'billing.invoices',
    columns: {
      code: 'invoice_code',
      number: 'invoice_number',
      issuedAt: 'issued_at',
      amount: 'amount',
      tax: 'tax_amount',
      total: 'total_amount',
      status: 'status',
      sellerTaxId: 'seller_tax_id',
      buyerTaxId: 'buyer_tax_id',
    },
  },
  load: `insert into billing.invoices
           select code, number, issued_at, ${C.amount} / 100.0, ${C.tax} / 100.0, total_fen / 100.0,
                  case status when 'voided' then 2 when 'red_flushed' then 3 else 0 end, ${C.seller}, buyer from canon`,
  canonicalSql: `select invoice_code || '-' || invoice_number as key, issued_at, (total_amount * 100)::bigint as total_fen,
                        case status when 2 then 'voided' when 3 then 'red_flushed' else 'valid' end as status,
                        (amount * 100)::bigint as amount_fen, (tax_amount * 100)::bigint as tax_fen, seller_tax_id::text as seller, buyer_tax_id::text as buyer
                 from billing.invoices`,
  evolve: [
    `create table billing.invoices_2026_12 partition of billing.invoices for values from ('2026-12-01 00:00+08') to ('2027-01-01 00:00+08')`,
    `insert into billing.invoices values ('031000000099', '99000001', '2026-12-02 10:00+08', 100.00, 13.00, 113.00, 0, '91310110666007217T', null)`,
  ],
};

/** 5. Quoted mixed-case and Chinese identifiers with spaces, a `money` total. */
const quoted: MatrixSchema = {
  id: 'quoted',
  about: 'Chinese schema/table/column names with a space, a mixed-case table, money amounts',
  setup: (rows) => [
    `set lc_monetary = 'C'`,
    `create schema "财务"`,
    `create table "财务"."发票 主表" (
       "发票代码" varchar(12) not null, "发票号码" varchar(8) not null, "开票日期" timestamptz not null,
       "金额" money not null, "税额" money not null, "价税合计" money not null, "状态" text not null,
       "销方识别号" varchar(20) not null, "购方识别号" varchar(20), primary key ("发票代码", "发票号码"))`,
    `create table "财务"."TaxRate" ("Code" text primary key, "Rate" numeric(5,4) not null)`,
    `insert into "财务"."TaxRate" values ('VAT13', 0.13), ('VAT6', 0.06), ('VAT0', 0)`,
    `insert into "财务"."发票 主表"
       select ${G.code}, ${G.number}, ${G.issuedAt}, ${yuan(G.amountFen)}::money, ${yuan(taxFen(G.amountFen))}::money,
              ${yuan(`${G.amountFen} + ${taxFen(G.amountFen)}`)}::money,
              case when g % 30 = 0 then '红冲' else '正常' end, ${G.seller}, ${G.buyer}
       from generate_series(1, ${rows}) g`,
  ],
  verifyTables: ['"财务"."发票 主表"', '"财务"."TaxRate"'],
  invoices: {
    table: '"财务"."发票 主表"',
    columns: {
      code: '发票代码',
      number: '发票号码',
      issuedAt: '开票日期',
      amount: '金额',
      tax: '税额',
      total: '价税合计',
      status: '状态',
      sellerTaxId: '销方识别号',
      buyerTaxId: '购方识别号',
    },
    statusMap: { 正常: 'valid', 红冲: 'red_flushed', 作废: 'voided' },
  },
  load: `insert into "财务"."发票 主表"
           select code, number, issued_at, (${C.amount} / 100.0)::numeric::money, (${C.tax} / 100.0)::numeric::money, (total_fen / 100.0)::numeric::money,
                  case status when 'voided' then '作废' when 'red_flushed' then '红冲' else '正常' end, ${C.seller}, buyer from canon`,
  canonicalSql: `select "发票代码" || '-' || "发票号码" as key, "开票日期" as issued_at, ("价税合计"::numeric * 100)::bigint as total_fen,
                        case "状态" when '红冲' then 'red_flushed' when '作废' then 'voided' else 'valid' end as status,
                        ("金额"::numeric * 100)::bigint as amount_fen, ("税额"::numeric * 100)::bigint as tax_fen, "销方识别号"::text as seller, "购方识别号"::text as buyer
                 from "财务"."发票 主表"`,
};

/** 6. A generated total, a jsonb payload, an explicit sequence and a materialized view. */
const generated: MatrixSchema = {
  id: 'generated',
  about: 'generated total column, jsonb payload, own sequence, materialized view of daily totals',
  setup: (rows) => [
    `create sequence public.invoice_seq start 1000`,
    `create table public.invoices (
       id bigint primary key default nextval('public.invoice_seq'), invoice_code varchar(12), invoice_number varchar(20) not null,
       issued_at timestamptz not null, amount numeric(14,2) not null, tax_amount numeric(14,2) not null,
       total_amount numeric(14,2) generated always as (amount + tax_amount) stored,
       status smallint not null default 0, seller_tax_id varchar(20) not null, buyer_tax_id varchar(20),
       payload jsonb not null default '{}')`,
    `create unique index invoices_key on public.invoices (coalesce(invoice_code, ''), invoice_number)`,
    `insert into public.invoices (invoice_code, invoice_number, issued_at, amount, tax_amount, status, seller_tax_id, buyer_tax_id, payload)
       select null, ${G.digital}, ${G.issuedAt}, ${yuan(G.amountFen)}, ${yuan(taxFen(G.amountFen))},
              case when g % 55 = 0 then 2 else 0 end, ${G.seller}, ${G.buyer},
              jsonb_build_object('source', 'erp', 'lines', g % 5 + 1, 'note', '备注 ' || g)
       from generate_series(1, ${rows}) g`,
    `create materialized view public.daily_totals as
       select (issued_at at time zone 'Asia/Shanghai')::date as day, count(*) as invoices, sum(total_amount) as total
       from public.invoices group by 1`,
  ],
  verifyTables: ['invoices'],
  invoices: {
    table: 'public.invoices',
    columns: {
      code: 'invoice_code',
      number: 'invoice_number',
      issuedAt: 'issued_at',
      amount: 'amount',
      tax: 'tax_amount',
      total: 'total_amount',
      status: 'status',
      sellerTaxId: 'seller_tax_id',
      buyerTaxId: 'buyer_tax_id',
    },
  },
  load: `insert into public.invoices (invoice_code, invoice_number, issued_at, amount, tax_amount, status, seller_tax_id, buyer_tax_id)
           select code, number, issued_at, ${C.amount} / 100.0, ${C.tax} / 100.0,
                  case status when 'voided' then 2 when 'red_flushed' then 3 else 0 end, ${C.seller}, buyer from canon`,
  canonicalSql: `select case when coalesce(invoice_code, '') = '' then invoice_number else invoice_code || '-' || invoice_number end as key, issued_at, (total_amount * 100)::bigint as total_fen,
                        case status when 2 then 'voided' when 3 then 'red_flushed' else 'valid' end as status,
                        (amount * 100)::bigint as amount_fen, (tax_amount * 100)::bigint as tax_fen, seller_tax_id::text as seller, buyer_tax_id::text as buyer
                 from public.invoices`,
};

export const SCHEMA_MATRIX: readonly MatrixSchema[] = [pinyin, naiveTimestamp, fenEnum, partitioned, quoted, generated];
