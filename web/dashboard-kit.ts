import type { DashboardObject, DashboardView, DashboardViews } from "./dashboard-views.ts";

/**
 * The page's rendering tools, independent of the live state: YAML for the detail pane, SVG line
 * charts, and the row patcher that keeps a table's rows (and so the user's text selection and
 * scroll) in place while only changed cells are rewritten. A self-contained factory, embedded in
 * the page by its source text like `dashboardViews`.
 */
export function dashboardKit(V: DashboardViews) {
  type Obj = DashboardObject;
  type View = DashboardView;

  function scalar(v: unknown): string {
    if (typeof v !== "string") return String(v);
    return /^[\w./@-][\w ./:@=+,-]*$/.test(v) &&
      !/^(true|false|null|yes|no|on|off|[\d.]+)$/i.test(v) &&
      !/: | #|:$/.test(v)
      ? v
      : JSON.stringify(v);
  }

  /** The YAML text that follows `key:` (a scalar after a space, or an indented block). */
  function block(v: unknown, pad: string): string {
    if (Array.isArray(v)) return v.length ? v.map((x) => `\n${pad}- ${item(x, `${pad}  `)}`).join("") : " []";
    if (v && typeof v === "object") {
      const entries = Object.entries(v);
      return entries.length
        ? entries.map(([k, x]) => `\n${pad}${k}:${block(x, `${pad}  `)}`).join("")
        : " {}";
    }
    return ` ${v === undefined ? "null" : scalar(v)}`;
  }

  function item(x: unknown, pad: string): string {
    const s = block(x, pad);
    return s.startsWith("\n") ? s.slice(pad.length + 1) : s.slice(1);
  }

  function yaml(obj: unknown): string {
    return block(obj, "").replace(/^\n/, "");
  }

  /** A line chart as inline SVG: the series scaled to its maximum, the latest value in words. */
  function chart(title: string, points: number[], show: (n: number) => string, unavailable?: string): string {
    const last = points[points.length - 1];
    const max = Math.max(...points, 0) || 1;
    const xy = points.map(
      (p, i) =>
        `${((i / Math.max(1, points.length - 1)) * 300).toFixed(1)},${(88 - (p / max) * 84).toFixed(1)}`,
    );
    const line = xy.join(" ");
    const label =
      unavailable ||
      (last === undefined ? "waiting for the first sample" : `${show(last)} now, peak ${show(max)}`);
    const svg = points.length
      ? `<svg viewBox="0 0 300 90" preserveAspectRatio="none" aria-hidden="true"><polygon class="area" points="0,90 ${line} 300,90"/><polyline points="${line}"/></svg>`
      : "";
    return `<div class="card chart" role="img" aria-label="${V.esc(`${title}: ${label}`)}"><h3>${V.esc(title)}</h3><p class="muted">${V.esc(label)}</p>${svg}</div>`;
  }

  /**
   * Brings a table body in line with `items`: rows are keyed by uid, moved only when out of order,
   * and a cell is written only when its text or tone changed.
   */
  function patchRows(tbody: HTMLElement, view: View, items: Obj[], now: number, selected?: string): void {
    const existing = new Map<string, HTMLTableRowElement>();
    for (const tr of Array.from(tbody.children) as HTMLTableRowElement[]) {
      const uid = tr.dataset.uid;
      if (uid) existing.set(uid, tr);
      else tr.remove();
    }
    let cursor = tbody.firstElementChild;
    for (const o of items) {
      const uid = o.metadata.uid;
      let tr = existing.get(uid);
      existing.delete(uid);
      const fresh = rowElement(view, o, now);
      if (!tr) tr = fresh;
      else patchCells(tr, fresh);
      tr.classList.toggle("sel", uid === selected);
      if (tr !== cursor) tbody.insertBefore(tr, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const tr of existing.values()) tr.remove();
    if (!items.length) tbody.innerHTML = `<tr><td class="muted" colspan="${view.cols.length}">none</td></tr>`;
  }

  function rowElement(view: View, o: Obj, now: number): HTMLTableRowElement {
    const tbody = document.createElement("tbody");
    tbody.innerHTML = V.rowHtml(view, o, now);
    return tbody.firstElementChild as HTMLTableRowElement;
  }

  function patchCells(tr: HTMLTableRowElement, fresh: HTMLTableRowElement): void {
    const cells = Array.from(tr.children) as HTMLElement[];
    Array.from(fresh.children).forEach((cell, i) => {
      const td = cells[i];
      if (!td) return;
      if (td.className !== cell.className) td.className = cell.className;
      const target = (td.firstElementChild as HTMLElement | null) ?? td;
      const text = cell.textContent ?? "";
      if (target.textContent !== text) target.textContent = text;
    });
  }

  /** Writes `html` into the element only when it differs from what was written last. */
  function setHtml(el: HTMLElement | null, html: string): void {
    if (el && el.dataset.html !== html) {
      el.innerHTML = html;
      el.dataset.html = html;
    }
  }

  function setText(el: HTMLElement | null, text: string): void {
    if (el && el.textContent !== text) el.textContent = text;
  }

  return { yaml, chart, patchRows, setHtml, setText };
}

export type DashboardKit = ReturnType<typeof dashboardKit>;
