// Legal holds: create one (custodians, groups, channels, a date range, an optional query), list them
// (released ones on request), release one with a comment after a confirmation.
import { useRef, useState, type FormEvent } from 'react';
import { complianceApi, type Hold, type NewHold } from './api.ts';
import { DirectoryPicker, type Picked } from './DirectoryPicker.tsx';
import { dateInputToMs, holdProblems, stamp } from './logic.ts';
import { ErrorMessage, ListState, useAction, useLoad } from './shared.tsx';

const emptyForm = { display_name: '', description: '', users: [] as Picked[], groups: [] as Picked[], channels: [] as Picked[], from: '', to: '', query: '', comment: '' };

/** The API body of the form. */
function holdOf(f: typeof emptyForm): NewHold {
  return {
    display_name: f.display_name.trim(), description: f.description, query: f.query.trim(), comment: f.comment,
    user_ids: f.users.map((p) => p.id), group_ids: f.groups.map((p) => p.id), channel_ids: f.channels.map((p) => p.id),
    starts_at: dateInputToMs(f.from), ends_at: dateInputToMs(f.to, true),
  };
}

function HoldForm({ onCreated }: { onCreated(hold: Hold): void }) {
  const [form, setForm] = useState(emptyForm);
  const [problems, setProblems] = useState<string[]>([]);
  const action = useAction();
  const nameInput = useRef<HTMLInputElement>(null);
  const set = <K extends keyof typeof emptyForm>(key: K, value: (typeof emptyForm)[K]) => setForm((f) => ({ ...f, [key]: value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = holdOf(form);
    const found = holdProblems(body);
    setProblems(found);
    if (found.length) return;
    const created = await action.run(() => complianceApi.createHold(body));
    if (created) {
      setForm(emptyForm);
      onCreated(created);
      nameInput.current?.focus();
    }
  };

  return (
    <form className="cc-card" onSubmit={(e) => void submit(e)} aria-labelledby="new-hold-title" noValidate>
      <h3 id="new-hold-title">New legal hold</h3>
      <div className="cc-grid">
        <label>
          Name
          <input ref={nameInput} value={form.display_name} onChange={(e) => set('display_name', e.target.value)} required maxLength={128} />
        </label>
        <label>
          Description
          <input value={form.description} onChange={(e) => set('description', e.target.value)} maxLength={4000} />
        </label>
        <DirectoryPicker kind="users" label="Custodians" value={form.users} onChange={(v) => set('users', v)} />
        <DirectoryPicker kind="groups" label="Groups" value={form.groups} onChange={(v) => set('groups', v)} />
        <DirectoryPicker kind="channels" label="Channels" value={form.channels} onChange={(v) => set('channels', v)} />
        <label>
          Only messages matching (optional)
          <input value={form.query} onChange={(e) => set('query', e.target.value)} placeholder='e.g. invoice OR "purchase order"' maxLength={4000} />
        </label>
        <label>
          From (optional)
          <input type="date" value={form.from} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label>
          To (optional, open when empty)
          <input type="date" value={form.to} onChange={(e) => set('to', e.target.value)} />
        </label>
        <label className="cc-wide">
          Comment for the record (optional)
          <input value={form.comment} onChange={(e) => set('comment', e.target.value)} maxLength={4000} />
        </label>
      </div>
      {problems.length > 0 && (
        <ul className="cc-error" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <ErrorMessage>{action.error}</ErrorMessage>
      <button type="submit" className="primary" disabled={action.busy}>
        {action.busy ? 'Creating…' : 'Create hold'}
      </button>
    </form>
  );
}

function scopeText(h: Hold): string {
  const parts = [
    h.user_ids.length && `${h.user_ids.length} custodian${h.user_ids.length === 1 ? '' : 's'}`,
    h.group_ids.length && `${h.group_ids.length} group${h.group_ids.length === 1 ? '' : 's'}`,
    h.channel_ids.length && `${h.channel_ids.length} channel${h.channel_ids.length === 1 ? '' : 's'}`,
  ].filter(Boolean);
  return parts.join(', ');
}

function ReleaseButton({ hold, onReleased }: { hold: Hold; onReleased(): void }) {
  const [confirming, setConfirming] = useState(false);
  const [comment, setComment] = useState('');
  const action = useAction();
  if (!confirming) {
    return (
      <button type="button" onClick={() => setConfirming(true)} aria-label={`Release ${hold.display_name}`}>
        Release
      </button>
    );
  }
  const release = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => complianceApi.releaseHold(hold.id, comment))) onReleased();
  };
  return (
    <form className="cc-confirm" onSubmit={(e) => void release(e)} aria-label={`Release ${hold.display_name}`}>
      <p>Released content can be deleted by retention again.</p>
      <label>
        Reason
        <input autoFocus value={comment} onChange={(e) => setComment(e.target.value)} maxLength={4000} />
      </label>
      <button type="submit" className="cc-danger" disabled={action.busy}>
        Confirm release
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Keep the hold
      </button>
      <ErrorMessage>{action.error}</ErrorMessage>
    </form>
  );
}

export function HoldsPage() {
  const [showReleased, setShowReleased] = useState(false);
  const holds = useLoad(() => complianceApi.holds(showReleased), [showReleased]);
  const [announce, setAnnounce] = useState('');

  return (
    <>
      <HoldForm
        onCreated={(h) => {
          setAnnounce(`Legal hold “${h.display_name}” created.`);
          void holds.reload();
        }}
      />
      <p className="visually-hidden" role="status">
        {announce}
      </p>
      <div className="cc-list-header">
        <h3>Holds</h3>
        <label className="cc-check">
          <input type="checkbox" checked={showReleased} onChange={(e) => setShowReleased(e.target.checked)} /> Show released holds
        </label>
      </div>
      <ListState loaded={holds} empty="No legal hold is in force." isEmpty={holds.data?.length === 0} />
      {!!holds.data?.length && (
        <div className="cc-table-wrap">
          <table className="cc-table">
            <caption className="visually-hidden">Legal holds</caption>
            <thead>
              <tr>
                <th scope="col">Hold</th>
                <th scope="col">Scope</th>
                <th scope="col">Range</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {holds.data.map((h) => (
                <tr key={h.id} data-hold-id={h.id}>
                  <td data-label="Hold">
                    <strong>{h.display_name}</strong>
                    <div className="cc-muted cc-small">
                      {h.name} · v{h.version} · since {stamp(h.hold_create_at)}
                    </div>
                    {h.description && <div className="cc-small">{h.description}</div>}
                  </td>
                  <td data-label="Scope">
                    {scopeText(h)}
                    {h.query && <div className="cc-small">matching “{h.query}”</div>}
                  </td>
                  <td data-label="Range">
                    {h.starts_at ? stamp(h.starts_at) : 'All history'} → {h.ends_at ? stamp(h.ends_at) : 'open'}
                  </td>
                  <td data-label="Status">
                    <span className={`cc-status cc-status-${h.status}`}>{h.status === 'active' ? 'Active' : `Released ${stamp(h.released_at)}`}</span>
                  </td>
                  <td data-label="Actions" className="cc-actions">
                    {h.status === 'active' && (
                      <ReleaseButton
                        hold={h}
                        onReleased={() => {
                          setAnnounce(`Legal hold “${h.display_name}” released.`);
                          void holds.reload();
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
