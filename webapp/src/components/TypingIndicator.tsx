import { typingText } from '../lib/composer.ts';
import { useAppState } from '../state/store.ts';

/** "alice is typing…" under the message list (or a thread). */
export function TypingIndicator({ typingKey }: { typingKey: string }) {
  const typing = useAppState((s) => s.typing[typingKey]);
  const users = useAppState((s) => s.users);
  const names = Object.keys(typing ?? {}).map((id) => users[id]?.username ?? 'Someone');
  return (
    <div className="typing" aria-live="polite">
      {typingText(names)}
    </div>
  );
}
