/**
 * Message texts with `{{name}}` placeholders (spaces inside the braces allowed: `{{ name }}`;
 * names match `[A-Za-z_][A-Za-z0-9_.-]*` and are case-sensitive). Anything else in braces, e.g.
 * `{{ 1x }}` or `{{}}`, is literal text.
 *
 * A template is compiled once into literal parts and placeholder slots; rendering one recipient's
 * text is a single pass that joins the precomputed parts (it runs for up to 1M recipients).
 *
 * A variable is usable when it is an own string property of the variables object that is not
 * blank (an empty or whitespace-only value would produce "Hello ,") and does not itself contain a
 * placeholder (values are inserted verbatim and never expanded again, so such a value would put a
 * literal `{{...}}` into the SMS). Any placeholder without a usable value makes `render` return
 * `{ missing }` instead of a text. A placeholder that only appears once values are joined with
 * the literal text around them (`{{{{x}}}}`, or `{` + value `{y}` + `}`) is reported as missing as
 * well, so a rendered text never contains anything that reads as a placeholder.
 */

/** Placeholder name grammar. */
export const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const CONTAINS_PLACEHOLDER = /\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\}/;

export type RenderResult = { text: string } | { missing: string[] };

export class MessageTemplate {
  /** Unique placeholder names, in order of first appearance. */
  readonly placeholders: string[];
  readonly isPersonalised: boolean;

  /** literals[i] precedes the i-th placeholder occurrence; one more literal than slots. */
  private readonly literals: string[];
  /** Index into `placeholders` of each placeholder occurrence. */
  private readonly slots: number[];

  private constructor(readonly source: string) {
    const names: string[] = [];
    const index = new Map<string, number>();
    const literals: string[] = [];
    const slots: number[] = [];
    let last = 0;
    for (const match of source.matchAll(PLACEHOLDER)) {
      const name = match[1];
      let slot = index.get(name);
      if (slot === undefined) {
        slot = names.length;
        index.set(name, slot);
        names.push(name);
      }
      literals.push(source.slice(last, match.index));
      slots.push(slot);
      last = match.index + match[0].length;
    }
    literals.push(source.slice(last));
    this.placeholders = names;
    this.isPersonalised = names.length > 0;
    this.literals = literals;
    this.slots = slots;
  }

  static parse(text: string): MessageTemplate {
    if (typeof text !== 'string') throw new TypeError('A message template must be a string');
    return new MessageTemplate(text);
  }

  /** The recipient's text, or the placeholders (unique, in template order) lacking a usable value. */
  render(variables: Record<string, string> | null | undefined): RenderResult {
    const names = this.placeholders;
    if (names.length === 0) return { text: this.source };
    const values = new Array<string>(names.length);
    let missing: string[] | undefined;
    for (let i = 0; i < names.length; i++) {
      const value: unknown = variables != null && Object.hasOwn(variables, names[i]) ? variables[names[i]] : undefined;
      if (isUsable(value)) values[i] = value;
      else (missing ??= []).push(names[i]);
    }
    if (missing) return { missing };
    const { literals, slots } = this;
    let text = literals[0];
    for (let i = 0; i < slots.length; i++) text += values[slots[i]] + literals[i + 1];
    // Values next to literal braces can still form a placeholder ("{" + "{x}" + "}"): report it.
    if (text.includes('{{')) {
      const formed = [...new Set(Array.from(text.matchAll(PLACEHOLDER), (m) => m[1]))];
      if (formed.length > 0) return { missing: formed };
    }
    return { text };
  }
}

function isUsable(value: unknown): value is string {
  if (typeof value !== 'string' || value.trim().length === 0) return false;
  return !(value.includes('{{') && CONTAINS_PLACEHOLDER.test(value));
}
