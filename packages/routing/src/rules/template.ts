import { own } from '../core/own';

/** A pager alias template: text with {{ alias }}, {{ source }}, {{ severity }} and {{ labels.NAME }} placeholders. */
export interface AliasTemplate {
  readonly text: string;
  readonly parts: readonly TemplatePart[];
}

type TemplatePart = { readonly literal: string } | { readonly field: 'alias' | 'source' | 'severity' } | { readonly label: string };

export type ParsedTemplate = { ok: true; template: AliasTemplate } | { ok: false; error: string };

const PLACEHOLDER = /\{\{\s*([^}]*?)\s*\}\}/g;

/** Parses a template once, at compile time, so a typo is a rules-file problem and not a strange alias later. */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push({ literal: text.slice(last, m.index) });
    const name = m[1]!;
    if (name === 'alias' || name === 'source' || name === 'severity') parts.push({ field: name });
    else if (/^labels\.[A-Za-z_][A-Za-z0-9_]*$/.test(name)) parts.push({ label: name.slice('labels.'.length) });
    else {
      return {
        ok: false,
        error: `unknown placeholder {{ ${name} }} in ${JSON.stringify(text)} (expected {{ alias }}, {{ source }}, {{ severity }} or {{ labels.NAME }})`,
      };
    }
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  if (parts.some((p) => 'literal' in p && /\{\{|\}\}/.test(p.literal))) {
    return { ok: false, error: `unbalanced {{ }} in ${JSON.stringify(text)}` };
  }
  return { ok: true, template: { text, parts } };
}

export interface TemplateValues {
  alias: string;
  source: string;
  severity: string;
  labels: Readonly<Record<string, string>>;
}

/** Max length of an Opsgenie / JSM Ops alert alias. */
export const PAGER_ALIAS_MAX = 512;

/** Renders the template; a missing label renders as "", and an all-blank result falls back to the alias. */
export function renderTemplate(t: AliasTemplate, v: TemplateValues): string {
  const out = t.parts
    .map((p) => ('literal' in p ? p.literal : 'field' in p ? v[p.field] : (own(v.labels, p.label) ?? '')))
    .join('');
  const trimmed = out.trim();
  return [...(trimmed === '' ? v.alias : trimmed)].slice(0, PAGER_ALIAS_MAX).join('');
}
