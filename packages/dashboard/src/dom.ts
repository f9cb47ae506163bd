import { type Zone, formatTime } from './time';

/** Tiny DOM builder: data only ever reaches the page as text nodes or attributes, never as HTML. */
type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = String(value);
    // Through CSSOM: a style attribute would need 'unsafe-inline' in the page's CSP.
    else if (key === 'style') el.style.cssText = String(value);
    else if (key === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

export const fmt = new Intl.NumberFormat('en-US');

/** An API timestamp as "2026-12-02 14:05:07 UTC" in the zone shown (with its µs when `micros`). */
export function stamp(iso: string, zone: Zone, micros = false): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const fraction = micros ? (/:\d{2}(\.\d+)/.exec(iso)?.[1] ?? '') : '';
  return formatTime(ms, zone, true, fraction);
}

/** An empty state or an error: a sentence saying what it means and what to do. */
export function note(text: string, kind: 'empty' | 'error' | 'info' = 'empty'): HTMLElement {
  return h('p', { class: `note note-${kind}`, role: kind === 'error' ? 'alert' : undefined }, text);
}
