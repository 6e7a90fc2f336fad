/**
 * Made-up chat text for the search benchmark, with the word frequencies of real text: words drawn
 * by Zipf's law (the k-th most used word about 1/k as often as the first) from a vocabulary of
 * everyday English, the words of a law firm's work and a long tail of rarer made-up words. The
 * most used word ends up in about three messages of four, the next few in a third to a half, and
 * the tail in a handful each, as in a real archive where "the" and "you" are everywhere and a
 * client's street name is in a dozen messages.
 */
const everyday = (
  'the you to i and a is for it of we on have be your can will that this with please thanks ok me my are at do ' +
  'not about if so just what when need know get would could send there they our from all but no yes hi ' +
  'sent let call today one did been any should has back now also was see tomorrow morning week time up out ' +
  'thank how as by here which some am us its were an dear kind regards soon good again'
).split(' ');

const legal = (
  'contract lease completion survey mortgage deposit exchange signed document documents meeting tuesday ' +
  'office invoice payment court hearing statement witness divorce custody settlement employer dismissal ' +
  'tribunal damages insurance claim property boundary planning permission will probate estate solicitor ' +
  'barrister counsel client letter email draft copy signature passport identity funds transfer bank account ' +
  'completion searches enquiries landlord tenant rent arrears notice possession eviction injunction ' +
  'appeal judgment order consent agreement terms clause deed title register valuation buyer seller chain ' +
  'conveyancing fee estimate quote retainer instruction evidence disclosure bundle affidavit trust executor ' +
  'beneficiary inheritance tax pension salary redundancy grievance disciplinary review mediation ' +
  'arbitration costs listing adjournment summons defendant claimant respondent applicant undertaking'
).split(' ');

const syllables = 'ba be bi bo bu da de di do du fa fe fi ka ke ki ko la le li lo lu ma me mi mo na ne ni no ra re ri ro sa se si so ta te ti to va ve vi za zo'.split(' ');
const endings = 'n r s l t m nd rk st x'.split(' ');

/** A seeded pseudo-random source (a linear congruential generator): the same text every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface Corpus {
  /** The vocabulary, most used first. */
  words: string[];
  /** A message: 2 to 32 words, about 12 on average, as text and as vocabulary indexes. */
  message(): { text: string; words: number[] };
}

export function makeCorpus(options: { vocabulary?: number; seed?: number } = {}): Corpus {
  const size = options.vocabulary ?? 20000;
  const random = seededRandom(options.seed ?? 7);
  const seen = new Set<string>();
  const words: string[] = [];
  for (const word of [...everyday, ...legal]) {
    if (!seen.has(word)) words.push(word);
    seen.add(word);
  }
  while (words.length < size) {
    const parts = 2 + Math.floor(random() * 2);
    let word = '';
    for (let i = 0; i < parts; i += 1) word += syllables[Math.floor(random() * syllables.length)];
    word += endings[Math.floor(random() * endings.length)];
    if (!seen.has(word)) words.push(word);
    seen.add(word);
  }
  // Cumulative Zipf weights (exponent 1), for drawing a word by binary search.
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let k = 0; k < size; k += 1) cumulative[k] = total += 1 / (k + 1);
  const draw = () => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return {
    words,
    message() {
      const length = 2 + Math.floor(random() ** 2 * 31);
      const drawn: number[] = [];
      for (let i = 0; i < length; i += 1) drawn.push(draw());
      return { text: drawn.map((k) => words[k]).join(' '), words: drawn };
    },
  };
}
