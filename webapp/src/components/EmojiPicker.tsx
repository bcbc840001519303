import { useEffect, useRef, useState } from 'react';
import { rankEmoji } from '../lib/composer.ts';
import { emojiChar, emojiNames } from '../lib/emoji.ts';

/** Aliases (`thumbsup` is `+1`) are found by search but not listed twice. */
const PICKER_NAMES = emojiNames.filter((n) => n !== 'thumbsup' && n !== 'thumbsdown');

/** A small emoji picker: type to filter, arrows or Tab to move, Enter or click to pick, Escape to close. */
export function EmojiPicker({ onPick, onClose, label = 'Pick an emoji' }: { onPick: (name: string) => void; onClose: () => void; label?: string }) {
  const [query, setQuery] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const names = query ? rankEmoji(emojiNames, query, 60) : PICKER_NAMES;

  useEffect(() => {
    input.current?.focus();
    const outside = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [onClose]);

  return (
    <div
      className="emoji-picker"
      role="dialog"
      aria-label={label}
      ref={root}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <input
        ref={input}
        type="search"
        aria-label="Search emoji"
        placeholder="Search emoji"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && names[0]) {
            e.preventDefault();
            onPick(names[0]);
          }
        }}
      />
      <div className="emoji-grid">
        {names.map((name) => (
          <button key={name} type="button" className="emoji-choice" title={`:${name}:`} aria-label={name.replace(/_/g, ' ')} onClick={() => onPick(name)}>
            {emojiChar(name)}
          </button>
        ))}
      </div>
    </div>
  );
}
