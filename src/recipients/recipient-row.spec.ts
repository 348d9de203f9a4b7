import { describe, expect, it } from '@jest/globals';
import { MessageTemplate } from './message-template.js';
import { PhoneNormalizer } from './phone-number.js';
import { evaluateRecipientRow, RECIPIENT_VARIABLE_LIMITS } from './recipient-row.js';

const phones = new PhoneNormalizer('CH');
const template = MessageTemplate.parse('Hallo {{name}}, Ihr Termin in {{city}}.');

describe('evaluateRecipientRow', () => {
  it('accepts a row: E.164 phone, all variables kept, segments of the rendered text', () => {
    const variables = { name: 'Anna', city: 'Zürich', extra: 'kept' };
    const result = evaluateRecipientRow({ row: 7, phone: '079 123 45 67', variables }, template, phones);
    expect(result).toEqual({ ok: true, row: 7, phone: '+41791234567', variables, segments: 1, encoding: 'GSM-7', nonGsm: [] });
    if (result.ok) expect(result.variables).toBe(variables);
  });

  it('reports UCS-2 texts and their non-GSM characters', () => {
    const result = evaluateRecipientRow({ row: 1, phone: '+41791234567', variables: { name: 'Łukasz', city: 'Kraków' } }, template, phones);
    expect(result).toMatchObject({ ok: true, segments: 1, encoding: 'UCS-2', nonGsm: ['Ł', 'ó'] });
    const long = MessageTemplate.parse('{{text}}');
    expect(evaluateRecipientRow({ row: 1, phone: '+41791234567', variables: { text: 'x'.repeat(161) } }, long, phones)).toMatchObject({ segments: 2 });
  });

  it('returns null variables when there are none', () => {
    const plain = MessageTemplate.parse('Sale!');
    expect(evaluateRecipientRow({ row: 1, phone: '+41791234567' }, plain, phones)).toMatchObject({ ok: true, variables: null });
    expect(evaluateRecipientRow({ row: 1, phone: '+41791234567', variables: null }, plain, phones)).toMatchObject({ ok: true, variables: null });
    expect(evaluateRecipientRow({ row: 1, phone: '+41791234567', variables: {} }, plain, phones)).toMatchObject({ ok: true, variables: null });
  });

  it('refuses an invalid phone with the normalizer reason and echoes the input', () => {
    expect(evaluateRecipientRow({ row: 3, phone: '12', variables: { name: 'A', city: 'B' } }, template, phones)).toEqual({
      ok: false,
      row: 3,
      phone: '12',
      reason: 'TOO_SHORT',
    });
    expect(evaluateRecipientRow({ row: 3, phone: '' }, template, phones)).toMatchObject({ reason: 'EMPTY' });
    expect(evaluateRecipientRow({ row: 3, phone: 'x'.repeat(100) }, template, phones)).toMatchObject({ phone: 'x'.repeat(64), reason: 'NOT_A_NUMBER' });
    expect(evaluateRecipientRow({ row: 3, phone: 41791234567 }, template, phones)).toMatchObject({ phone: '41791234567', reason: 'NOT_A_NUMBER' });
    expect(evaluateRecipientRow({ row: 3, phone: null }, template, phones)).toMatchObject({ phone: '', reason: 'EMPTY' });
  });

  it('refuses missing variables, naming them', () => {
    expect(evaluateRecipientRow({ row: 4, phone: '+41791234567', variables: { name: ' ' } }, template, phones)).toEqual({
      ok: false,
      row: 4,
      phone: '+41791234567',
      reason: 'MISSING_VARIABLE: name, city',
    });
    expect(evaluateRecipientRow({ row: 4, phone: '+41791234567' }, template, phones)).toMatchObject({ reason: 'MISSING_VARIABLE: name, city' });
  });

  it('refuses variables beyond the limits or of the wrong type', () => {
    const { maxVariables, maxKeyLength, maxValueLength } = RECIPIENT_VARIABLE_LIMITS;
    const plain = MessageTemplate.parse('Sale!');
    const check = (variables: unknown) => evaluateRecipientRow({ row: 1, phone: '+41791234567', variables }, plain, phones);
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, 'x']));

    expect(check(many(maxVariables))).toMatchObject({ ok: true });
    expect(check({ ['k'.repeat(maxKeyLength)]: 'x' })).toMatchObject({ ok: true });
    expect(check({ k: 'x'.repeat(maxValueLength) })).toMatchObject({ ok: true });

    for (const bad of [
      many(maxVariables + 1),
      { ['k'.repeat(maxKeyLength + 1)]: 'x' },
      { k: 'x'.repeat(maxValueLength + 1) },
      { '': 'x' },
      { k: 1 },
      { k: null },
      { k: ['x'] },
      ['x'],
      'name=Anna',
      42,
    ]) {
      expect(check(bad)).toMatchObject({ ok: false, reason: 'INVALID_VARIABLES' });
    }
  });

  it('checks the phone before the variables', () => {
    expect(evaluateRecipientRow({ row: 1, phone: 'abc', variables: ['x'] }, template, phones)).toMatchObject({ reason: 'NOT_A_NUMBER' });
  });
});
