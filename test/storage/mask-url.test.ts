import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/core/storage/mask-url.js';

describe('maskUrl', () => {
  it.each([
    ['postgres://fg:s3cret@db:5432/invoices', 'postgres://fg:***@db:5432/invoices'],
    ['postgresql://fg@db/invoices', 'postgresql://fg@db/invoices'],
    ['postgres://fg:p@ss@db/invoices', 'postgres://fg:***@db/invoices'],
    ['s3://AKIAXXXX:abc/def+ghi@bucket/prefix', 's3://AKIAXXXX:***@bucket/prefix'],
    ['s3://bucket/prefix', 's3://bucket/prefix'],
    ['file:///var/backups/a@b:c', 'file:///var/backups/a@b:c'],
    ['postgres://db/x?sslmode=require&password=hunter2', 'postgres://db/x?sslmode=require&password=***'],
    [
      'https://h/o?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abcd&X-Amz-Security-Token=zz&x=1#frag',
      'https://h/o?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***&x=1#frag',
    ],
    ["host=db user=fg password='a b c' dbname=invoices", 'host=db user=fg password=*** dbname=invoices'],
    ['host=db sslpassword=x', 'host=db sslpassword=***'],
    ['', ''],
  ])('%s → %s', (input, expected) => {
    expect(maskUrl(input)).toBe(expected);
  });
});
