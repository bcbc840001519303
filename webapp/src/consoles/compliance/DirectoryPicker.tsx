// Picks users, channels, teams or groups from the compliance directory: a combobox that searches as
// the officer types (arrow keys, Enter to add, Escape to close) and the chosen ones as removable chips.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { complianceApi, type Directory } from './api.ts';
import { errorText } from './shared.tsx';

export type DirectoryKind = 'users' | 'channels' | 'teams' | 'groups';

export interface Picked {
  id: string;
  label: string;
}

/** One directory entry as the picker shows it. */
export function pickedOf(kind: DirectoryKind, d: Directory): Picked[] {
  switch (kind) {
    case 'users':
      return d.users.map((u) => ({ id: u.id, label: `@${u.username}${u.display_name ? ` (${u.display_name})` : ''}${u.deactivated ? ' · deactivated' : ''}` }));
    case 'channels':
      return d.channels.map((c) => ({ id: c.id, label: `${c.type === 'P' ? '🔒 ' : '~'}${c.display_name} · ${c.team_display_name}${c.archived ? ' · archived' : ''}` }));
    case 'teams':
      return d.teams.map((t) => ({ id: t.id, label: t.display_name }));
    case 'groups':
      return d.groups.map((g) => ({ id: g.id, label: `${g.display_name} (${g.source})` }));
  }
}

/** Labels for ids already chosen (an existing policy's teams, say), looked up once. */
export async function labelIds(kind: DirectoryKind, ids: string[]): Promise<Picked[]> {
  if (ids.length === 0) return [];
  const found = pickedOf(kind, await complianceApi.directoryByIds(ids));
  const byId = new Map(found.map((p) => [p.id, p]));
  return ids.map((id) => byId.get(id) ?? { id, label: id });
}

const DEBOUNCE_MS = 200;

export function DirectoryPicker({ kind, label, value, onChange }: { kind: DirectoryKind; label: string; value: Picked[]; onChange(next: Picked[]): void }) {
  const id = useId();
  const [term, setTerm] = useState('');
  const [options, setOptions] = useState<Picked[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [status, setStatus] = useState('');
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const wanted = term.trim();
    if (!wanted) {
      setOptions([]);
      setStatus('');
      return;
    }
    let cancelled = false;
    const t = setTimeout(() => {
      complianceApi.directory(wanted).then(
        (d) => {
          if (cancelled) return;
          const chosen = new Set(value.map((v) => v.id));
          const found = pickedOf(kind, d).filter((p) => !chosen.has(p.id));
          setOptions(found);
          setActive(0);
          setOpen(true);
          setStatus(found.length ? `${found.length} found` : 'Nothing found');
        },
        (err) => !cancelled && setStatus(errorText(err)),
      );
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [term, kind, value]);

  const choose = (p: Picked) => {
    onChange([...value, p]);
    setTerm('');
    setOpen(false);
    input.current?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp' && options.length) {
      e.preventDefault();
      setActive((a) => (a - 1 + options.length) % options.length);
    } else if (e.key === 'Enter' && open && options[active]) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
    }
  };

  const listId = `${id}-list`;
  const expanded = open && options.length > 0;
  return (
    <div className="cc-picker">
      <label htmlFor={`${id}-input`}>{label}</label>
      {value.length > 0 && (
        <ul className="cc-chips" aria-label={`${label}: chosen`}>
          {value.map((p) => (
            <li key={p.id} className="cc-chip">
              <span>{p.label}</span>
              <button type="button" aria-label={`Remove ${p.label}`} onClick={() => onChange(value.filter((v) => v.id !== p.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="cc-combobox">
        <input
          id={`${id}-input`}
          ref={input}
          type="text"
          role="combobox"
          autoComplete="off"
          aria-autocomplete="list"
          aria-expanded={expanded}
          aria-controls={listId}
          aria-activedescendant={expanded ? `${id}-opt-${active}` : undefined}
          placeholder="Type to search"
          value={term}
          onChange={(e) => setTerm(e.target.value)}
          onKeyDown={onKey}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        <ul id={listId} role="listbox" aria-label={`${label}: matches`} className="cc-options" hidden={!expanded}>
          {options.map((p, i) => (
            <li
              key={p.id}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : undefined}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => choose(p)}
            >
              {p.label}
            </li>
          ))}
        </ul>
      </div>
      <span className="visually-hidden" role="status">
        {status}
      </span>
    </div>
  );
}
