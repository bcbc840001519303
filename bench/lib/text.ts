// Chat-like message text for seeding and for simulated users: English function words and a long tail
// of invented words drawn with a Zipf-like skew, at the lengths people type (mostly one line, a few
// paragraphs), so full-text search sees realistic term frequencies and posts have realistic sizes.

const common = (
  'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all ' +
  'would there their what so up out if about who get which go me when make can like time no just him know take people into year your ' +
  'good some could them see other than then now look only come its over think also back after use two how our work first well way even ' +
  'new want because any these give day most us is are was were been has had did does done ok okay yes thanks thank please sure great ' +
  'deploy release build test tests failing fixed fix bug issue ticket review merge branch main staging prod production server database ' +
  'query index latency cpu memory disk network outage incident postmortem alert pager oncall meeting standup sync call notes agenda ' +
  'tomorrow today yesterday morning afternoon tonight week monday tuesday wednesday thursday friday lunch coffee customer contract ' +
  'invoice budget quarter roadmap design spec draft doc docs slide deck feedback question answer idea plan launch migrate backup restore ' +
  'config token password login sso saml ldap audit compliance export retention policy legal hold channel team thread message post reply'
).split(' ');

/** Deterministic pseudo-random numbers (mulberry32), so seeded data is the same run after run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const syllables = ['ka', 'lo', 'mi', 'tren', 'dor', 'vex', 'sa', 'qui', 'bro', 'nel', 'tar', 'fin', 'zu', 'pra', 'gol', 'hem', 'ri', 'sto', 'wen', 'cal'];

/** A vocabulary: the common words first (most frequent), then `tail` invented words. */
export function vocabulary(tail = 10_000, seed = 7): string[] {
  const random = rng(seed);
  const words = [...common];
  const seen = new Set(words);
  while (words.length < common.length + tail) {
    const n = 2 + (random() < 0.6 ? 1 : 0) + (random() < 0.2 ? 1 : 0);
    let w = '';
    for (let i = 0; i < n; i++) w += syllables[Math.floor(random() * syllables.length)];
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

/**
 * Makes message texts: 65 % short lines (3-12 words), 28 % medium (12-30), 7 % paragraphs (30-90);
 * about 120 bytes on average, half under 70. Words follow a Zipf-like law over `words`.
 */
export function messageMaker(words: string[], seed = 11): () => string {
  const random = rng(seed);
  // Zipf (s = 1): rank k with probability about 1/k, by inverting the harmonic sum.
  const pick = () => words[Math.min(words.length - 1, Math.floor((words.length + 1) ** random()) - 1)];
  return () => {
    const r = random();
    const count = r < 0.65 ? 3 + Math.floor(random() * 10) : r < 0.93 ? 12 + Math.floor(random() * 19) : 30 + Math.floor(random() * 61);
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(pick());
    let text = out.join(' ');
    text = text[0].toUpperCase() + text.slice(1);
    return count > 12 && random() < 0.5 ? text + '.' : text;
  };
}
