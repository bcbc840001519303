import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { uploadFile, type Upload } from '../api/client.ts';
import type { Channel, FileInfo, Team, User } from '../api/types.ts';
import {
  applySuggestion, canSend, CHANNEL_WIDE_MENTIONS, findTrigger, formatBytes, keyAction, moveSelection, rankChannels, rankEmoji, rankUsers, shouldSendTyping, type Trigger,
} from '../lib/composer.ts';
import { emojiChar, emojiNames } from '../lib/emoji.ts';
import { narrowScreen } from '../lib/media.ts';
import { drafts, loadPublicChannels, loadTeamUsers, notify, sendPost, sendTyping } from '../state/actions.ts';
import { store, useAppState } from '../state/store.ts';
import { EmojiPicker } from './EmojiPicker.tsx';
import { Icon } from './Icons.tsx';

const MAX_FILES = 10;
const FIELD_SIZING = typeof CSS !== 'undefined' && CSS.supports('field-sizing', 'content');

interface UploadItem {
  clientId: string;
  name: string;
  size: number;
  progress: number;
  info?: FileInfo;
  error?: string;
  upload?: Upload;
}

interface Suggestion {
  key: string;
  insert: string;
  label: string;
  detail?: string;
}

function suggestionsFor(trigger: Trigger | undefined, users: User[], channels: Channel[], myId: string): Suggestion[] {
  if (!trigger) return [];
  if (trigger.kind === 'mention') {
    const people = rankUsers(users.filter((u) => u.id !== myId), trigger.query).map((u) => ({
      key: u.id,
      insert: `@${u.username}`,
      label: `@${u.username}`,
      detail: [u.first_name, u.last_name].filter(Boolean).join(' ') || u.nickname || undefined,
    }));
    const special = CHANNEL_WIDE_MENTIONS.filter((m) => m.username.startsWith(trigger.query.toLowerCase())).map((m) => ({ key: m.username, insert: `@${m.username}`, label: `@${m.username}`, detail: m.description }));
    return [...people, ...special].slice(0, 8);
  }
  if (trigger.kind === 'channel') {
    return rankChannels(channels, trigger.query).map((c) => ({ key: c.id, insert: `~${c.name}`, label: c.display_name, detail: `~${c.name}` }));
  }
  return rankEmoji(emojiNames, trigger.query).map((n) => ({ key: n, insert: `:${n}:`, label: `${emojiChar(n)} :${n}:` }));
}

interface ComposerProps {
  team: Team;
  channel: Channel;
  rootId?: string;
  placeholder: string;
  /** Files dropped anywhere on this element are attached too. */
  dropZone?: RefObject<HTMLElement | null>;
}

/** The message box: Markdown text with @, ~ and : completion, emoji, files (pick, paste or drop) and Enter to send. */
export function Composer({ team, channel, rootId = '', placeholder, dropZone }: ComposerProps) {
  const draftKey = `${channel.id}:${rootId}`;
  const me = useAppState((s) => s.me)!;
  const maxFileBytes = Number(useAppState((s) => s.config?.MaxFileSize) || 0);
  const myChannels = useAppState((s) => s.teamChannels[team.id]);
  const channelMap = useAppState((s) => s.channels);
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const [trigger, setTrigger] = useState<Trigger>();
  const [selected, setSelected] = useState(0);
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const [emojiOpen, setEmojiOpen] = useState(false);
  const [teamUsers, setTeamUsers] = useState<User[]>([]);
  const [publicChannels, setPublicChannels] = useState<Channel[]>([]);
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTyping = useRef(0);
  const pendingCaret = useRef<number | undefined>(undefined);
  const listId = useId();

  const channels = useMemo(() => {
    const seen = new Map<string, Channel>();
    for (const id of myChannels ?? []) if (channelMap[id]) seen.set(id, channelMap[id]);
    for (const c of publicChannels) if (!seen.has(c.id)) seen.set(c.id, c);
    return [...seen.values()];
  }, [myChannels, channelMap, publicChannels]);
  const suggestions = useMemo(() => suggestionsFor(trigger, teamUsers, channels, me.id), [trigger, teamUsers, channels, me.id]);
  const suggesting = suggestions.length > 0;
  const uploading = uploads.some((u) => !u.info && !u.error);
  const ready = uploads.filter((u) => u.info);

  useEffect(() => {
    drafts.set(draftKey, text);
  }, [draftKey, text]);

  // Grow with the text, up to a limit (then scroll): CSS does it where `field-sizing` exists, without
  // the forced layout of measuring.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    if (!FIELD_SIZING && text !== '') {
      el.style.height = 'auto';
      el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
    } else if (!FIELD_SIZING) el.style.height = '';
    if (pendingCaret.current !== undefined) {
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = undefined;
    }
  }, [text]);

  useEffect(() => {
    // Ready to type after opening a channel, except on phones (the channel title takes focus there).
    if (!rootId && !narrowScreen()) area.current?.focus({ preventScroll: true });
  }, [channel.id, rootId]);

  // Load what completion needs the first time it is asked for.
  useEffect(() => {
    if (trigger?.kind === 'mention' && teamUsers.length === 0) loadTeamUsers(team.id).then(setTeamUsers, () => undefined);
    if (trigger?.kind === 'channel' && publicChannels.length === 0) loadPublicChannels(team.id).then(setPublicChannels, () => undefined);
  }, [trigger?.kind, team.id, teamUsers.length, publicChannels.length]);

  function updateTrigger(value: string, caret: number) {
    const next = findTrigger(value, caret);
    setTrigger(next);
    if (next?.kind !== trigger?.kind || next?.query !== trigger?.query) setSelected(0);
  }

  function accept(s: Suggestion) {
    if (!trigger) return;
    const result = applySuggestion(text, trigger, s.insert);
    pendingCaret.current = result.caret;
    setText(result.text);
    setTrigger(undefined);
  }

  function insertAtCaret(insert: string) {
    const el = area.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const before = text.slice(0, start);
    const spacer = before && !/\s$/.test(before) ? ' ' : '';
    const next = `${before}${spacer}${insert} ${text.slice(end)}`;
    pendingCaret.current = before.length + spacer.length + insert.length + 1;
    setText(next);
    el?.focus();
  }

  function addFiles(files: FileList | File[]) {
    const list = [...files];
    if (uploads.length + list.length > MAX_FILES) {
      notify(`You can attach up to ${MAX_FILES} files to one message.`);
      list.splice(MAX_FILES - uploads.length);
    }
    for (const file of list) {
      const clientId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      if (maxFileBytes && file.size > maxFileBytes) {
        setUploads((u) => [...u, { clientId, name: file.name, size: file.size, progress: 0, error: `Larger than ${formatBytes(maxFileBytes)}` }]);
        continue;
      }
      const upload = uploadFile(channel.id, file, clientId, (progress) => setUploads((u) => u.map((x) => (x.clientId === clientId ? { ...x, progress } : x))));
      setUploads((u) => [...u, { clientId, name: file.name, size: file.size, progress: 0, upload }]);
      upload.promise.then(
        (info) => setUploads((u) => u.map((x) => (x.clientId === clientId ? { ...x, info, progress: 1, upload: undefined } : x))),
        (err: Error) => setUploads((u) => u.map((x) => (x.clientId === clientId ? { ...x, error: err.message, upload: undefined } : x))),
      );
    }
  }

  function removeUpload(clientId: string) {
    setUploads((u) => {
      u.find((x) => x.clientId === clientId)?.upload?.abort();
      return u.filter((x) => x.clientId !== clientId);
    });
  }

  function send() {
    const snapshot = { text, suggesting, files: ready.length, uploading };
    if (!canSend(snapshot)) {
      if (uploading) notify('Wait for the uploads to finish.');
      return;
    }
    const message = text.trim() === '' ? '' : text.replace(/\s+$/, '');
    const infos = ready.map((u) => u.info!);
    setText('');
    setUploads([]);
    setTrigger(undefined);
    drafts.delete(draftKey);
    lastTyping.current = 0;
    void sendPost(channel.id, message, { rootId: rootId || undefined, fileIds: infos.map((f) => f.id), files: infos.length ? { files: infos } : undefined });
  }

  function editLast() {
    const s = store.get();
    const ids = rootId ? (s.threads[rootId] ?? []) : (s.channelPosts[channel.id]?.order ?? []);
    for (let i = ids.length - 1; i >= 0; i--) {
      const p = s.posts[ids[i]];
      if (p && p.user_id === me.id && p.delete_at === 0 && !p.id.startsWith('pending:')) {
        store.set({ editingPostId: p.id });
        return true;
      }
    }
    return false;
  }

  // Files dropped on the whole channel (or thread), not only on the box.
  useEffect(() => {
    const zone = dropZone?.current;
    if (!zone) return;
    let depth = 0;
    const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      if (e.dataTransfer?.files.length) addFiles(e.dataTransfer.files);
    };
    zone.addEventListener('dragenter', enter);
    zone.addEventListener('dragover', over);
    zone.addEventListener('dragleave', leave);
    zone.addEventListener('drop', drop);
    return () => {
      zone.removeEventListener('dragenter', enter);
      zone.removeEventListener('dragover', over);
      zone.removeEventListener('dragleave', leave);
      zone.removeEventListener('drop', drop);
    };
  });

  const activeId = suggesting ? `${listId}-${selected}` : undefined;
  return (
    <div className={`composer${dragging ? ' dragging' : ''}`}>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to attach them
        </div>
      )}
      {suggesting && (
        <ul className="suggestions" id={listId} role="listbox" aria-label="Suggestions">
          {suggestions.map((s, i) => (
            <li
              key={s.key}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === selected}
              className={i === selected ? 'selected' : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(s);
              }}
            >
              <span>{s.label}</span>
              {s.detail && <span className="muted"> {s.detail}</span>}
            </li>
          ))}
        </ul>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Attachments">
          {uploads.map((u) => (
            <li key={u.clientId} className={`upload${u.error ? ' upload-error' : ''}`}>
              <span className="file-name">{u.name}</span>
              <span className="muted">{u.error ?? formatBytes(u.size)}</span>
              {!u.info && !u.error && <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />}
              {u.info && <span className="upload-done" aria-label="Uploaded">✓</span>}
              <button type="button" className="icon-button" aria-label={`Remove ${u.name}`} onClick={() => removeUpload(u.clientId)}>
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <button type="button" className="icon-button" aria-label="Attach files" title="Attach files" onClick={() => fileInput.current?.click()}>
          <Icon name="attach" />
        </button>
        <input ref={fileInput} type="file" multiple hidden data-testid="file-input" onChange={(e) => {
          if (e.target.files) addFiles(e.target.files);
          e.target.value = '';
        }} />
        <textarea
          ref={area}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={placeholder}
          aria-label={placeholder}
          role="combobox"
          aria-expanded={suggesting}
          aria-controls={suggesting ? listId : undefined}
          aria-activedescendant={activeId}
          aria-autocomplete="list"
          onChange={(e) => {
            setText(e.target.value);
            updateTrigger(e.target.value, e.target.selectionStart);
            const now = Date.now();
            if (e.target.value && shouldSendTyping(lastTyping.current, now)) {
              lastTyping.current = now;
              sendTyping(channel.id, rootId);
            }
          }}
          onSelect={(e) => updateTrigger(e.currentTarget.value, e.currentTarget.selectionStart)}
          onBlur={() => setTrigger(undefined)}
          onPaste={(e) => {
            if (e.clipboardData.files.length > 0) {
              e.preventDefault();
              addFiles(e.clipboardData.files);
            }
          }}
          onKeyDown={(e) => {
            const action = keyAction({ key: e.key, shiftKey: e.shiftKey, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, isComposing: e.nativeEvent.isComposing }, { text, suggesting, files: uploads.length, uploading });
            switch (action) {
              case 'send':
                e.preventDefault();
                send();
                break;
              case 'accept-suggestion':
                e.preventDefault();
                accept(suggestions[selected]);
                break;
              case 'suggestion-up':
              case 'suggestion-down':
                e.preventDefault();
                setSelected((i) => moveSelection(i, action === 'suggestion-up' ? -1 : 1, suggestions.length));
                break;
              case 'close-suggestions':
                e.preventDefault();
                setTrigger(undefined);
                break;
              case 'edit-last':
                if (editLast()) e.preventDefault();
                break;
              default:
                break;
            }
          }}
        />
        <div className="emoji-anchor">
          <button type="button" className="icon-button" aria-label="Insert emoji" aria-expanded={emojiOpen} title="Emoji" onClick={() => setEmojiOpen((v) => !v)}>
            <Icon name="smile" />
          </button>
          {emojiOpen && (
            <EmojiPicker
              onClose={() => setEmojiOpen(false)}
              onPick={(name) => {
                setEmojiOpen(false);
                insertAtCaret(`:${name}:`);
              }}
            />
          )}
        </div>
        <button type="button" className="primary send-button" aria-label="Send" disabled={!canSend({ text, suggesting, files: ready.length, uploading })} onClick={send}>
          Send
        </button>
      </div>
      <p className="composer-help muted">
        <kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line. **bold**, _italic_, `code`.
      </p>
    </div>
  );
}
