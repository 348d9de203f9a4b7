/**
 * `{{name}}` placeholders in campaign texts. Parsed once per campaign; rendering joins precomputed
 * parts, so it is cheap enough to run for every one of a million recipients. A text is never
 * produced with an unfilled placeholder: a missing variable is reported instead.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export type RenderResult = { text: string } | { missing: string[] };

export class MessageTemplate {
  private constructor(
    readonly source: string,
    /** Literal parts; placeholder i sits between parts[i] and parts[i + 1]. */
    private readonly parts: string[],
    private readonly names: string[],
  ) {}

  static parse(text: string): MessageTemplate {
    const parts: string[] = [];
    const names: string[] = [];
    let last = 0;
    for (const match of text.matchAll(PLACEHOLDER)) {
      parts.push(text.slice(last, match.index));
      names.push(match[1]);
      last = match.index + match[0].length;
    }
    parts.push(text.slice(last));
    return new MessageTemplate(text, parts, names);
  }

  /** Distinct placeholder names, in order of first use. */
  get placeholders(): string[] {
    return [...new Set(this.names)];
  }

  get isPersonalised(): boolean {
    return this.names.length > 0;
  }

  render(variables: Record<string, string> | null | undefined): RenderResult {
    if (this.names.length === 0) return { text: this.source };
    let out = this.parts[0];
    let missing: string[] | undefined;
    for (let i = 0; i < this.names.length; i++) {
      const value = variables?.[this.names[i]];
      if (typeof value !== 'string') {
        missing ??= [];
        if (!missing.includes(this.names[i])) missing.push(this.names[i]);
        continue;
      }
      out += value + this.parts[i + 1];
    }
    return missing ? { missing } : { text: out };
  }
}
