// Data retention: the global policy and custom policies on teams and channels. Every change is
// previewed (what the purge would delete now, per team and channel, what holds and pins spare)
// before it can be saved, and saving is offered only for exactly what was previewed.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { complianceApi, type CustomPolicy, type GlobalPolicy, type PolicyDraft, type RetentionPreview } from './api.ts';
import { DirectoryPicker, labelIds, type Picked } from './DirectoryPicker.tsx';
import { daysOf, idChanges, policyProblems, proposalKey, stamp } from './logic.ts';
import { ErrorMessage, ListState, useAction, useLoad } from './shared.tsx';
import { formatBytes } from '../../lib/composer.ts';

export function PreviewSummary({ preview }: { preview: RetentionPreview }) {
  const t = preview.totals;
  return (
    <section className="cc-preview" aria-label="Deletion preview">
      <p>
        <strong>
          {t.posts === 0 ? 'Nothing would be deleted now.' : `${t.posts} message${t.posts === 1 ? '' : 's'} would be deleted now`}
        </strong>
        {t.posts > 0 && ` (${stamp(t.oldest)} to ${stamp(t.newest)})`}
        {t.files > 0 && `, with ${t.files} attached file${t.files === 1 ? '' : 's'}`}
        {t.posts > 0 && '.'}{' '}
        {t.held_excluded > 0 && `${t.held_excluded} spared by legal holds. `}
        {t.pinned_excluded > 0 && `${t.pinned_excluded} pinned spared. `}
        {preview.file_deletion.enabled && preview.file_deletion.files > 0 && `File retention would remove ${preview.file_deletion.files} files (${formatBytes(preview.file_deletion.bytes)}).`}
      </p>
      {preview.channels.length > 0 && (
        <div className="cc-table-wrap">
          <table className="cc-table">
            <caption>By channel</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Messages</th>
                <th scope="col">Oldest → newest</th>
                <th scope="col">Spared (holds / pinned)</th>
              </tr>
            </thead>
            <tbody>
              {preview.channels.slice(0, 50).map((c) => (
                <tr key={c.channel_id}>
                  <td data-label="Channel">
                    {c.channel_display_name} <span className="cc-muted">· {c.team_name || 'direct'}</span>
                  </td>
                  <td data-label="Messages">{c.posts}</td>
                  <td data-label="Oldest → newest">
                    {stamp(c.oldest)} → {stamp(c.newest)}
                  </td>
                  <td data-label="Spared">
                    {c.held_excluded} / {c.pinned_excluded}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Preview, then save what was previewed: the buttons and the preview of one form. */
function PreviewThenSave({ proposal, problems, onPreview, onSave, saveLabel, children }: {
  proposal: unknown;
  problems: string[];
  onPreview(): Promise<RetentionPreview>;
  onSave(): Promise<unknown>;
  saveLabel: string;
  children?: ReactNode;
}) {
  const [preview, setPreview] = useState<{ key: string; result: RetentionPreview } | undefined>(undefined);
  const action = useAction();
  const [saved, setSaved] = useState('');
  const key = proposalKey(proposal);
  const current = preview?.key === key;
  const runPreview = async () => {
    setSaved('');
    const result = await action.run(onPreview);
    if (result) setPreview({ key, result });
  };
  const save = async () => {
    if (await action.run(onSave)) {
      setSaved('Saved.');
      setPreview(undefined);
    }
  };
  return (
    <div className="cc-preview-block" aria-live="polite">
      {problems.length > 0 && (
        <ul className="cc-error">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {children}
      <div className="cc-buttons">
        <button type="button" onClick={() => void runPreview()} disabled={action.busy || problems.length > 0}>
          {action.busy && !current ? 'Previewing…' : 'Preview deletions'}
        </button>
        <button type="button" className="primary" onClick={() => void save()} disabled={action.busy || !current || problems.length > 0}>
          {saveLabel}
        </button>
        {!current && !saved && <span className="cc-muted cc-small">Preview the change to save it.</span>}
        {saved && <span role="status">{saved}</span>}
      </div>
      <ErrorMessage>{action.error}</ErrorMessage>
      {preview && current && <PreviewSummary preview={preview.result} />}
    </div>
  );
}

function GlobalPolicyForm({ policy, onSaved }: { policy: GlobalPolicy; onSaved(): void }) {
  const [form, setForm] = useState({
    messages: policy.message_deletion_enabled, messageDays: daysOf(policy.message_retention_hours),
    files: policy.file_deletion_enabled, fileDays: daysOf(policy.file_retention_hours), keepPinned: policy.keep_pinned,
  });
  const proposal: GlobalPolicy = {
    message_deletion_enabled: form.messages, message_retention_hours: form.messageDays * 24,
    file_deletion_enabled: form.files, file_retention_hours: form.fileDays * 24, keep_pinned: form.keepPinned,
  };
  const problems = [form.messageDays, form.fileDays].some((d) => !Number.isInteger(d) || d < 1 || d > 36500) ? ['Keep content 1 to 36500 days.'] : [];
  return (
    <form className="cc-card" aria-labelledby="global-policy-title" onSubmit={(e) => e.preventDefault()}>
      <h3 id="global-policy-title">Global policy</h3>
      <p className="cc-muted cc-small">Applies wherever no custom policy does. A channel’s policy wins over its team’s.</p>
      <div className="cc-grid">
        <label className="cc-check">
          <input type="checkbox" checked={form.messages} onChange={(e) => setForm({ ...form, messages: e.target.checked })} /> Delete messages
        </label>
        <label>
          Keep messages (days)
          <input type="number" min={1} max={36500} value={form.messageDays} disabled={!form.messages} onChange={(e) => setForm({ ...form, messageDays: e.target.valueAsNumber })} />
        </label>
        <label className="cc-check">
          <input type="checkbox" checked={form.files} onChange={(e) => setForm({ ...form, files: e.target.checked })} /> Delete files
        </label>
        <label>
          Keep files (days)
          <input type="number" min={1} max={36500} value={form.fileDays} disabled={!form.files} onChange={(e) => setForm({ ...form, fileDays: e.target.valueAsNumber })} />
        </label>
        <label className="cc-check">
          <input type="checkbox" checked={form.keepPinned} onChange={(e) => setForm({ ...form, keepPinned: e.target.checked })} /> Keep pinned messages
        </label>
      </div>
      <PreviewThenSave
        proposal={proposal}
        problems={problems}
        onPreview={() => complianceApi.preview({ global: proposal })}
        onSave={async () => {
          const saved = await complianceApi.setGlobalPolicy(proposal);
          onSaved();
          return saved;
        }}
        saveLabel="Save global policy"
      />
    </form>
  );
}

interface EditorState {
  id?: string;
  display_name: string;
  forever: boolean;
  days: number;
  keep_pinned: boolean;
  teams: Picked[];
  channels: Picked[];
  /** The targets as loaded, to send only what changed. */
  before: { teams: string[]; channels: string[] };
}

function PolicyEditor({ initial, onDone }: { initial: EditorState; onDone(saved: boolean): void }) {
  const [s, setS] = useState(initial);
  const draft: PolicyDraft = {
    display_name: s.display_name.trim(), post_duration: s.forever ? -1 : s.days, keep_pinned: s.keep_pinned,
    team_ids: s.teams.map((t) => t.id), channel_ids: s.channels.map((c) => c.id),
  };
  const save = async () => {
    if (!s.id) return complianceApi.createPolicy(draft);
    await complianceApi.patchPolicy(s.id, { display_name: draft.display_name, post_duration: draft.post_duration, keep_pinned: draft.keep_pinned });
    for (const kind of ['teams', 'channels'] as const) {
      const change = idChanges(s.before[kind], kind === 'teams' ? draft.team_ids : draft.channel_ids);
      if (change.remove.length) await complianceApi.changePolicyTargets(s.id, kind, 'remove', change.remove);
      if (change.add.length) await complianceApi.changePolicyTargets(s.id, kind, 'add', change.add);
    }
    return true;
  };
  return (
    <form className="cc-card" aria-labelledby="policy-editor-title" onSubmit={(e: FormEvent) => e.preventDefault()}>
      <h3 id="policy-editor-title" tabIndex={-1}>
        {s.id ? `Edit “${initial.display_name}”` : 'New custom policy'}
      </h3>
      <div className="cc-grid">
        <label>
          Name
          <input value={s.display_name} onChange={(e) => setS({ ...s, display_name: e.target.value })} maxLength={64} />
        </label>
        <label className="cc-check">
          <input type="checkbox" checked={s.forever} onChange={(e) => setS({ ...s, forever: e.target.checked })} /> Keep messages forever
        </label>
        <label>
          Keep messages (days)
          <input type="number" min={1} max={36500} value={s.days} disabled={s.forever} onChange={(e) => setS({ ...s, days: e.target.valueAsNumber })} />
        </label>
        <label className="cc-check">
          <input type="checkbox" checked={s.keep_pinned} onChange={(e) => setS({ ...s, keep_pinned: e.target.checked })} /> Keep pinned messages
        </label>
        <DirectoryPicker kind="teams" label="Teams" value={s.teams} onChange={(teams) => setS({ ...s, teams })} />
        <DirectoryPicker kind="channels" label="Channels" value={s.channels} onChange={(channels) => setS({ ...s, channels })} />
      </div>
      <PreviewThenSave
        proposal={draft}
        problems={policyProblems(draft)}
        onPreview={() => complianceApi.preview({ policy: { ...(s.id ? { id: s.id } : {}), post_duration: draft.post_duration, keep_pinned: draft.keep_pinned, team_ids: draft.team_ids, channel_ids: draft.channel_ids } })}
        onSave={async () => {
          const done = await save();
          onDone(true);
          return done;
        }}
        saveLabel="Save policy"
      >
        <button type="button" onClick={() => onDone(false)}>
          Close editor
        </button>
      </PreviewThenSave>
    </form>
  );
}

const newPolicy: EditorState = { display_name: '', forever: false, days: 365, keep_pinned: false, teams: [], channels: [], before: { teams: [], channels: [] } };

async function editorFor(p: CustomPolicy): Promise<EditorState> {
  const [teams, channels] = await Promise.all([complianceApi.policyTeams(p.id), complianceApi.policyChannels(p.id)]);
  const teamIds = teams.map((t) => t.id);
  const channelIds = channels.channels.map((c) => c.id);
  return {
    id: p.id, display_name: p.display_name, forever: p.post_duration === -1, days: p.post_duration === -1 ? 365 : p.post_duration, keep_pinned: p.keep_pinned,
    teams: await labelIds('teams', teamIds), channels: await labelIds('channels', channelIds), before: { teams: teamIds, channels: channelIds },
  };
}

export function RetentionPage() {
  const global = useLoad(() => complianceApi.globalPolicy(), []);
  const policies = useLoad(() => complianceApi.policies(), []);
  const [editing, setEditing] = useState<EditorState | undefined>(undefined);
  const action = useAction();

  useEffect(() => {
    if (editing) document.getElementById('policy-editor-title')?.focus();
  }, [editing]);

  const remove = async (p: CustomPolicy) => {
    if (!window.confirm(`Delete the policy “${p.display_name}”? Its teams and channels fall back to the global policy.`)) return;
    if (await action.run(() => complianceApi.deletePolicy(p.id))) await policies.reload();
  };

  return (
    <>
      {global.error && <ErrorMessage>{global.error}</ErrorMessage>}
      {global.data && <GlobalPolicyForm key={JSON.stringify(global.data)} policy={global.data} onSaved={() => void global.reload()} />}
      <div className="cc-list-header">
        <h3>Custom policies</h3>
        <button type="button" onClick={() => setEditing(newPolicy)}>
          New policy
        </button>
      </div>
      {editing && (
        <PolicyEditor
          key={editing.id ?? 'new'}
          initial={editing}
          onDone={(saved) => {
            setEditing(undefined);
            if (saved) void policies.reload();
          }}
        />
      )}
      <ErrorMessage>{action.error}</ErrorMessage>
      <ListState loaded={policies} empty="No custom policy: the global policy applies everywhere." isEmpty={policies.data?.policies.length === 0} />
      {!!policies.data?.policies.length && (
        <div className="cc-table-wrap">
          <table className="cc-table">
            <caption className="visually-hidden">Custom retention policies</caption>
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Keeps messages</th>
                <th scope="col">Applies to</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {policies.data.policies.map((p) => (
                <tr key={p.id}>
                  <td data-label="Policy">{p.display_name}</td>
                  <td data-label="Keeps messages">
                    {p.post_duration === -1 ? 'Forever' : `${p.post_duration} days`}
                    {p.keep_pinned && <div className="cc-small cc-muted">pinned kept</div>}
                  </td>
                  <td data-label="Applies to">
                    {p.team_count} teams, {p.channel_count} channels
                  </td>
                  <td data-label="Actions" className="cc-actions">
                    <button type="button" aria-label={`Edit ${p.display_name}`} onClick={() => void action.run(async () => setEditing(await editorFor(p)))}>
                      Edit
                    </button>
                    <button type="button" className="cc-danger" aria-label={`Delete ${p.display_name}`} onClick={() => void remove(p)}>
                      Delete
                    </button>
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
