import { useId, useMemo, useRef, useState } from 'react';
import type { Channel, Team, User } from '../api/types.ts';
import { moveSelection, rankChannels, rankUsers } from '../lib/composer.ts';
import { completeHint, describe, parseSearch, searchHint } from '../lib/search-syntax.ts';
import { loadTeamUsers } from '../state/actions.ts';
import { useAppState } from '../state/store.ts';

const MODIFIER_HELP: [string, string][] = [
  ['from:', 'messages by a person'],
  ['in:', 'messages in a channel'],
  ['on:', 'a day, YYYY-MM-DD'],
  ['before:', 'until a day'],
  ['after:', 'since a day'],
  ['"…"', 'an exact phrase'],
  ['-word', 'leave out a word'],
];

/** The search box, with completion for from: and in: and a reminder of the syntax. */
export function SearchBox({ team, onSearch }: { team: Team; onSearch: (query: string) => void }) {
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [focused, setFocused] = useState(false);
  const [selected, setSelected] = useState(0);
  const [users, setUsers] = useState<User[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const channelIds = useAppState((s) => s.teamChannels[team.id]);
  const channelMap = useAppState((s) => s.channels);
  const hint = focused ? searchHint(text, caret) : undefined;
  const parsed = useMemo(() => parseSearch(text), [text]);

  const options: { key: string; value: string; label: string }[] = useMemo(() => {
    if (!hint) return [];
    if (hint.kind === 'from') return rankUsers(users, hint.query, 6).map((u) => ({ key: u.id, value: u.username, label: `@${u.username}` }));
    if (hint.kind === 'in') {
      const channels = (channelIds ?? []).map((id) => channelMap[id]).filter((c): c is Channel => !!c);
      return rankChannels(channels, hint.query, 6).map((c) => ({ key: c.id, value: c.name, label: c.display_name }));
    }
    return [];
  }, [hint, users, channelIds, channelMap]);

  function choose(value: string) {
    if (!hint) return;
    const next = completeHint(text, hint, value);
    setText(next.text);
    setCaret(next.caret);
    requestAnimationFrame(() => input.current?.setSelectionRange(next.caret, next.caret));
  }

  const showHelp = focused && text.trim() === '';
  return (
    <form
      className="search-box"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) onSearch(text.trim());
      }}
    >
      <input
        ref={input}
        type="search"
        aria-label="Search messages"
        placeholder="Search"
        value={text}
        role="combobox"
        aria-expanded={options.length > 0}
        aria-controls={options.length ? listId : undefined}
        aria-activedescendant={options.length ? `${listId}-${selected}` : undefined}
        onFocus={() => {
          setFocused(true);
          if (users.length === 0) loadTeamUsers(team.id).then(setUsers, () => undefined);
        }}
        onBlur={() => setFocused(false)}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart ?? e.target.value.length);
          setSelected(0);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onKeyDown={(e) => {
          if (options.length === 0) return;
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            setSelected((i) => moveSelection(i, e.key === 'ArrowUp' ? -1 : 1, options.length));
          } else if (e.key === 'Tab' || e.key === 'Enter') {
            e.preventDefault();
            choose(options[selected].value);
          }
        }}
      />
      {options.length > 0 && (
        <ul className="suggestions search-suggestions" id={listId} role="listbox" aria-label={hint?.kind === 'from' ? 'People' : 'Channels'}>
          {options.map((o, i) => (
            <li key={o.key} id={`${listId}-${i}`} role="option" aria-selected={i === selected} className={i === selected ? 'selected' : undefined} onMouseDown={(e) => {
              e.preventDefault();
              choose(o.value);
            }}>
              {o.label}
            </li>
          ))}
        </ul>
      )}
      {focused && hint?.kind === 'date' && <p className="search-help">Type a date as YYYY-MM-DD, e.g. {new Date().toISOString().slice(0, 10)}</p>}
      {focused && !hint && !showHelp && (parsed.problems.length > 0 || describe(parsed).length > 0) && (
        <p className="search-help">{parsed.problems.length ? parsed.problems.join('; ') : describe(parsed).join(' · ')}</p>
      )}
      {showHelp && (
        <dl className="search-help search-syntax">
          {MODIFIER_HELP.map(([k, v]) => (
            <div key={k}>
              <dt>
                <code>{k}</code>
              </dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </form>
  );
}
