import { createHash } from 'node:crypto';
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

/**
 * How every rendered pager alias begins: no incident's alias (each names its source: `alertmanager:`, `generic:`…), no
 * storm's (`storm:`) and no other key of the router's begins so. Without it a label's value could name another
 * incident's alias: that alert's page was merged into the other's in the pager, and its resolve closed the other's.
 */
export const RENDERED_PAGER_ALIAS_PREFIX = 'pager:';

/** The hex digits of the sha256 that end a rendered alias cut to PAGER_ALIAS_MAX, so that two cut alike stay apart. */
const CUT_DIGEST_CHARS = 16;

/**
 * Renders the template under RENDERED_PAGER_ALIAS_PREFIX. A label it names that the alert lacks, or has blank, gives the
 * incident's own alias (it pages on its own, as without the template): else every alert without it shared one alert.
 * In a value, a backslash and each character of the template's own text but letters and digits (its separators) is
 * written after a backslash, so that
 * `{{ labels.a }}-{{ labels.b }}` gives different aliases for a=`x-y` b=`z` and a=`x` b=`y-z`. Past PAGER_ALIAS_MAX code
 * points, the alias is cut and ends with `~` and a digest of the whole.
 */
export function renderTemplate(t: AliasTemplate, v: TemplateValues): string {
  const separators = new Set(t.parts.flatMap((p) => ('literal' in p ? [...p.literal].filter((c) => !/[\p{L}\p{N}]/u.test(c)) : [])));
  const escaped = (value: string) => [...value].map((c) => (c === '\\' || separators.has(c) ? `\\${c}` : c)).join('');
  let out = '';
  for (const p of t.parts) {
    if ('literal' in p) out += p.literal;
    else if ('field' in p) out += escaped(v[p.field]);
    else {
      const value = own(v.labels, p.label);
      if (value === undefined || value.trim() === '') return v.alias;
      out += escaped(value);
    }
  }
  const trimmed = out.trim();
  if (trimmed === '') return v.alias;
  const alias = [...`${RENDERED_PAGER_ALIAS_PREFIX}${trimmed}`];
  if (alias.length <= PAGER_ALIAS_MAX) return alias.join('');
  const digest = createHash('sha256').update(alias.join('')).digest('hex').slice(0, CUT_DIGEST_CHARS);
  return `${alias.slice(0, PAGER_ALIAS_MAX - CUT_DIGEST_CHARS - 1).join('')}~${digest}`;
}
