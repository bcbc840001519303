import { expect } from 'chai';
import { completeHint, describe as describeSearch, hasCriteria, highlightTerms, isValidDate, normalizeTerms, parseSearch, searchHint, searchRequest, tokenize } from '../../webapp/src/lib/search-syntax.ts';

describe('webapp search syntax', () => {
  it('splits words, keeping quoted phrases whole', () => {
    expect(tokenize('deploy "release notes" -"draft plan" from:alice')).to.deep.equal(['deploy', '"release notes"', '-"draft plan"', 'from:alice']);
  });

  it('reads every construct of the server syntax', () => {
    const p = parseSearch('deploy "release notes" -draft -"old plan" #incident from:@alice in:~ops on:2026-03-01 before:2026-04-01 after:2026-02-01');
    expect(p.words).to.deep.equal(['deploy']);
    expect(p.phrases).to.deep.equal(['release notes']);
    expect(p.excluded).to.deep.equal(['draft', 'old plan']);
    expect(p.hashtags).to.deep.equal(['#incident']);
    expect(p.from).to.deep.equal(['alice']);
    expect(p.in).to.deep.equal(['ops']);
    expect(p.dates).to.deep.equal({ on: '2026-03-01', before: '2026-04-01', after: '2026-02-01' });
    expect(p.problems).to.deep.equal([]);
    expect(describeSearch(p)).to.deep.equal(['from @alice', 'in ~ops', 'on 2026-03-01', 'after 2026-02-01', 'before 2026-04-01', 'without draft', 'without old plan']);
  });

  it('reports impossible dates, empty modifiers and inverted ranges', () => {
    expect(parseSearch('on:2026-02-30').problems).to.deep.equal(['on: wants a date like 2024-03-31, not "2026-02-30"']);
    expect(parseSearch('from: x').problems).to.deep.equal(['from: needs a value']);
    expect(parseSearch('after:2026-05-01 before:2026-04-01').problems).to.deep.equal(['after: is not earlier than before:']);
    expect(isValidDate('2024-02-29')).to.equal(true);
    expect(isValidDate('2023-02-29')).to.equal(false);
  });

  it('accepts modifiers alone as a search, but not nothing', () => {
    expect(hasCriteria(parseSearch('from:alice'))).to.equal(true);
    expect(hasCriteria(parseSearch('   '))).to.equal(false);
    expect(hasCriteria(parseSearch('-draft'))).to.equal(false);
  });

  it('knows which modifier the caret is in, for suggestions', () => {
    expect(searchHint('budget from:al', 14)).to.deep.equal({ kind: 'from', modifier: 'from', query: 'al', start: 12, end: 14 });
    expect(searchHint('in:~of x', 6)).to.deep.equal({ kind: 'in', modifier: 'in', query: 'of', start: 3, end: 6 });
    expect(searchHint('on:20', 5)?.kind).to.equal('date');
    expect(searchHint('plain words', 5)).to.equal(undefined);
  });

  it('completes the value in place and moves the caret past it', () => {
    const text = 'from:al budget';
    const hint = searchHint(text, 7)!;
    expect(completeHint(text, hint, 'alice')).to.deep.equal({ text: 'from:alice budget', caret: 11 });
  });

  it('sends normalised terms with the time zone offset', () => {
    expect(normalizeTerms('  from:@alice   in:~ops  "a  b" ')).to.equal('from:alice in:ops "a  b"');
    expect(searchRequest('x', { timeZoneOffsetSeconds: 3600 })).to.deep.equal({ terms: 'x', is_or_search: false, time_zone_offset: 3600, page: 0, per_page: 20, include_deleted_channels: false });
  });

  it('highlights searched words and phrases, without wildcards', () => {
    expect(highlightTerms(parseSearch('depl* "go live" #ops from:bob -no'))).to.deep.equal(['depl', 'go live', '#ops']);
  });
});
