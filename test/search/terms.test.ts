import { expect } from 'chai';
import { parseSearchTerms } from '../../server/search/terms.ts';

describe('search terms syntax', () => {
  it('splits words, phrases, exclusions, prefixes and hashtags', () => {
    const s = parseSearchTerms('deploy "release notes" -staging roll* #incident -"dry run"');
    expect(s.words).to.deep.equal(['deploy']);
    expect(s.phrases).to.deep.equal(['release notes']);
    expect(s.excluded).to.deep.equal(['staging', 'dry run']);
    expect(s.prefixes).to.deep.equal(['roll']);
    expect(s.hashtags).to.deep.equal(['#incident']);
  });

  it('reads from:, in:, before:, after:, on: and their exclusions', () => {
    const s = parseSearchTerms('from:@Alice -from:bob in:~town-square -in:random before:2026-01-31 after:2025-12-01 on:2026-01-05');
    expect(s.fromUsers).to.deep.equal(['alice']);
    expect(s.excludedFromUsers).to.deep.equal(['bob']);
    expect(s.inChannels).to.deep.equal(['town-square']);
    expect(s.excludedInChannels).to.deep.equal(['random']);
    expect([s.before, s.after, s.on]).to.deep.equal(['2026-01-31', '2025-12-01', '2026-01-05']);
  });

  it('treats a malformed date filter as a plain word instead of failing', () => {
    const s = parseSearchTerms('before:yesterday');
    expect(s.before).to.equal(undefined);
    expect(s.words).to.deep.equal(['before:yesterday']);
  });
});
