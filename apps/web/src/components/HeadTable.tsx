/**
 * A layers × heads table in the ARIA grid pattern, shared by the workbench's head grid and the atlas map:
 * cells named `L{layer}H{head}`, hover previews a head, click or Enter/Space locks it, arrow keys move the
 * locked head (roving tabindex) and focus follows it while the table has focus. What a cell shows is the caller's.
 */
import { type CSSProperties, type ReactNode, useEffect, useMemo, useRef } from 'react';
import { type HeadRef, useGridKeys } from '../hooks/grid-navigation.js';
import { headName } from '../lib/format.js';
import { useViewStore } from '../state/view-store.js';

export interface HeadCellLook {
  /** Base class; ' locked' and ' hovered' are added. */
  className: string;
  style: CSSProperties;
  title: string;
  description?: string;
  /** Published as data-value (tests and tools read the drawn number). */
  value?: number;
  children: ReactNode;
}

interface Props {
  label: string;
  className: string;
  nLayers: number;
  nHeads: number;
  cell(layer: number, head: number): HeadCellLook;
}

export function HeadTable({ label, className, nLayers, nHeads, cell }: Props) {
  const head = useViewStore((s) => s.head);
  const previewHead = useViewStore((s) => s.previewHead);
  const endPreview = useViewStore((s) => s.endPreview);
  const lockHead = useViewStore((s) => s.lockHead);
  const locked = head.locked;
  const dims = useMemo(() => ({ nLayers, nHeads }), [nLayers, nHeads]);
  const onKeyDown = useGridKeys(locked, dims, lockHead);
  const cells = useRef(new Map<string, HTMLTableCellElement>());
  const layerIds = useMemo(() => Array.from({ length: nLayers }, (_, l) => l), [nLayers]);
  const headIds = useMemo(() => Array.from({ length: nHeads }, (_, h) => h), [nHeads]);

  // Focus follows the locked head while the table has focus (keyboard navigation).
  useEffect(() => {
    const el = cells.current.get(headName(locked.layer, locked.head));
    if (el?.closest('table')?.contains(document.activeElement)) el.focus();
  }, [locked]);

  return (
    // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the ARIA grid pattern (a table with role grid and focusable gridcells)
    <table role="grid" aria-label={label} className={className} onKeyDown={onKeyDown}>
      <thead>
        <tr>
          <td className="grid-corner" aria-hidden="true" />
          {headIds.map((h) => (
            <th scope="col" key={h} className="grid-colhead">
              H{h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {layerIds.map((l) => (
          <tr key={l} onMouseLeave={endPreview}>
            <th scope="row" className="grid-rowhead">
              L{l}
            </th>
            {headIds.map((h) => {
              const name = headName(l, h);
              const isLocked = locked.layer === l && locked.head === h;
              const ref: HeadRef = { layer: l, head: h };
              const look = cell(l, h);
              return (
                <td
                  key={h}
                  ref={(el) => {
                    if (el) cells.current.set(name, el);
                    else cells.current.delete(name);
                  }}
                  // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: gridcells of the ARIA grid pattern, with a roving tabindex
                  role="gridcell"
                  aria-label={name}
                  aria-selected={isLocked}
                  aria-description={look.description}
                  tabIndex={isLocked ? 0 : -1}
                  title={look.title}
                  data-value={look.value}
                  className={`${look.className}${isLocked ? ' locked' : ''}${head.hover?.layer === l && head.hover.head === h ? ' hovered' : ''}`}
                  style={look.style}
                  onMouseEnter={() => previewHead(ref)}
                  onClick={() => lockHead(ref)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      lockHead(ref);
                    }
                  }}
                >
                  {look.children}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
