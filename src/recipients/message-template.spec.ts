import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MessageTemplate, PLACEHOLDER_NAME } from './message-template.js';

describe('MessageTemplate', () => {
  it('finds placeholders, with optional spaces, unique and in order of first use', () => {
    const t = MessageTemplate.parse('Hi {{name}}, {{ city }} {{name}} {{  order.id  }} {{a_b-c}} {{_x}}');
    expect(t.placeholders).toEqual(['name', 'city', 'order.id', 'a_b-c', '_x']);
    expect(t.isPersonalised).toBe(true);
  });

  it('leaves anything that is not a placeholder as text', () => {
    const t = MessageTemplate.parse('{{}} {{ 1x }} {name} {{na me}} {{name} {{-x}} }}');
    expect(t.placeholders).toEqual([]);
    expect(t.isPersonalised).toBe(false);
    expect(t.render(null)).toEqual({ text: '{{}} {{ 1x }} {name} {{na me}} {{name} {{-x}} }}' });
  });

  it('renders by joining literal parts and values', () => {
    const t = MessageTemplate.parse('Hallo {{ name }}, Ihr Code {{code}} ({{name}}).');
    expect(t.render({ name: 'Anna', code: '1234', unused: 'x' })).toEqual({ text: 'Hallo Anna, Ihr Code 1234 (Anna).' });
    expect(MessageTemplate.parse('{{a}}{{b}}').render({ a: '1', b: '2' })).toEqual({ text: '12' });
    expect(MessageTemplate.parse('{{{a}}}').render({ a: '1' })).toEqual({ text: '{1}' });
  });

  it('returns the text unchanged for a template without placeholders', () => {
    const t = MessageTemplate.parse('Sale today!');
    expect(t.render(undefined)).toEqual({ text: 'Sale today!' });
    expect(t.render({ any: 'thing' })).toEqual({ text: 'Sale today!' });
    expect(t.source).toBe('Sale today!');
  });

  it('lists missing variables, unique and in template order', () => {
    const t = MessageTemplate.parse('{{b}} {{a}} {{b}} {{c}}');
    expect(t.render({ a: 'x' })).toEqual({ missing: ['b', 'c'] });
    expect(t.render(null)).toEqual({ missing: ['b', 'a', 'c'] });
    expect(t.render(undefined)).toEqual({ missing: ['b', 'a', 'c'] });
  });

  it('treats blank, non-string and inherited values as missing', () => {
    const t = MessageTemplate.parse('Hi {{name}}');
    expect(t.render({ name: '' })).toEqual({ missing: ['name'] });
    expect(t.render({ name: '  \t' })).toEqual({ missing: ['name'] });
    expect(t.render({ name: 42 } as unknown as Record<string, string>)).toEqual({ missing: ['name'] });
    expect(MessageTemplate.parse('{{constructor}} {{toString}}').render({})).toEqual({ missing: ['constructor', 'toString'] });
    expect(MessageTemplate.parse('{{__proto__}}').render(JSON.parse('{"__proto__": "x"}'))).toEqual({ text: 'x' });
  });

  it('never expands placeholders inside values (and never emits them)', () => {
    const t = MessageTemplate.parse('Hi {{name}}');
    expect(t.render({ name: '{{other}}', other: 'x' })).toEqual({ missing: ['name'] });
    expect(t.render({ name: '{{ 1 }} {curly}' })).toEqual({ text: 'Hi {{ 1 }} {curly}' });
    expect(t.render({ name: '$& $1 $$' })).toEqual({ text: 'Hi $& $1 $$' });
    // Placeholders formed by joining values with literal braces are reported too.
    expect(MessageTemplate.parse('{{{{x}}}}').render({ x: 'a' })).toEqual({ missing: ['a'] });
    expect(MessageTemplate.parse('{{{x}}}').render({ x: '{b}' })).toEqual({ missing: ['b'] });
    expect(MessageTemplate.parse('{{x}}b}}').render({ x: '{{' })).toEqual({ missing: ['b'] });
    expect(MessageTemplate.parse('{{{x}}}').render({ x: 'b' })).toEqual({ text: '{b}' });
  });

  it('never returns a text with an unfilled placeholder', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'first_name', 'x.y');
    const piece = fc.oneof(
      fc.string({ maxLength: 5 }),
      name.map((n) => `{{${n}}}`),
      name.map((n) => `{{ ${n} }}`),
      fc.constantFrom('{', '}', '{{', '}}'),
    );
    const values = fc.dictionary(name, fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('{{a}}', '{{', '}}', ' ')));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), values, (parts, vars) => {
        const t = MessageTemplate.parse(parts.join(''));
        const result = t.render(vars);
        if ('text' in result) {
          expect(MessageTemplate.parse(result.text).placeholders).toEqual([]);
        } else {
          expect(result.missing.length).toBeGreaterThan(0);
          for (const m of result.missing) expect(m).toMatch(PLACEHOLDER_NAME);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a non-string template', () => {
    expect(() => MessageTemplate.parse(undefined as unknown as string)).toThrow(TypeError);
  });
});
